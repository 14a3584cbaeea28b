"""The photo-upload rate holds per account and per client address at once, on the page and in the API."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from recommender.models import PhotoSearch
from tests.factories import UserFactory
from tests.recommender.test_photo_search import outfit_upload

pytestmark = pytest.mark.django_db(transaction=True)
API = "/api/v1/photo-searches/"
PAGE = "/shop-by-photo/"


@pytest.fixture(autouse=True)
def two_uploads_a_minute(settings, unconsumed_queue):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1000/min", "user": "1000/min", "photo_upload": "2/min"},
    }


def api_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def api_upload(client, address: str, **headers) -> int:
    return client.post(API, {"photo": outfit_upload()}, format="multipart", REMOTE_ADDR=address, **headers).status_code


def page_upload(client, address: str, **headers) -> int:
    return client.post(PAGE, {"photo": outfit_upload()}, REMOTE_ADDR=address, **headers).status_code


def test_a_new_account_from_a_throttled_address_is_throttled_too():
    visitor = api_client()
    assert [api_upload(visitor, "203.0.113.7") for _ in range(3)] == [202, 202, 429]

    assert api_upload(api_client(UserFactory()), "203.0.113.7") == 429  # a fresh account, API
    page = Client()
    page.force_login(UserFactory())
    assert page_upload(page, "203.0.113.7") == 429  # a fresh account, upload page
    assert api_upload(api_client(UserFactory()), "198.51.100.2") == 202  # another address is not affected
    assert PhotoSearch.objects.count() == 3


def test_an_account_is_throttled_from_every_address():
    user = UserFactory()
    client = api_client(user)
    assert [api_upload(client, f"198.51.100.{n}") for n in (1, 2, 3)] == [202, 202, 429]


def test_the_upload_page_and_the_api_count_against_the_same_buckets():
    user = UserFactory()
    page = Client()
    page.force_login(user)
    assert page_upload(page, "192.0.2.5") == 302
    assert api_upload(api_client(user), "192.0.2.5") == 202
    assert page_upload(page, "192.0.2.5") == 429
    assert api_upload(api_client(UserFactory()), "192.0.2.5") == 429


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_forged_x_forwarded_for_buys_no_more_uploads(settings, proxies):
    settings.NUM_PROXIES = proxies
    statuses = []
    for n in range(4):
        forged = f"10.9.8.{n}"
        # Without a proxy the socket's address counts; behind one, the address our proxy appended last.
        forwarded = forged if proxies == 0 else f"{forged}, 203.0.113.50"
        statuses.append(
            api_upload(
                api_client(UserFactory()), "127.0.0.1" if proxies else "203.0.113.50", HTTP_X_FORWARDED_FOR=forwarded
            )
        )
    assert statuses == [202, 202, 429, 429]
