"""Complete the look as a whole outfit: shoes, variety, the street's colour priors, "Add the whole look", the audit."""

import json

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from recommender.ml.stylist.looks import Garb, near_duplicates
from recommender.models import ComplementRule
from recommender.selectors.cached import complements_for
from recommender.selectors.complements import _garb
from shop.models import CartItem
from tests.factories import CategoryFactory, ProductFactory, complement_vector_for

pytestmark = pytest.mark.django_db
RNG = np.random.default_rng(7)


@pytest.fixture
def cats():
    # The shop's own category slugs, so that the street's category priors apply.
    spec = {
        "t-shirt": "top",
        "shirt": "top",
        "pants": "bottom",
        "skirt": "bottom",
        "shorts": "bottom",
        "dress": "dress",
        "outwear": "outerwear",
        "shoes": "shoes",
    }
    return {slug: CategoryFactory(slug=slug, name=slug.title(), slot=slot) for slug, slot in spec.items()}


def product(cats, category, colour="", pattern="plain", *, version=None, stock=5, lab=None):
    made = ProductFactory(
        category=cats[category],
        colour=colour,
        pattern=pattern,
        stock=stock,
        colours=[{"name": colour, "family": colour, "share": 1.0, "lab": lab or [50, 0, 0]}] if colour else [],
    )
    if version is not None:
        complement_vector_for(made, version, RNG)
    return made


def test_a_tops_look_is_a_bottom_plus_shoes_then_alternatives_per_slot(complement_version, cats):
    tee = product(cats, "t-shirt", "red", version=complement_version)
    bottoms = [product(cats, "pants", c, version=complement_version) for c in ("black", "navy", "grey", "white")]
    shoes = [product(cats, "shoes", c) for c in ("black", "brown", "white")]

    result = complements_for(product=tee, k=6)

    assert [(s.slot, s.in_look) for s in result.look] == [("bottom", True), ("shoes", True)]
    assert {s.product for s in result.items if s.slot == "bottom"} <= set(bottoms)
    assert {s.product for s in result.items if s.slot == "shoes"} <= set(shoes)
    assert len(result.items) == 6 and [h for h, _ in result.alternatives] == ["More bottoms", "More shoes"]
    assert all(s.reason for s in result.items)


def test_without_shoes_in_stock_the_look_comes_without_them_and_says_nothing_of_shoes(complement_version, cats):
    tee = product(cats, "t-shirt", "white", version=complement_version)
    for colour in ("black", "navy", "grey"):
        product(cats, "pants", colour, version=complement_version)
    product(cats, "shoes", "black", stock=0)

    result = complements_for(product=tee, k=6)

    assert [s.slot for s in result.items] == ["bottom"] * 3
    assert not any("shoe" in s.reason.lower() for s in result.items)


def test_a_red_top_gets_neutral_bottoms_before_red_ones(complement_version, cats):
    tee = product(cats, "t-shirt", "red", version=complement_version)
    reds = [product(cats, "pants", "red", version=complement_version) for _ in range(3)]
    neutrals = [product(cats, "pants", c, version=complement_version) for c in ("black", "navy", "grey")]

    shown = [s.product for s in complements_for(product=tee, k=3).items]

    assert set(shown) == set(neutrals) and not set(shown) & set(reds)


def test_no_two_suggestions_are_near_duplicates_while_others_are_on_sale(complement_version, cats):
    jeans = product(cats, "pants", "blue", version=complement_version)
    for _ in range(5):
        product(cats, "shirt", "white", version=complement_version)
    for colour in ("navy", "grey", "black"):
        product(cats, "t-shirt", colour, version=complement_version)
    for colour in ("black", "brown"):
        product(cats, "shoes", colour)

    items = complements_for(product=jeans, k=6).items
    garbs = [_garb(s.product) for s in items]

    assert len(items) == 6
    assert not any(near_duplicates(a, b) for i, a in enumerate(garbs) for b in garbs[i + 1 :])


def test_a_print_is_not_offered_a_print_first(complement_version, cats):
    top = product(cats, "shirt", "white", "printed", version=complement_version)
    printed = product(cats, "skirt", "black", "printed", version=complement_version)
    plain = product(cats, "skirt", "black", "plain", version=complement_version)

    assert complements_for(product=top, k=1).items[0].product == plain
    assert printed in [s.product for s in complements_for(product=top, k=2).items]


def test_blocked_pieces_never_show_in_any_slot_and_pinned_shoes_lead_theirs(complement_version, cats):
    tee = product(cats, "t-shirt", "white", version=complement_version)
    product(cats, "pants", "black", version=complement_version)
    blocked, pinned, sold_out = (
        product(cats, "shoes", c, stock=s) for c, s in (("black", 5), ("brown", 5), ("red", 0))
    )
    other = product(cats, "shoes", "white")
    ComplementRule.objects.create(product=tee, other=blocked, kind="block")
    ComplementRule.objects.create(product=tee, other=sold_out, kind="pin", position=0)
    ComplementRule.objects.create(product=tee, other=pinned, kind="pin", position=1)

    items = complements_for(product=tee, k=4).items
    shoes = [s for s in items if s.slot == "shoes"]

    assert blocked not in [s.product for s in items] and sold_out not in [s.product for s in items]
    assert shoes[0].product == pinned and shoes[0].pinned and shoes[0].in_look
    assert other in [s.product for s in shoes]


def test_the_page_shows_the_outfit_and_adds_the_whole_look_in_one_step(client, complement_version, cats):
    tee = product(cats, "t-shirt", "red", version=complement_version)
    trousers = product(cats, "pants", "black", version=complement_version)
    boots = product(cats, "shoes", "black")

    page = client.get(tee.get_absolute_url()).content.decode()
    assert 'data-testid="outfit"' in page and "Add the whole look" in page

    client.post(reverse("shop:cart-add-look", args=[tee.pk]), {"with_product": [trousers.pk, boots.pk]})
    assert set(CartItem.objects.values_list("product_id", flat=True)) == {tee.pk, trousers.pk, boots.pk}


def test_the_whole_look_with_a_piece_sold_out_since_the_page_adds_nothing_and_names_it(
    client, complement_version, cats
):
    tee = product(cats, "t-shirt", "red", version=complement_version)
    trousers = product(cats, "pants", "black", version=complement_version)
    boots = product(cats, "shoes", "black")
    client.get(tee.get_absolute_url())
    boots.stock = 0
    boots.save()

    response = client.post(
        reverse("shop:cart-add-look", args=[tee.pk]), {"with_product": [trousers.pk, boots.pk]}, follow=True
    )

    assert not CartItem.objects.exists()
    assert f"{boots.name} has sold out since the page was shown" in response.content.decode()


def test_the_audit_reads_the_catalog_through_the_page_selector_and_beside_random_picks(
    complement_version, cats, capsys
):
    for colour in ("red", "green"):
        product(cats, "t-shirt", colour, version=complement_version)
    for colour in ("red", "green", "black", "navy", "grey", "white"):
        product(cats, "pants", colour, version=complement_version)
    for colour in ("black", "brown"):
        product(cats, "shoes", colour)

    call_command("audit_complements", "--k", "4")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    assert line["products"] == 8  # two tees and six trousers
    assert set(line) == {
        "products", "same_colour_share", "duplicate_pair_share", "with_shoes_share", "full_share", "random"
    }  # fmt: skip
    assert line["with_shoes_share"] == 1.0 and line["full_share"] == 1.0
    assert line["same_colour_share"] < line["random"]["same_colour_share"] or line["random"]["same_colour_share"] == 0
    assert line["duplicate_pair_share"] == 0.0


def test_near_duplicates_are_one_category_colour_and_pattern():
    a = Garb(1, "top", "shirt", "white", "plain")
    assert near_duplicates(a, Garb(2, "top", "shirt", "white", ""))
    assert not near_duplicates(a, Garb(3, "top", "shirt", "white", "striped"))
    assert not near_duplicates(a, Garb(4, "top", "t-shirt", "white", "plain"))


def test_a_piece_sold_out_after_the_look_was_cached_is_replaced_and_the_look_stays_full(complement_version, cats):
    tee = product(cats, "t-shirt", "white", version=complement_version)
    for colour in ("black", "navy", "grey", "beige", "brown"):
        product(cats, "pants", colour, version=complement_version)
    for colour in ("black", "brown"):
        product(cats, "shoes", colour)
    first = complements_for(product=tee, k=4)  # the stylist's order is cached now
    gone = first.look[0].product
    gone.stock = 0
    gone.save()

    again = complements_for(product=tee, k=4)

    assert gone not in [s.product for s in again.items]
    assert len(again.items) == 4 and [s.slot for s in again.look] == ["bottom", "shoes"]
    bottoms = [s.product for s in first.items if s.slot == "bottom"]
    assert again.look[0].product == bottoms[1]  # the next in the cached order


def test_a_bottoms_look_leads_with_a_top_even_after_the_first_top_sold_out(complement_version, cats):
    skirt = product(cats, "skirt", "blue", version=complement_version)
    tops = [product(cats, "t-shirt", c, version=complement_version) for c in ("white", "grey")]
    product(cats, "outwear", "black", version=complement_version)
    product(cats, "shoes", "black")
    first = complements_for(product=skirt, k=4)
    assert first.look[0].product in tops
    first.look[0].product.stock = 0
    first.look[0].product.save()

    again = complements_for(product=skirt, k=4)

    assert again.look[0].product.category.slot == "top" and again.look[0].product in tops


def test_a_bottom_indexed_after_the_look_was_cached_joins_it(complement_version, cats):
    tee = product(cats, "t-shirt", "white", version=complement_version)
    for colour in ("black", "navy"):
        product(cats, "pants", colour, version=complement_version)
    product(cats, "shoes", "black")
    assert len([s for s in complements_for(product=tee, k=6).items if s.slot == "bottom"]) == 2

    late = product(cats, "skirt", "grey", version=complement_version)  # its vectors are written now

    assert late in [s.product for s in complements_for(product=tee, k=6).items if s.slot == "bottom"]
