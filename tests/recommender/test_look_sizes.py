"""Sizes and the recommender: a product leaves "similar items" and "complete the look" once every
size is sold out (``Product.stock`` stays their total), and "Add the whole look" asks for sizes."""

import re

import numpy as np
import pytest
from django.urls import reverse

from recommender import inference
from recommender.models import COMPLEMENT_DIM
from recommender.selectors.cached import complements_for, similar_products
from shop.models import CartItem, Product, ProductVariant
from shop.services.carts import cart_add_item
from shop.services.orders import order_place
from shop.services.variants import variant_set_stock
from tests.factories import CartFactory, CategoryFactory, ProductFactory, UserFactory, complement_vector_for
from tests.recommender.test_similar_items import index, near
from tests.vectors import unit

pytestmark = pytest.mark.django_db
RNG = np.random.default_rng(11)


def size(product, label) -> ProductVariant:
    return ProductVariant.objects.get(product=product, size=label)


def buy_last(product, label) -> None:
    user = UserFactory()
    cart = CartFactory(user=user)
    cart_add_item(
        cart=cart, product_id=product.pk, quantity=size(product, label).stock, variant_id=size(product, label).pk
    )
    order_place(cart=cart, user=user, shipping_name="A", shipping_address="B")


def test_a_product_sold_out_in_every_size_leaves_similar_items_and_complete_the_look(complement_version):
    tops = CategoryFactory(slug="tops", slot="top")
    bottoms = CategoryFactory(slug="bottoms", slot="bottom")
    version = inference.current_model_version()
    base = unit(RNG.normal(size=512))
    query = ProductFactory(category=tops)
    index(query, base, version)
    direction = unit(RNG.normal(size=COMPLEMENT_DIM))
    complement_vector_for(query, complement_version, RNG, query=direction, candidate=direction)

    # Two sizes left of the top's look-alike, one unit each; the chinos have one size left.
    lookalike = ProductFactory(category=tops, sizes={"S": 0, "M": 1, "L": 1})
    index(lookalike, near(base, 0.01), version)
    chinos = ProductFactory(category=bottoms, sizes={"30": 0, "32": 1})
    complement_vector_for(chinos, complement_version, RNG, candidate=direction)
    assert similar_products(product=query, k=5) == [lookalike]
    assert [s.product for s in complements_for(product=query, k=5).items] == [chinos]

    buy_last(lookalike, "M")  # one size still in stock: still shown
    assert similar_products(product=query, k=5) == [lookalike]
    buy_last(lookalike, "L")  # the last size sold at checkout
    buy_last(chinos, "32")

    assert similar_products(product=query, k=5) == []
    assert complements_for(product=query, k=5).items == []
    assert Product.objects.get(pk=lookalike.pk).stock == 0 and Product.objects.get(pk=chinos.pk).stock == 0

    # A curator restocks one size: the product is back.
    variant_set_stock(variant_id=size(chinos, "30").pk, stock=2)
    assert [s.product for s in complements_for(product=query, k=5).items] == [chinos]


@pytest.fixture
def cats():
    spec = {"t-shirt": "top", "pants": "bottom", "shoes": "shoes"}
    return {slug: CategoryFactory(slug=slug, name=slug.title(), slot=slot) for slug, slot in spec.items()}


def test_the_whole_look_asks_a_size_of_each_piece_with_several_and_adds_all_or_nothing(
    client, complement_version, cats
):
    tee = ProductFactory(name="Red tee", category=cats["t-shirt"], sizes={"S": 2, "M": 2})
    trousers = ProductFactory(name="Black trousers", category=cats["pants"], sizes={"30": 0, "32": 3})
    boots = ProductFactory(name="Black boots", category=cats["shoes"], stock=4)  # one size: no choice
    for made in (tee, trousers):
        complement_vector_for(made, complement_version, RNG)

    page = client.get(tee.get_absolute_url()).content.decode()
    outfit = page[page.index('data-testid="outfit"') :]
    selects = re.findall(r'<select name="size-(\d+)" form="add-whole-look"', outfit)
    assert set(map(int, selects)) == {tee.pk, trousers.pk}
    assert re.search(rf'<option value="{size(trousers, "30").pk}" disabled>30 \(sold out\)</option>', outfit)

    url = reverse("shop:cart-add-look", args=[tee.pk])
    pieces = {"with_product": [trousers.pk, boots.pk]}
    response = client.post(url, {**pieces, f"size-{tee.pk}": size(tee, "M").pk}, follow=True)
    assert "Choose a size of Black trousers: nothing was added." in response.content.decode()
    response = client.post(
        url,
        {**pieces, f"size-{tee.pk}": size(tee, "M").pk, f"size-{trousers.pk}": size(trousers, "30").pk},
        follow=True,
    )
    assert "Black trousers in size 30 has sold out" in response.content.decode()
    assert not CartItem.objects.exists()

    client.post(url, {**pieces, f"size-{tee.pk}": size(tee, "M").pk, f"size-{trousers.pk}": size(trousers, "32").pk})
    assert sorted(CartItem.objects.values_list("product__name", "size")) == [
        ("Black boots", "One size"),
        ("Black trousers", "32"),
        ("Red tee", "M"),
    ]


def test_a_size_selling_out_reaches_the_cached_look_at_once(client, complement_version, cats):
    tee = ProductFactory(name="Red tee", category=cats["t-shirt"], sizes={"S": 2, "M": 2})
    trousers = ProductFactory(name="Black trousers", category=cats["pants"], sizes={"32": 1, "34": 3})
    for made in (tee, trousers):
        complement_vector_for(made, complement_version, RNG)
    last_32 = size(trousers, "32")

    def option_32() -> str:
        page = client.get(tee.get_absolute_url()).content.decode()
        outfit = page[page.index('data-testid="outfit"') :]
        return re.search(rf'<option value="{last_32.pk}"[^>]*>[^<]*</option>', outfit).group(0)

    assert "disabled" not in option_32()
    buy_last(trousers, "32")  # the trousers stay in stock (34), the size does not
    assert "disabled" in option_32() and "32 (sold out)" in option_32()
