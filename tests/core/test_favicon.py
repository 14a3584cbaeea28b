"""The shop's icon: every page links it, and browsers that ask for /favicon.ico find it too."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders


@pytest.mark.django_db
def test_favicon_ico_is_not_a_404_but_leads_to_the_shops_svg_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.svg"
    icon = finders.find("favicon.svg")
    assert icon and open(icon).read().startswith("<svg")


@pytest.mark.django_db
def test_every_page_links_the_svg_icon(client):
    page = client.get("/").content.decode()

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
