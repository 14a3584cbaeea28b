"""Shop by photo in headless Chromium, on a phone-sized screen, with a real worker: upload, watch the
progress, click a garment, see its look-alikes; then draw a box and see what it finds."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender.models import Garment, PhotoSearch
from tests.recommender.test_photo_search import CCP_PHOTOS, indexed_catalog

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]


def test_a_customer_uploads_a_photo_clicks_a_garment_and_draws_a_box(live_server, page, celery_worker):
    catalog = indexed_catalog(per_slot=2)
    names = {slot: {p.name for p in products} for slot, products in catalog.items()}

    page.goto(f"{live_server.url}/")
    page.get_by_test_id("shop-by-photo-link").click()
    page.get_by_test_id("photo-input").set_input_files(str(CCP_PHOTOS / "0016.jpg"))

    page.wait_for_url("**/shop-by-photo/*/")
    progress = page.get_by_test_id("status-text").inner_text()
    assert progress.rstrip("…") in {s.label for s in PhotoSearch.Status}
    page.get_by_test_id("garment-top").wait_for(timeout=120_000)
    assert page.locator('[data-testid="outlines"] polygon').count() == 2
    assert page.locator("[data-testid=outline-top]").get_attribute("stroke") == "#e6194b"

    page.get_by_test_id("garment-bottom").click()
    results = page.locator("[data-testid=similar] [data-testid=result] .name").all_inner_texts()
    assert results and set(results) <= names["bottom"]
    page.get_by_test_id("cheaper-only").check()
    cheaper = page.locator("[data-testid=similar] [data-testid=result] .name").all_inner_texts()
    assert set(cheaper) < set(results) or "cheaper" in page.get_by_test_id("similar").inner_text()
    page.get_by_test_id("cheaper-only").uncheck()

    page.get_by_test_id("draw-box").click()
    page.get_by_test_id("photo-frame").scroll_into_view_if_needed()
    frame = page.get_by_test_id("photo-frame").bounding_box()
    page.mouse.move(frame["x"] + frame["width"] * 0.1, frame["y"] + frame["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(frame["x"] + frame["width"] * 0.6, frame["y"] + frame["height"] * 0.85, steps=5)
    page.mouse.up()
    page.get_by_test_id("box-slot").select_option("dress")
    page.get_by_test_id("search-box").click()

    page.get_by_test_id("garment-dress").wait_for(timeout=120_000)
    assert page.get_by_test_id("garment-dress").get_attribute("aria-pressed") == "true"
    dresses = page.locator("[data-testid=similar] [data-testid=result] .name").all_inner_texts()
    assert dresses and set(dresses) <= names["dress"]
    [box] = Garment.objects.filter(origin=Garment.Origin.BOX)
    x0, y0, x1, y1 = box.bbox
    assert box.slot == "dress" and x1 > x0 + 50 and y1 > y0 + 50
    page.screenshot(path=str(Path(__file__).resolve().parents[2] / "var" / "browser-photo-search.png"), full_page=True)
