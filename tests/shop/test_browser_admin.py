"""The curators' product list fits a 1366 px laptop screen (headless Chromium)."""

from pathlib import Path

import pytest

from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_admin_product_list_shows_every_column_without_scrolling_at_1366_px(live_server, laptop_page):
    for n in range(3):
        ProductFactory(
            with_image=True,
            name=f"Relaxed navy linen overshirt with patch pockets {n}",
            brand="Kinfolk & Co",
            colour="purple",
            dominant_colour="#6e3c8c",
        )
    UserFactory(username="curator", is_staff=True, is_superuser=True)
    page = laptop_page
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "curator")
    page.fill("input[name=password]", "correct horse battery")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/shop/product/")
    page.screenshot(path=str(Path(__file__).resolve().parents[2] / "var" / "admin-products-1366.png"))

    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    results = page.locator("#changelist .results")  # the admin scrolls this box sideways when it overflows
    assert results.evaluate("el => el.scrollWidth <= el.clientWidth")
    right_edge = results.bounding_box()["x"] + results.bounding_box()["width"]
    for header in ("On sale", "Colour", "Photo", "Index"):
        box = page.locator("#result_list thead th", has_text=header).first.bounding_box()
        assert box is not None and box["x"] + box["width"] <= right_edge, header
