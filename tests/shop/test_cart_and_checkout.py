from decimal import Decimal

import pytest
from django.urls import reverse

from shop.errors import ApplicationError, OutOfStock
from shop.models import Cart, Order, Product
from shop.services.orders import order_place
from tests.checkout_race import race_to_checkout
from tests.factories import CartFactory, CartItemFactory, ProductFactory, UserFactory, stock_set


@pytest.mark.django_db
def test_anonymous_cart_is_merged_into_the_users_cart_on_sign_in(client):
    user = UserFactory(username="ada")
    shirt, jeans = ProductFactory(), ProductFactory()
    stored = CartFactory(user=user)
    CartItemFactory(cart=stored, product=jeans, quantity=1)

    client.post(reverse("shop:cart-add", args=[shirt.pk]), {"quantity": 2})
    client.post(reverse("shop:cart-add", args=[jeans.pk]), {"quantity": 1})
    client.post(reverse("login"), {"username": "ada", "password": "correct horse battery"})

    cart = Cart.objects.get(user=user)
    assert {(i.product_id, i.quantity) for i in cart.items.all()} == {(shirt.pk, 2), (jeans.pk, 2)}
    assert not Cart.objects.filter(user__isnull=True).exists()


@pytest.mark.django_db
def test_cart_refuses_more_than_the_stock(client):
    product = ProductFactory(stock=2)
    client.post(reverse("shop:cart-add", args=[product.pk]), {"quantity": 2})
    response = client.post(reverse("shop:cart-add", args=[product.pk]), {"quantity": 1}, follow=True)
    assert "Only 2" in response.content.decode()
    assert Cart.objects.get().items.get().quantity == 2


@pytest.mark.django_db
def test_checkout_places_an_order_reserves_stock_and_empties_the_cart(client):
    user = UserFactory()
    product = ProductFactory(stock=5, price=Decimal("19.99"))
    cart = CartFactory(user=user)
    CartItemFactory(cart=cart, product=product, quantity=2)
    client.force_login(user)

    response = client.post(reverse("shop:checkout"), {"shipping_name": "Ada L", "shipping_address": "1 Loom St"})

    order = Order.objects.get(user=user)
    assert response.status_code == 302 and response.url == order.get_absolute_url()
    assert order.total == Decimal("39.98")
    assert [(i.sku, i.quantity, i.unit_price) for i in order.items.all()] == [(product.sku, 2, Decimal("19.99"))]
    assert Product.objects.get(pk=product.pk).stock == 3
    assert not cart.items.exists()


@pytest.mark.django_db
def test_checkout_with_too_little_stock_makes_no_order_and_changes_no_stock(client):
    user = UserFactory()
    plenty, scarce = ProductFactory(stock=10), ProductFactory(stock=1)
    cart = CartFactory(user=user)
    CartItemFactory(cart=cart, product=plenty, quantity=3)
    CartItemFactory(cart=cart, product=scarce, quantity=1)
    stock_set(scarce, 0)  # sold elsewhere meanwhile

    with pytest.raises(OutOfStock):
        order_place(cart=cart, user=user, shipping_name="A", shipping_address="B")

    assert not Order.objects.exists()
    assert Product.objects.get(pk=plenty.pk).stock == 10
    assert cart.items.count() == 2


@pytest.mark.django_db
def test_checkout_page_shows_the_stock_error_as_a_form_error(client):
    user = UserFactory()
    product = ProductFactory(stock=1)
    cart = CartFactory(user=user)
    CartItemFactory(cart=cart, product=product, quantity=1)
    stock_set(product, 0)
    client.force_login(user)
    response = client.post(reverse("shop:checkout"), {"shipping_name": "A", "shipping_address": "B"})
    assert response.status_code == 200
    assert "Only 0" in response.content.decode()


@pytest.mark.django_db
def test_checkout_requires_sign_in(client):
    response = client.get(reverse("shop:checkout"))
    assert response.status_code == 302 and reverse("login") in response.url


@pytest.mark.django_db
def test_empty_cart_cannot_be_ordered():
    user = UserFactory()
    with pytest.raises(ApplicationError, match="empty"):
        order_place(cart=CartFactory(user=user), user=user, shipping_name="A", shipping_address="B")


@pytest.mark.django_db
def test_customers_only_see_their_own_orders(client):
    owner, other = UserFactory(), UserFactory()
    cart = CartFactory(user=owner)
    CartItemFactory(cart=cart, quantity=1)
    order = order_place(cart=cart, user=owner, shipping_name="A", shipping_address="B")
    client.force_login(other)
    assert client.get(order.get_absolute_url()).status_code == 404
    assert order.number not in client.get(reverse("shop:order-list")).content.decode()
    client.force_login(owner)
    assert client.get(order.get_absolute_url()).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_checkout_never_sells_the_last_unit_twice():
    product = ProductFactory(stock=1)
    outcomes = race_to_checkout(product, buyers=4)

    assert sorted(outcomes) == ["ordered"] + ["out of stock"] * 3
    assert Product.objects.get(pk=product.pk).stock == 0
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_add_to_cart_returns_to_the_product_page_with_the_message_and_a_way_to_the_cart(client):
    product = ProductFactory(name="Navy linen shirt", stock=3)

    response = client.post(reverse("shop:cart-add", args=[product.pk]), {"quantity": 2})

    assert response.status_code == 302 and response.url == product.get_absolute_url()
    page = client.get(response.url).content.decode()
    assert "Added Navy linen shirt to your cart." in page
    assert f'href="{reverse("shop:cart")}" data-testid="view-cart">View your cart (2)</a>' in page
    assert Cart.objects.get().items.get().quantity == 2


@pytest.mark.django_db
def test_a_refused_add_to_cart_returns_to_the_product_page_with_the_reason(client):
    product = ProductFactory(name="Navy linen shirt", stock=1)

    response = client.post(reverse("shop:cart-add", args=[product.pk]), {"quantity": 2}, follow=True)

    assert response.redirect_chain == [(product.get_absolute_url(), 302)]
    assert "Only 1" in response.content.decode()


@pytest.mark.django_db
def test_a_cart_line_is_removed_with_its_own_button(client):
    shirt, jeans = ProductFactory(name="Navy linen shirt"), ProductFactory(name="Black jeans")
    client.post(reverse("shop:cart-add", args=[shirt.pk]), {"quantity": 1})
    client.post(reverse("shop:cart-add", args=[jeans.pk]), {"quantity": 2})
    cart_page = client.get(reverse("shop:cart")).content.decode()
    remove = reverse("shop:cart-remove", args=[shirt.pk])
    assert (
        f'<form method="post" action="{remove}" class="inline"><input type="hidden" name="csrfmiddlewaretoken"'
        in cart_page
    )
    assert 'data-testid="remove-line" aria-label="Remove Navy linen shirt">Remove</button>' in cart_page

    assert client.get(remove).status_code == 405  # removing changes the cart: POST only
    response = client.post(remove, follow=True)

    assert response.redirect_chain == [(reverse("shop:cart"), 302)]
    assert "Removed from your cart." in response.content.decode()
    assert [(i.product_id, i.quantity) for i in Cart.objects.get().items.all()] == [(jeans.pk, 2)]
    assert client.post(remove, follow=True).content.decode().count("This product is not in your cart.") == 1


@pytest.mark.django_db
def test_removing_a_cart_line_needs_the_csrf_token():
    from django.test import Client

    user = UserFactory()
    product = ProductFactory()
    CartItemFactory(cart=CartFactory(user=user), product=product)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    assert browser.post(reverse("shop:cart-remove", args=[product.pk])).status_code == 403
    assert Cart.objects.get(user=user).items.count() == 1


@pytest.mark.django_db
def test_the_order_page_shows_each_lines_product_photo(client):
    user = UserFactory()
    shirt = ProductFactory(name="Navy linen shirt", stock=3, with_image=True)
    socks = ProductFactory(name="Grey socks", stock=3)  # no photo
    cart = CartFactory(user=user)
    CartItemFactory(cart=cart, product=shirt, quantity=1)
    CartItemFactory(cart=cart, product=socks, quantity=1)
    order = order_place(cart=cart, user=user, shipping_name="Ada", shipping_address="1 Loom St")
    client.force_login(user)

    page = client.get(order.get_absolute_url()).content.decode()

    assert page.count('data-testid="order-line"') == 2
    assert f'<img class="line-photo" src="{shirt.display_image.url}" alt="Navy linen shirt"' in page
    assert '<span class="line-photo noimg">—</span>' in page
