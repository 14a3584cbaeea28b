from decimal import Decimal

import pytest
from django.urls import reverse

from shop.models import Category
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_home_lists_categories_and_newest_products(client):
    product = ProductFactory(name="Linen shirt")
    response = client.get(reverse("shop:home"))
    assert response.status_code == 200
    assert product.name in response.content.decode()
    assert product.category.name in response.content.decode()


def test_listing_filters_by_slot_colour_brand_and_price():
    tops = CategoryFactory(slug="shirts", slot=Category.Slot.TOP)
    bottoms = CategoryFactory(slug="pants", slot=Category.Slot.BOTTOM)
    wanted = ProductFactory(category=bottoms, colour="navy", brand="Marlowe", price=Decimal("40"))
    ProductFactory(category=bottoms, colour="navy", brand="Marlowe", price=Decimal("90"))  # too dear
    ProductFactory(category=bottoms, colour="black", brand="Marlowe", price=Decimal("40"))  # wrong colour
    ProductFactory(category=tops, colour="navy", brand="Marlowe", price=Decimal("40"))  # wrong slot
    ProductFactory(category=bottoms, colour="navy", brand="Sundry", price=Decimal("40"))  # wrong brand
    from django.test import Client

    response = Client().get(
        reverse("shop:product-list"),
        {"slot": "bottom", "colour": "navy", "brand": "Marlowe", "min_price": "10", "max_price": "50"},
    )
    assert [p.pk for p in response.context["page"]] == [wanted.pk]


def test_listing_searches_words_in_name_and_brand(client):
    hit = ProductFactory(name="Red wool coat", brand="Ostra")
    ProductFactory(name="Blue jeans", brand="Ostra")
    response = client.get(reverse("shop:product-list"), {"q": "wool ostra"})
    assert [p.pk for p in response.context["page"]] == [hit.pk]


def test_listing_sorts_by_price_and_paginates(client):
    for price in (30, 10, 20):
        ProductFactory(price=Decimal(price))
    response = client.get(reverse("shop:product-list"), {"sort": "price"})
    assert [p.price for p in response.context["page"]] == [Decimal(10), Decimal(20), Decimal(30)]
    ProductFactory.create_batch(30)
    page2 = client.get(reverse("shop:product-list"), {"page": "2"})
    assert page2.context["page"].number == 2
    assert len(page2.context["page"]) == 33 - 24


def test_listing_ignores_nonsense_parameters_instead_of_failing(client):
    ProductFactory()
    response = client.get(reverse("shop:product-list"), {"min_price": "cheap", "page": "zzz", "sort": "random"})
    assert response.status_code == 200
    assert response.context["page"].number == 1


def test_inactive_products_are_not_listed_nor_shown(client):
    hidden = ProductFactory(is_active=False)
    listing = client.get(reverse("shop:product-list"))
    assert hidden not in list(listing.context["page"])
    assert client.get(hidden.get_absolute_url()).status_code == 404


def test_product_page_has_both_recommendation_sections_and_no_filler_items(client):
    product = ProductFactory()
    ProductFactory.create_batch(3, category=product.category)
    html = client.get(product.get_absolute_url()).content.decode()
    assert 'data-section="complete-the-look"' in html
    assert 'data-section="similar-items"' in html
    # Nothing has been indexed, so neither section may show products.
    section = html.split('data-section="complete-the-look"', 1)[1]
    assert "product-link" not in section


def test_without_section_providers_the_product_page_shows_the_product_alone(client, monkeypatch):
    from shop import sections

    monkeypatch.setattr(sections, "_providers", [])
    product = ProductFactory()
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200 and product.name in response.content.decode()
    assert "similar_items" not in response.context and "similar-items" not in response.content.decode()


def test_sold_out_product_cannot_be_added_to_cart(client):
    product = ProductFactory(stock=0)
    html = client.get(product.get_absolute_url()).content.decode()
    assert "Sold out" in html
    assert 'data-testid="add-to-cart"' not in html
