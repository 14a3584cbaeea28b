"""Throttles hold under forged headers; password guessing is stopped on every login path."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

from tests.factories import UserFactory
from tests.shop.test_api import assert_error_shape

pytestmark = pytest.mark.django_db


@pytest.fixture
def anon_rate_of_five():
    original = AnonRateThrottle.THROTTLE_RATES
    AnonRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "anon": "5/min"}
    yield
    AnonRateThrottle.THROTTLE_RATES = original


def test_the_shipped_anonymous_api_rate_is_at_most_120_a_minute():
    from config.settings import base

    number, period = base.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"].split("/")
    assert period.startswith("m") and int(number) <= 120
    assert base.NUM_PROXIES == 0 and base.REST_FRAMEWORK["NUM_PROXIES"] == 0


def test_a_new_x_forwarded_for_on_each_request_does_not_reset_the_anonymous_throttle(anon_rate_of_five):
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    codes = [client.get("/api/v1/categories/", HTTP_X_FORWARDED_FOR=f"10.0.{n}.{n}").status_code for n in range(8)]
    assert codes == [200] * 5 + [429] * 3


def test_behind_one_proxy_only_the_address_our_proxy_appended_counts(anon_rate_of_five, settings):
    settings.NUM_PROXIES = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client = APIClient(REMOTE_ADDR="10.0.0.2")  # the proxy
    # The client forges the left part; our proxy appends the real address on the right.
    forged = [f"203.0.113.{n}, 198.51.100.7" for n in range(8)]
    codes = [client.get("/api/v1/categories/", HTTP_X_FORWARDED_FOR=h).status_code for h in forged]
    assert codes == [200] * 5 + [429] * 3
    # Another real client behind the same proxy is not affected.
    assert client.get("/api/v1/categories/", HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 200


# --- Sign-in limits ---------------------------------------------------------------------------------


def _page_login(client, path, username, password, address):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def _api_login(client, username, password, address):
    return client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


LOGIN_PATHS = ["/accounts/login/", "/admin/login/", "/api/v1/auth/token/"]


def attempt(path: str, username: str, password: str, address: str):
    if path.startswith("/api/"):
        return _api_login(APIClient(), username, password, address)
    return _page_login(Client(), path, username, password, address)


@pytest.mark.parametrize("path", LOGIN_PATHS)
def test_an_account_is_locked_after_20_failures_from_many_addresses(path):
    UserFactory(username="ada", is_staff=True)
    for n in range(20):
        response = attempt(path, "ada", f"guess-{n}", f"192.0.2.{n}")
        assert response.status_code in (200, 400), response.status_code  # a wrong password, not yet locked
    locked = attempt(path, "ADA", "correct horse battery", "192.0.2.200")  # even the right one, any case
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "Try again in" in body and " s." in body
    wait = int(locked["Retry-After"])
    assert 0 < wait <= 15 * 60
    if path.startswith("/api/"):
        assert assert_error_shape(locked, 429, "throttled")["details"]["retry_after_seconds"] == wait


@pytest.mark.parametrize("path", LOGIN_PATHS)
def test_an_address_is_locked_after_20_failures_on_many_accounts(path):
    UserFactory(username="grace", is_staff=True)
    for n in range(20):
        attempt(path, f"user{n}", "wrong", "198.51.100.23")
    assert attempt(path, "grace", "correct horse battery", "198.51.100.23").status_code == 429
    ok = attempt(path, "grace", "correct horse battery", "198.51.100.99")  # another address, another account
    assert ok.status_code in (200, 302)


def test_failures_on_one_path_count_on_the_others():
    UserFactory(username="ada", is_staff=True)
    for n in range(7):
        attempt("/api/v1/auth/token/", "ada", "x", f"192.0.2.{n}")
        attempt("/accounts/login/", "ada", "x", f"192.0.2.{n + 10}")
        attempt("/admin/login/", "ada", "x", f"192.0.2.{n + 20}")
    assert attempt("/admin/login/", "ada", "correct horse battery", "192.0.2.99").status_code == 429


def test_a_forged_x_forwarded_for_does_not_escape_the_address_lock():
    for n in range(20):
        Client().post(
            "/accounts/login/",
            {"username": f"u{n}", "password": "x"},
            REMOTE_ADDR="198.51.100.5",
            HTTP_X_FORWARDED_FOR=f"10.1.1.{n}",
        )
    response = Client().post(
        "/accounts/login/",
        {"username": "z", "password": "x"},
        REMOTE_ADDR="198.51.100.5",
        HTTP_X_FORWARDED_FOR="1.2.3.4",
    )
    assert response.status_code == 429


def test_a_successful_sign_in_below_the_limit_clears_the_account_count():
    UserFactory(username="ada")
    for n in range(15):
        attempt("/accounts/login/", "ada", "x", f"192.0.2.{n}")
    assert attempt("/accounts/login/", "ada", "correct horse battery", "192.0.2.100").status_code == 302
    for n in range(15):
        assert attempt("/accounts/login/", "ada", "x", f"192.0.2.{n + 30}").status_code == 200


@pytest.mark.parametrize("path", LOGIN_PATHS)
def test_a_broken_multipart_body_on_a_login_path_is_a_client_error_not_a_500(path):
    response = Client().post(path, data=b"--x\r\n", content_type="multipart/form-data")  # no boundary
    assert 400 <= response.status_code < 500 or response.status_code == 200
