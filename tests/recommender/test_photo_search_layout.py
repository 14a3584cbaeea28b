"""The shop-by-photo result page in headless Chromium: the outline layer lies exactly over the photo,
on a phone and on a laptop (where the results column beside the photo is much taller than it)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from recommender.services.photo_search import photo_search_create, photo_search_run
from tests.factories import UserFactory
from tests.recommender.test_photo_search import indexed_catalog, outfit_upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _finished_search_page(live_server, page):
    """A signed-in customer's finished search (a real outfit photo) open in the browser, a garment selected."""
    indexed_catalog(per_slot=3)
    user = UserFactory(username="ada")
    search = photo_search_create(upload=outfit_upload(), user=user)
    photo_search_run(search_id=search.pk)
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    page.goto(f"{live_server.url}/shop-by-photo/{search.pk}/")
    page.locator('[data-testid="outlines"] polygon').first.wait_for()
    page.locator("[data-testid=similar] [data-testid=result] img").first.wait_for()
    for image in page.locator("img").all():  # polled from here: the page's CSP forbids wait_for_function's eval
        expect(image).to_have_js_property("complete", True)


def _assert_the_outlines_cover_the_photo_exactly(page):
    photo = page.locator('[data-testid="photo-frame"] img').bounding_box()
    outlines = page.get_by_test_id("outlines").bounding_box()
    assert photo["width"] > 100 and photo["height"] > 100
    for side in ("x", "y", "width", "height"):
        assert outlines[side] == pytest.approx(photo[side], abs=1), (side, outlines, photo)


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_the_outlines_lie_exactly_over_the_photo_at_every_width(live_server, size, embedder_weights_dir, request):
    page = request.getfixturevalue("laptop_page" if size == "laptop" else "page")
    _finished_search_page(live_server, page)
    if size == "laptop":
        # The case that went wrong: beside the photo, the results column is taller than the photo.
        results = page.locator(".results").bounding_box()
        photo = page.locator('[data-testid="photo-frame"] img').bounding_box()
        assert results["height"] > photo["height"]
    _assert_the_outlines_cover_the_photo_exactly(page)
