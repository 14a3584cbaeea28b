"""Product search: whole words, ranked, forgiving typos; safe on any input. Page and API share it."""

from decimal import Decimal

import pytest
from django.urls import reverse

from shop.models import Category
from shop.selectors import ProductFilters, product_list
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _search(q: str) -> list:
    return list(product_list(filters=ProductFilters.from_params({"q": q})))


@pytest.fixture
def catalog():
    dresses = CategoryFactory(name="Dress", slug="dress", slot=Category.Slot.DRESS)
    skirts = CategoryFactory(name="Skirt", slug="skirt", slot=Category.Slot.BOTTOM)
    tees = CategoryFactory(name="T-Shirt", slug="t-shirt", slot=Category.Slot.TOP)
    measured = "Photographed and measured in our studio."
    return {
        "red_dress": ProductFactory(
            name="Summer dress", category=dresses, colours=[{"name": "red", "share": 0.8}], description=measured
        ),
        "blue_dress": ProductFactory(
            name="Evening dress", category=dresses, colours=[{"name": "navy", "share": 0.9}], description=measured
        ),
        "red_tee": ProductFactory(
            name="Graphic tee", category=tees, colours=[{"name": "red", "share": 0.6}], description=measured
        ),
        "denim_skirt": ProductFactory(
            name="Denim mini skirt", category=skirts, colours=[{"name": "blue", "share": 0.9}], description=measured
        ),
    }


def test_a_colour_word_matches_colour_names_and_never_the_middle_of_another_word(catalog):
    # "red" is inside "measured" in every description: substring search listed everything.
    assert {p.pk for p in _search("red")} == {catalog["red_dress"].pk, catalog["red_tee"].pk}


def test_red_dress_finds_red_dresses_only_and_first(catalog):
    results = _search("red dress")
    assert results[0].pk == catalog["red_dress"].pk
    assert catalog["blue_dress"].pk not in {p.pk for p in results}


def test_plural_words_find_singular_names(catalog):
    assert {p.pk for p in _search("dresses")} == {catalog["red_dress"].pk, catalog["blue_dress"].pk}


def test_denim_finds_denim_and_a_typo_still_finds_it(catalog):
    assert [p.pk for p in _search("denim")] == [catalog["denim_skirt"].pk]
    assert [p.pk for p in _search("denin")] == [catalog["denim_skirt"].pk]
    assert [p.pk for p in _search("skirt denin")] == [catalog["denim_skirt"].pk]


def test_search_ranks_a_better_match_above_a_partial_one(catalog):
    also = ProductFactory(
        name="Red dress with pockets",
        category=catalog["red_dress"].category,
        colours=[{"name": "red", "share": 0.9}],
        price=Decimal("10"),
    )
    results = _search("red dress")
    assert {p.pk for p in results[:2]} == {also.pk, catalog["red_dress"].pk}


@pytest.mark.parametrize(
    "q",
    [
        "'; DROP TABLE shop_product; --",
        "dress' OR '1'='1",
        "!!! ??? ***",
        "x" * 5000,
        "<script>alert(1)</script>",
        "a & b | !c <-> d:*",
    ],
)
def test_sql_like_long_or_symbol_only_input_returns_a_safe_empty_answer(catalog, client, api_client, q):
    assert _search(q) == []
    page = client.get(reverse("shop:product-list"), {"q": q})
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 0
    assert "Nothing matches" in page.content.decode()
    api = api_client.get("/api/v1/products/", {"q": q})
    assert api.status_code == 200
    assert api.json()["count"] == 0


def test_sql_like_input_finds_nothing_and_leaves_the_table_alone(catalog):
    assert _search("'; DROP TABLE shop_product; --") == []
    assert len(_search("dress")) == 2


def test_an_empty_search_lists_the_whole_catalog(catalog, client):
    response = client.get(reverse("shop:product-list"), {"q": "   "})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 4


def test_stop_words_alone_do_not_hide_the_catalog_and_do_not_block_other_words(catalog):
    assert len(_search("the")) == 4
    assert [p.pk for p in _search("the denim")] == [catalog["denim_skirt"].pk]


def test_the_api_q_parameter_serves_the_same_ranked_search_as_the_page(catalog, client, api_client):
    page = client.get(reverse("shop:product-list"), {"q": "red dress"})
    api = api_client.get("/api/v1/products/", {"q": "red dress"})
    assert api.status_code == 200
    assert [p["id"] for p in api.json()["results"]] == [p.pk for p in page.context["page"]]
    assert api.json()["results"][0]["id"] == catalog["red_dress"].pk


def test_an_exact_sku_still_finds_its_product(catalog):
    assert [p.pk for p in _search(catalog["red_tee"].sku)] == [catalog["red_tee"].pk]


def test_new_in_mixes_categories_instead_of_the_newest_of_one():
    tees = CategoryFactory(name="T-Shirt", slug="t-shirt", slot=Category.Slot.TOP)
    others = [CategoryFactory(slug=s, slot=Category.Slot.BOTTOM) for s in ("skirt", "pants", "shorts")]
    older = [ProductFactory(category=c) for c in others]
    newest_tees = [ProductFactory(category=tees) for _ in range(10)]  # the latest import: all tees
    from shop.selectors import new_in

    row = new_in(limit=8)
    assert len(row) == 8
    assert {p.category_id for p in row[:4]} == {tees.pk, *(c.pk for c in others)}
    assert row[0] == newest_tees[-1]
    assert set(older) <= set(row)
    assert sum(p.category_id == tees.pk for p in row) == 5


def test_the_home_page_shows_the_new_in_mix(client):
    tees = CategoryFactory(slug="t-shirt", slot=Category.Slot.TOP)
    skirt = ProductFactory(category=CategoryFactory(slug="skirt", slot=Category.Slot.BOTTOM), name="Pleated skirt")
    for _ in range(9):
        ProductFactory(category=tees)
    html = client.get(reverse("shop:home")).content.decode()
    assert "Pleated skirt" in html and skirt.get_absolute_url() in html
