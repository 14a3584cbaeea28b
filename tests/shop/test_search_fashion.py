"""Search that speaks fashion: shoppers' words for garments, colours and patterns, typos, and a
no-results page that helps. Measured on a small catalog named like the demo one."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.colour.palette import FAMILY
from shop.models import Category
from shop.selectors import ProductFilters, product_list, search_suggestions
from tests.factories import CategoryFactory, ProductFactory
from training.search.evaluation import evaluate, read_queries

pytestmark = pytest.mark.django_db

QUERIES = Path(__file__).resolve().parents[2] / "training" / "search" / "fixtures" / "shopper_queries.csv"
CATEGORIES = {
    "t-shirt": ("T-shirts", Category.Slot.TOP, "T-shirt"),
    "shirt": ("Shirts", Category.Slot.TOP, "shirt"),
    "longsleeve": ("Long sleeves", Category.Slot.TOP, "long-sleeve top"),
    "outwear": ("Outerwear", Category.Slot.OUTERWEAR, "jacket"),
    "pants": ("Trousers", Category.Slot.BOTTOM, "trousers"),
    "shorts": ("Shorts", Category.Slot.BOTTOM, "shorts"),
    "skirt": ("Skirts", Category.Slot.BOTTOM, "skirt"),
    "dress": ("Dresses", Category.Slot.DRESS, "dress"),
    "shoes": ("Shoes", Category.Slot.SHOES, "shoes"),
    "hat": ("Hats", Category.Slot.ACCESSORY, "hat"),
}
# (class, colours main first with shares, pattern)
GARMENTS = [
    ("pants", [("denim", 0.9)], "plain"),
    ("pants", [("navy", 0.85)], "plain"),
    ("pants", [("black", 0.9)], "plain"),
    ("pants", [("beige", 0.8)], "plain"),
    ("pants", [("light blue", 0.7), ("white", 0.3)], "plain"),
    ("dress", [("black", 0.9)], "plain"),
    ("dress", [("black", 0.6), ("white", 0.4)], "striped"),
    ("dress", [("navy", 0.6), ("white", 0.2), ("pink", 0.2)], "printed"),
    ("dress", [("camel", 0.5), ("black", 0.3), ("brown", 0.2)], "printed"),
    ("dress", [("pink", 0.6), ("white", 0.4)], "striped"),
    ("dress", [("red", 0.9)], "plain"),
    ("dress", [("white", 0.7), ("black", 0.3)], "printed"),
    ("t-shirt", [("white", 0.9)], "plain"),
    ("t-shirt", [("grey", 0.9)], "plain"),
    ("t-shirt", [("light blue", 0.8)], "printed"),
    ("t-shirt", [("navy", 0.55), ("white", 0.45)], "striped"),
    ("t-shirt", [("red", 0.9)], "plain"),
    ("shirt", [("white", 0.9)], "plain"),
    ("shirt", [("blue", 0.8)], "plain"),
    ("shirt", [("white", 0.6), ("light blue", 0.4)], "striped"),
    ("shirt", [("red", 0.5), ("black", 0.5)], "checked"),
    ("longsleeve", [("red", 0.9)], "plain"),
    ("longsleeve", [("grey", 0.9)], "plain"),
    ("longsleeve", [("burgundy", 0.9)], "plain"),
    ("longsleeve", [("navy", 0.9)], "plain"),
    ("outwear", [("denim", 0.9)], "plain"),
    ("outwear", [("green", 0.9)], "plain"),
    ("outwear", [("black", 0.9)], "plain"),
    ("outwear", [("lilac", 0.9)], "plain"),
    ("outwear", [("grey", 0.9)], "plain"),
    ("shorts", [("denim", 0.9)], "plain"),
    ("shorts", [("black", 0.9)], "plain"),
    ("skirt", [("black", 0.9)], "plain"),
    ("skirt", [("red", 0.8)], "printed"),
    ("shoes", [("black", 0.9)], "plain"),
    ("shoes", [("white", 0.9)], "plain"),
    ("shoes", [("denim", 0.9)], "plain"),
    ("hat", [("black", 0.9)], "plain"),
    ("hat", [("beige", 0.9)], "plain"),
]


def _product(slug, colours, pattern, *, name=None):
    category_name, slot, noun = CATEGORIES[slug]
    category = CategoryFactory(slug=slug, name=category_name, slot=slot)
    entries = [{"name": n, "family": FAMILY[n], "share": s} for n, s in colours]
    return ProductFactory(
        name=name or f"{colours[0][0].capitalize()} {noun}",
        category=category,
        colour=FAMILY[colours[0][0]],
        colours=entries,
        pattern=pattern,
    )


@pytest.fixture
def catalog():
    return [_product(*garment) for garment in GARMENTS]


def _search(q: str) -> list:
    return list(product_list(filters=ProductFilters.from_params({"q": q})))


def _classes(results) -> set[str]:
    return {p.category.slug for p in results}


def test_nine_in_ten_shopper_queries_find_what_they_mean_in_the_first_eight(catalog):
    queries = read_queries(QUERIES)
    assert len(queries) >= 30

    def ranked(q):
        return _search(q)

    report = evaluate(queries, ranked=ranked)
    assert report["queries"] == len(queries), report["skipped_no_relevant_item"]
    assert report["hit_at_8"] >= 0.9, report["misses"]
    assert report["precision_at_8"] >= 0.9
    assert report["random_hit_at_8"] < report["hit_at_8"]


@pytest.mark.parametrize(
    ("q", "slugs"),
    [
        ("jeans", {"pants"}),
        ("sneakers", {"shoes"}),
        ("trainers", {"shoes"}),
        ("tee", {"t-shirt"}),
        ("t-shirts", {"t-shirt"}),
        ("jumper", {"longsleeve"}),
        ("pullover", {"longsleeve"}),
        ("parka", {"outwear"}),
        ("coats", {"outwear"}),
        ("beanie", {"hat"}),
    ],
)
def test_shoppers_words_for_garments_find_the_shops_categories(catalog, q, slugs):
    results = _search(q)
    assert results and _classes(results) == slugs


def test_jeans_are_trousers_with_the_blue_ones_first(catalog):
    results = _search("jeans")
    assert len(results) == 5
    assert {p.colour for p in results[:3]} <= {"blue", "navy"}
    assert results[-1].colour in {"black", "beige"}


def test_typos_reach_the_synonyms(catalog):
    assert [p.pk for p in _search("jeens")] == [p.pk for p in _search("jeans")]
    assert _classes(_search("sweatr")) == {"longsleeve"}
    assert _classes(_search("trowsers")) == {"pants"}
    assert _classes(_search("snekers")) == {"shoes"}


def test_a_colour_word_matches_the_measured_colour_not_the_name(catalog):
    renamed = _product("t-shirt", [("green", 0.9)], "plain", name="Red T-shirt")
    results = _search("red")
    assert renamed not in results
    assert {p.colour for p in results} == {"red"}
    assert renamed in _search("green tee")


def test_denim_is_a_fabric_not_a_shade_of_shoes_or_tees(catalog):
    results = _search("denim")
    assert results
    assert _classes(results) <= {"pants", "shorts", "skirt", "outwear", "shirt"}
    assert not any(p.category.slug in {"shoes", "t-shirt"} for p in results)
    jacket = _search("denim jacket")
    assert _classes(jacket) == {"outwear"}
    assert jacket[0].colours[0]["name"] == "denim"
    assert any(p.category.slug == "shoes" for p in _search("blue shoes"))  # the shade is still blue


def test_black_dress_lists_black_dresses_first_then_dresses_with_black_in_them(catalog):
    results = _search("black dress")
    assert _classes(results) == {"dress"}
    mains = [p.colour for p in results]
    assert mains[:2] == ["black", "black"]
    assert set(mains[2:]) <= {"white", "brown"}  # black as the second colour
    assert not any(p.colour == "navy" or p.colours[0]["name"] == "pink" for p in results)


def test_a_shade_name_finds_its_shade_and_a_family_word_finds_the_whole_family(catalog):
    assert [p.colours[0]["name"] for p in _search("burgundy")] == ["burgundy"]
    assert "burgundy" in {p.colours[0]["name"] for p in _search("red jumper")}
    assert {p.colours[0]["name"] for p in _search("maroon")} == {"burgundy"}


def test_pattern_words_match_the_measured_pattern(catalog):
    results = _search("striped shirt")
    assert results and all(p.pattern == "striped" and p.category.slug == "shirt" for p in results)
    assert {p.pattern for p in _search("floral dress")} == {"printed"}


def test_a_search_without_results_suggests_close_queries_and_links_the_categories(catalog, client):
    assert "jacket" in search_suggestions(q="jackit")
    page = client.get(reverse("shop:product-list"), {"q": "purple shoes"})
    html = page.content.decode()
    assert page.context["page"].paginator.count == 0
    assert page.context["suggestions"]
    assert "Did you mean" in html
    for suggestion in page.context["suggestions"]:
        assert _search(suggestion)
    assert 'class="listing listing-empty"' in html
    assert reverse("shop:product-list") + "?category=shoes" in html
    assert "Hats" in html


def test_the_api_lists_the_same_fashion_search_as_the_page(catalog, client, api_client):
    page = client.get(reverse("shop:product-list"), {"q": "black dress"})
    api = api_client.get("/api/v1/products/", {"q": "black dress"})
    assert [p["id"] for p in api.json()["results"]] == [p.pk for p in page.context["page"]]


def test_evaluate_search_prints_one_json_line_with_a_random_baseline(catalog):
    out = io.StringIO()
    call_command("evaluate_search", "--queries", str(QUERIES), stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["queries"] >= 30
    assert report["hit_at_8"] >= 0.9 > report["random_hit_at_8"]
