"""A shopper in headless Chromium: the product page shows "Complete the look", and "Add the whole look" fills the cart."""

from pathlib import Path

import numpy as np
import pytest

from recommender.models import COMPLEMENT_DIM, ComplementVector
from shop.models import CartItem
from tests.factories import CategoryFactory, ProductFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _index(product, version, vector):
    product.image_sha256 = "0" * 64
    product.save(update_fields=["image_sha256"])
    ComplementVector.objects.create(
        product=product,
        slot=product.category.slot,
        query=vector.tolist(),
        candidate=vector.tolist(),
        model_version=version,
        image_sha256=product.image_sha256,
        colour={"lab_mean": [30, 0, -20]},
    )


def test_a_shopper_sees_what_goes_with_a_top_and_adds_the_look(live_server, page, complement_version):
    tops = CategoryFactory(slug="shirts", name="Shirts", slot="top")
    bottoms = CategoryFactory(slug="trousers", name="Trousers", slot="bottom")
    rng = np.random.default_rng(0)
    direction = rng.normal(size=COMPLEMENT_DIM)
    direction /= np.linalg.norm(direction)
    shirt = ProductFactory(name="Navy linen shirt", category=tops, stock=3, with_image=True)
    chinos = ProductFactory(name="Sand chinos", category=bottoms, stock=3, with_image=True)
    jeans = ProductFactory(name="Black jeans", category=bottoms, stock=3, with_image=True)
    _index(shirt, complement_version, direction)
    _index(chinos, complement_version, direction)
    other = rng.normal(size=COMPLEMENT_DIM)
    _index(jeans, complement_version, other / np.linalg.norm(other))

    page.goto(f"{live_server.url}{shirt.get_absolute_url()}")
    section = page.locator("#complete-the-look")
    assert section.get_by_role("heading", name="Complete the look").is_visible()
    items = section.get_by_test_id("look-item")
    assert items.count() == 2
    outfit = section.get_by_test_id("outfit")
    assert "Sand chinos" in outfit.get_by_test_id("look-item").inner_text()  # the best match is the outfit's
    assert items.first.get_by_test_id("look-reason").inner_text()
    assert "Black jeans" in items.nth(1).inner_text()  # the alternative, with its own button

    outfit.get_by_test_id("add-whole-look").click()

    assert page.get_by_test_id("cart-line").count() == 2
    page.screenshot(path=str(Path(__file__).resolve().parents[2] / "var" / "browser-look.png"), full_page=True)
    assert set(CartItem.objects.values_list("product__name", flat=True)) == {"Navy linen shirt", "Sand chinos"}


def test_the_whole_look_with_sizes_fits_a_phone_and_adds_the_chosen_sizes(live_server, page, complement_version):
    tops = CategoryFactory(slug="shirts", name="Shirts", slot="top")
    bottoms = CategoryFactory(slug="trousers", name="Trousers", slot="bottom")
    shoes = CategoryFactory(slug="shoes", name="Shoes", slot="shoes")
    rng = np.random.default_rng(0)
    direction = rng.normal(size=COMPLEMENT_DIM)
    direction /= np.linalg.norm(direction)
    shirt = ProductFactory(name="Navy linen shirt", category=tops, with_image=True, sizes={"S": 2, "M": 0, "L": 1})
    chinos = ProductFactory(name="Sand chinos", category=bottoms, with_image=True, sizes={"30": 0, "32": 3, "34": 1})
    ProductFactory(name="Brown boots", category=shoes, with_image=True, sizes={"42": 2})  # one size left
    for product in (shirt, chinos):
        _index(product, complement_version, direction)

    page.goto(f"{live_server.url}{shirt.get_absolute_url()}")
    outfit = page.get_by_test_id("outfit")
    selects = outfit.get_by_test_id("look-size")
    assert selects.count() == 2  # this piece and the chinos; the boots come in one size
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(
        path=str(Path(__file__).resolve().parents[2] / "var" / "browser-look-sizes-390.png"), full_page=True
    )

    outfit.get_by_test_id("add-whole-look").click()  # no sizes chosen: nothing is added, and it says which
    assert "Choose a size of Navy linen shirt and Sand chinos" in page.locator(".messages").inner_text()
    assert not CartItem.objects.exists()

    page.go_back()
    outfit = page.get_by_test_id("outfit")
    outfit.get_by_label("Size of Navy linen shirt").select_option(label="L")
    outfit.get_by_label("Size of Sand chinos").select_option(label="32")
    outfit.get_by_test_id("add-whole-look").click()
    assert page.get_by_test_id("cart-line").count() == 3
    assert sorted(CartItem.objects.values_list("size", flat=True)) == ["32", "42", "L"]
