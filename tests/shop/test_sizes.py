"""Sizes: natural order, the product page's picker, cart lines per size, checkout per size, removed sizes."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from shop.errors import ApplicationError, OutOfStock
from shop.models import CartItem, Order, Product, ProductVariant
from shop.services.carts import cart_add_item, cart_add_look
from shop.services.orders import order_place
from shop.services.variants import product_stock_total, variant_create, variant_set_stock
from shop.sizes import ONE_SIZE, size_normalise, size_rank, variant_sku_for
from tests.checkout_race import race_to_checkout
from tests.factories import CartFactory, CategoryFactory, ProductFactory, UserFactory


def sizes_of(product) -> dict[str, int]:
    return dict(ProductVariant.objects.filter(product=product).values_list("size", "stock"))


def variant(product, size) -> ProductVariant:
    return ProductVariant.objects.get(product=product, size=size)


def test_sizes_sort_in_their_natural_order_not_alphabetically():
    letters = ["XL", "S", "XXL", "M", "XS", "L"]
    shoes = ["42", "38.5", "36", "46", "40"]
    assert sorted(letters, key=size_rank) == ["XS", "S", "M", "L", "XL", "XXL"]
    assert sorted(shoes, key=size_rank) == ["36", "38.5", "40", "42", "46"]
    assert sorted([*shoes, ONE_SIZE, "M"], key=size_rank)[:2] == [ONE_SIZE, "M"]


def test_size_labels_are_written_one_way():
    assert [size_normalise(s) for s in ("m", " xl ", "2XL", "one size", "38,5", "42")] == [
        "M",
        "XL",
        "XXL",
        ONE_SIZE,
        "38.5",
        "42",
    ]
    assert variant_sku_for("TEE-1", "M") == "TEE-1-M" and variant_sku_for("HAT-1", ONE_SIZE) == "HAT-1"
    with pytest.raises(ValueError):
        size_normalise("  ")


@pytest.mark.django_db
def test_variants_list_in_size_order_and_a_variant_sku_is_unique_across_products():
    shirt = ProductFactory(sku="TEE-1", sizes={"XL": 1, "S": 2, "M": 0})
    assert list(shirt.variants.values_list("size", flat=True)) == ["S", "M", "XL"]
    other = ProductFactory(sku="TEE-2")
    with pytest.raises(ApplicationError, match="already used by"):
        variant_create(product=other, size="M", sku="TEE-1-M")


@pytest.mark.django_db
def test_the_product_stock_is_the_total_of_its_sizes_through_the_services():
    shirt = ProductFactory(sizes={"S": 2, "M": 3})
    variant_create(product=shirt, size="l", stock=4)
    variant_set_stock(variant_id=variant(shirt, "S").pk, stock=0)
    shirt.refresh_from_db()
    assert sizes_of(shirt) == {"S": 0, "M": 3, "L": 4}
    assert shirt.stock == product_stock_total(product_id=shirt.pk) == 7


# The product page


@pytest.mark.django_db
def test_the_product_page_has_a_size_picker_with_sold_out_sizes_shown_but_disabled(client):
    shirt = ProductFactory(sizes={"L": 4, "S": 2, "M": 0})
    html = client.get(shirt.get_absolute_url()).content.decode()
    picker = html[html.index('data-testid="size-picker"') :]
    options = re.findall(r"<option value=\"(\d*)\"([^>]*)>([^<]*)</option>", picker[: picker.index("</select>")])
    assert [(label, "disabled" in attrs) for _, attrs, label in options] == [
        ("Choose a size", False),
        ("S", False),
        ("M (sold out)", True),
        ("L", False),
    ]


@pytest.mark.django_db
def test_a_one_size_product_needs_no_size_choice(client):
    hat = ProductFactory(stock=3)
    html = client.get(hat.get_absolute_url()).content.decode()
    assert 'data-testid="size-picker"' not in html
    client.post(reverse("shop:cart-add", args=[hat.pk]), {"quantity": 1})
    assert CartItem.objects.get().variant == variant(hat, ONE_SIZE)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("size", "message"),
    [
        ("999999", "That size does not exist for this product."),
        ("M", "That size does not exist"),
        ("", "Choose a size"),
    ],
)
def test_an_unknown_or_missing_size_is_a_400_with_the_error_on_the_picker(client, size, message):
    shirt = ProductFactory(sizes={"S": 2, "M": 1})
    other = ProductFactory(sizes={"S": 1, "M": 1})
    posted = str(variant(other, "M").pk) if size == "M" else size  # another product's size
    response = client.post(reverse("shop:cart-add", args=[shirt.pk]), {"quantity": 1, "size": posted})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="size-error"' in html and message in html
    assert not CartItem.objects.exists()


@pytest.mark.django_db
def test_a_sold_out_size_posted_anyway_is_refused_on_the_picker(client):
    shirt = ProductFactory(sizes={"S": 2, "M": 0})
    response = client.post(reverse("shop:cart-add", args=[shirt.pk]), {"quantity": 1, "size": variant(shirt, "M").pk})
    assert response.status_code == 400 and "Size M is sold out." in response.content.decode()
    assert not CartItem.objects.exists()


@pytest.mark.django_db
def test_the_same_product_in_two_sizes_is_two_cart_lines(client):
    shirt = ProductFactory(name="Oxford shirt", sizes={"S": 2, "M": 3})
    for size, quantity in (("S", 1), ("M", 2), ("S", 1)):
        client.post(reverse("shop:cart-add", args=[shirt.pk]), {"quantity": quantity, "size": variant(shirt, size).pk})
    assert sorted(CartItem.objects.values_list("size", "quantity")) == [("M", 2), ("S", 2)]
    html = client.get(reverse("shop:cart")).content.decode()
    assert html.count('data-testid="cart-line"') == 2 and "Size S" in html and "Size M" in html

    # Each line is changed and removed on its own.
    client.post(reverse("shop:cart-update", args=[shirt.pk]), {"quantity": 3, "variant": variant(shirt, "M").pk})
    client.post(reverse("shop:cart-remove", args=[shirt.pk]), {"variant": variant(shirt, "S").pk})
    assert list(CartItem.objects.values_list("size", "quantity")) == [("M", 3)]


@pytest.mark.django_db
def test_the_cart_refuses_more_than_one_sizes_stock(client):
    shirt = ProductFactory(name="Oxford shirt", sizes={"S": 1, "M": 9})
    response = client.post(
        reverse("shop:cart-add", args=[shirt.pk]), {"quantity": 2, "size": variant(shirt, "S").pk}, follow=True
    )
    assert "Only 1 of Oxford shirt in size S in stock." in response.content.decode()


# Checkout


@pytest.mark.django_db
def test_checkout_takes_stock_from_the_size_and_the_total_and_freezes_the_size_on_the_order():
    user = UserFactory()
    shirt = ProductFactory(sku="OXF", price=Decimal("30.00"), sizes={"S": 2, "M": 3, "L": 1})
    cart = CartFactory(user=user)
    cart_add_item(cart=cart, product_id=shirt.pk, quantity=2, variant_id=variant(shirt, "M").pk)
    cart_add_item(cart=cart, product_id=shirt.pk, quantity=1, variant_id=variant(shirt, "L").pk)

    order = order_place(cart=cart, user=user, shipping_name="A", shipping_address="B")

    assert order.total == Decimal("90.00")
    assert sorted(order.items.values_list("size", "variant_sku", "sku", "quantity")) == [
        ("L", "OXF-L", "OXF", 1),
        ("M", "OXF-M", "OXF", 2),
    ]
    shirt.refresh_from_db()
    assert sizes_of(shirt) == {"S": 2, "M": 1, "L": 0}
    assert shirt.stock == 3 == product_stock_total(product_id=shirt.pk)


@pytest.mark.django_db
def test_checkout_refuses_a_size_sold_out_meanwhile_and_changes_nothing():
    user = UserFactory()
    shirt = ProductFactory(sizes={"S": 2, "M": 1})
    cart = CartFactory(user=user)
    cart_add_item(cart=cart, product_id=shirt.pk, quantity=1, variant_id=variant(shirt, "S").pk)
    cart_add_item(cart=cart, product_id=shirt.pk, quantity=1, variant_id=variant(shirt, "M").pk)
    variant_set_stock(variant_id=variant(shirt, "M").pk, stock=0)

    with pytest.raises(OutOfStock, match="in size M"):
        order_place(cart=cart, user=user, shipping_name="A", shipping_address="B")

    assert not Order.objects.exists() and cart.items.count() == 2
    assert sizes_of(shirt) == {"S": 2, "M": 0} and Product.objects.get(pk=shirt.pk).stock == 2


@pytest.mark.django_db(transaction=True)
def test_twenty_buyers_racing_for_the_last_unit_of_a_size_never_oversell_and_leave_the_other_sizes_alone():
    shirt = ProductFactory(sizes={"S": 5, "M": 1, "L": 7})
    last_m = variant(shirt, "M")
    outcomes = race_to_checkout(shirt, buyers=20, variant_id=last_m.pk)

    assert sorted(outcomes) == ["ordered"] + ["out of stock"] * 19
    assert Order.objects.count() == 1
    assert sizes_of(shirt) == {"S": 5, "M": 0, "L": 7}
    assert Product.objects.get(pk=shirt.pk).stock == 12 == product_stock_total(product_id=shirt.pk)


@pytest.mark.django_db
def test_a_size_removed_while_in_a_cart_is_named_on_the_cart_page_and_checkout_refuses_it(client):
    user = UserFactory()
    shirt = ProductFactory(name="Oxford shirt", sizes={"S": 2, "M": 3})
    jeans = ProductFactory(stock=4)
    cart = CartFactory(user=user)
    cart_add_item(cart=cart, product_id=shirt.pk, quantity=1, variant_id=variant(shirt, "M").pk)
    cart_add_item(cart=cart, product_id=jeans.pk, quantity=1)
    variant(shirt, "M").delete()  # a curator removes the size
    client.force_login(user)

    page = client.get(reverse("shop:cart")).content.decode()
    assert 'data-testid="size-gone"' in page and "Size M is no longer sold" in page

    response = client.post(reverse("shop:checkout"), {"shipping_name": "Ada", "shipping_address": "1 Loom St"})
    assert response.status_code == 200
    assert "Size M of Oxford shirt is no longer sold" in response.content.decode()
    assert not Order.objects.exists()
    assert Product.objects.get(pk=jeans.pk).stock == 4 and cart.items.count() == 2

    # The line can still be removed, and then the rest is ordered.
    client.post(reverse("shop:cart-remove", args=[shirt.pk]), {"variant": 0})
    order_place(cart=cart, user=user, shipping_name="Ada", shipping_address="1 Loom St")
    assert Order.objects.count() == 1


# "Add the whole look" with sizes (the service; the page is in tests/recommender/test_look_sizes.py)


@pytest.mark.django_db
def test_a_look_needs_a_size_for_each_piece_with_several_and_adds_all_or_nothing():
    tops, shoes = CategoryFactory(slot="top"), CategoryFactory(slot="shoes")
    tee = ProductFactory(name="Red tee", category=tops, sizes={"S": 1, "M": 1})
    boots = ProductFactory(name="Black boots", category=shoes, sizes={"41": 0, "42": 2})
    hat = ProductFactory(name="Wool hat", stock=3)
    cart = CartFactory()
    ids = [tee.pk, boots.pk, hat.pk]

    with pytest.raises(ApplicationError, match="Choose a size of Black boots: nothing was added"):
        cart_add_look(cart=cart, product_ids=ids, sizes={tee.pk: variant(tee, "M").pk})
    with pytest.raises(OutOfStock, match="Black boots in size 41 has sold out"):
        cart_add_look(
            cart=cart, product_ids=ids, sizes={tee.pk: variant(tee, "M").pk, boots.pk: variant(boots, "41").pk}
        )
    with pytest.raises(ApplicationError, match="That size does not exist for Red tee"):
        cart_add_look(
            cart=cart, product_ids=ids, sizes={tee.pk: variant(boots, "42").pk, boots.pk: variant(boots, "42").pk}
        )
    assert not CartItem.objects.exists()

    cart_add_look(cart=cart, product_ids=ids, sizes={tee.pk: variant(tee, "M").pk, boots.pk: variant(boots, "42").pk})
    assert sorted(CartItem.objects.values_list("size", flat=True)) == sorted(["M", "42", ONE_SIZE])
