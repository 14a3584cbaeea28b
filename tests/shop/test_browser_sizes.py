"""The size picker in headless Chromium, on a laptop and on a phone: sold-out sizes cannot be picked."""

from pathlib import Path

import pytest

from shop.models import CartItem
from tests.factories import ProductFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
SHOTS = Path(__file__).resolve().parents[2] / "var"


@pytest.mark.parametrize("viewport", ["laptop_page", "page"])
def test_a_shopper_picks_a_size_and_cannot_pick_a_sold_out_one(live_server, request, viewport):
    page = request.getfixturevalue(viewport)
    shirt = ProductFactory(name="Navy linen shirt", with_image=True, sizes={"XS": 1, "S": 0, "M": 4, "L": 2, "XL": 0})

    page.goto(f"{live_server.url}{shirt.get_absolute_url()}")
    picker = page.get_by_test_id("size-picker").locator("select")
    assert picker.locator("option").all_inner_texts() == [
        "Choose a size",
        "XS",
        "S (sold out)",
        "M",
        "L",
        "XL (sold out)",
    ]
    assert picker.locator("option:disabled").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"size-picker-{page.viewport_size['width']}.png"), full_page=True)

    page.get_by_test_id("add-to-cart").click()  # no size yet: the browser asks for one (required)
    assert not CartItem.objects.exists()
    picker.select_option(label="M")
    page.get_by_test_id("add-to-cart").click()
    assert "Added Navy linen shirt (size M) to your cart." in page.locator(".messages").inner_text()
    assert list(CartItem.objects.values_list("size", flat=True)) == ["M"]
