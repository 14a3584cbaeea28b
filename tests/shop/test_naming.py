"""Product names say what was measured: colours, second colours, pattern; and demo names vary."""

from collections import Counter

import pytest

from recommender.services.photo_analysis import measure_colours
from shop.models import Category
from shop.naming import REPEAT_LIMIT, product_demo_name, product_name
from tests.factories import CategoryFactory, ProductFactory
from tests.images import garment_image, garment_mask

NAVY, WHITE, PINK, BLACK = (25, 35, 70), (235, 235, 232), (230, 150, 175), (20, 20, 22)


def _entry(name, share, lab=None):
    entry = {"name": name, "share": share}
    if lab:
        entry["lab"] = lab
    return entry


def test_a_navy_and_white_striped_tee_is_named_by_its_stripes_and_both_colours():
    colours = [_entry("navy", 0.55, [21, 2, -14]), _entry("white", 0.45, [85, 0, 1])]
    assert product_name(noun="T-shirt", colours=colours, pattern="striped") == "Navy and white striped T-shirt"


def test_a_multicolour_print_is_named_by_its_main_colours():
    colours = [_entry("navy", 0.5), _entry("white", 0.3), _entry("pink", 0.2)]
    assert product_name(noun="dress", colours=colours, pattern="printed") == "Navy, white and pink print dress"


def test_folds_measured_as_stripes_on_a_one_colour_garment_do_not_make_it_striped():
    assert product_name(noun="jacket", colours=[_entry("chocolate", 1.0)], pattern="striped") == "Chocolate jacket"
    # two shades of one lightness are not stripes a shopper would see
    colours = [_entry("navy", 0.6, [21, 2, -14]), _entry("blue", 0.4, [30, 10, -40])]
    assert product_name(noun="shirt", colours=colours, pattern="striped") == "Navy and blue shirt"


def test_a_plain_garment_keeps_its_shade_name_and_a_large_second_colour():
    assert product_name(noun="dress", colours=[_entry("burgundy", 0.9)], pattern="plain") == "Burgundy dress"
    two = [_entry("charcoal", 0.6), _entry("white", 0.4)]
    assert product_name(noun="hat", colours=two, pattern="plain") == "Charcoal and white hat"
    assert product_name(noun="shoes", colours=[], pattern="") == "Shoes"


def test_a_striped_photo_measures_and_names_as_striped_navy_and_white():
    analysis = measure_colours(garment_image((NAVY, WHITE)), garment_mask())
    name = product_name(noun="T-shirt", colours=analysis.colours, pattern=analysis.pattern)
    assert analysis.pattern == "striped"
    assert name in ("Navy and white striped T-shirt", "White and navy striped T-shirt")  # equal stripes


def test_a_plain_photo_is_named_by_its_one_colour():
    analysis = measure_colours(garment_image((NAVY,)), garment_mask())
    assert product_name(noun="dress", colours=analysis.colours, pattern=analysis.pattern) == "Navy dress"


@pytest.mark.django_db
def test_demo_names_take_a_measured_detail_instead_of_repeating_in_a_category():
    dresses = CategoryFactory(slug="dress", name="Dresses", slot=Category.Slot.DRESS)
    colours = [_entry("navy", 0.83, [8, 2, -10]), _entry("charcoal", 0.17)]
    names = []
    for i in range(6):
        name = product_demo_name(noun="dress", colours=colours, pattern="plain", category=dresses, sku=f"D-{i}")
        ProductFactory(sku=f"D-{i}", name=name, category=dresses)
        names.append(name)
    counts = Counter(names)
    assert max(counts.values()) <= REPEAT_LIMIT
    assert set(counts) == {"Navy dress", "Navy and charcoal dress", "Dark navy and charcoal dress"}
    # renaming a product (a re-import) does not count its own old name
    again = product_demo_name(noun="dress", colours=colours, pattern="plain", category=dresses, sku="D-0")
    assert again == "Navy dress"


@pytest.mark.django_db
def test_demo_names_with_no_measured_detail_left_take_the_brand_so_a_category_never_lists_one_name_ten_times():
    tees = CategoryFactory(slug="t-shirt", name="T-shirts", slot=Category.Slot.TOP)
    white = [_entry("white", 1.0, [96, 0, 1])]
    brands = ("Northloom", "Sundry", "Marlowe", "Ostra")
    names = []
    for i in range(10):
        brand = brands[i % len(brands)]
        name = product_demo_name(
            noun="T-shirt", colours=white, pattern="plain", category=tees, sku=f"T-{i}", brand=brand
        )
        ProductFactory(sku=f"T-{i}", name=name, category=tees)
        names.append(name)
    counts = Counter(names)
    assert max(counts.values()) <= REPEAT_LIMIT
    assert counts["White T-shirt"] == REPEAT_LIMIT
    assert "Northloom white T-shirt" in counts and "Sundry white T-shirt" in counts
