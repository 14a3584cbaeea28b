"""Odd input never becomes a 500, and the API answers only its JSON error shape."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import path
from rest_framework.test import APIClient

from config.urls import urlpatterns as site_urlpatterns
from shop.models import Cart
from shop.validators import clean_text
from tests.factories import ProductFactory
from tests.shop.test_api import assert_error_shape

pytestmark = pytest.mark.django_db


def test_clean_text_drops_nul_and_control_characters_and_caps_the_length():
    assert clean_text(" shirt\x00\x1b[31m ") == "shirt[31m"
    assert clean_text("a\tb\nc", multiline=True) == "a\tb\nc"
    assert clean_text("a\tb\nc") == "abc"
    assert clean_text("x" * 500, max_length=100) == "x" * 100
    assert clean_text(None) == ""


@pytest.mark.parametrize("param", ["q", "brand", "category", "colour", "sort", "min_price"])
def test_a_nul_byte_in_a_page_filter_is_ignored_not_a_server_error(client, param):
    product = ProductFactory(name="Oxford shirt")
    response = client.get(f"/products/?{param}=%00")
    assert response.status_code == 200
    assert product.name in response.content.decode()


@pytest.mark.parametrize("param", ["q", "brand", "category"])
def test_a_nul_byte_in_an_api_filter_is_cleaned_not_a_server_error(api_client, param):
    ProductFactory()
    response = api_client.get(f"/api/v1/products/?{param}=%00")
    assert response.status_code == 200 and response.json()["count"] == 1
    response = api_client.get(f"/api/v1/products/?{param}=shirt%00")
    assert response.status_code == 200


def test_a_nul_byte_in_an_order_number_is_a_404_on_the_page_and_in_the_api(client, signed_in_api_client):
    client.force_login(signed_in_api_client.user)
    assert client.get("/orders/%00/").status_code == 404
    assert_error_shape(signed_in_api_client.get("/api/v1/orders/%00/"), 404)
    assert_error_shape(signed_in_api_client.get("/api/v1/orders/AB%00CD/"), 404)


@pytest.mark.parametrize(
    "url", ["/api/v1/products/abc/", "/api/v1/nothing-here/", "/api/v2/products/", "/api/v1/cart/items/x/"]
)
def test_unknown_api_routes_and_bad_ids_answer_the_json_error_shape(api_client, url):
    response = api_client.get(url)
    assert response["Content-Type"] == "application/json"
    assert_error_shape(response, 404, "not_found")


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("url", ["/api/v1/nothing-here/", "/api/v2/products/", "/api/nope", "/api/"])
def test_unknown_api_routes_answer_the_json_error_shape_under_the_dev_server_too(client, settings, method, url):
    settings.DEBUG = True  # the dev server's setting: Django's own 404 is an HTML debug page there

    response = getattr(client, method)(url)

    assert response["Content-Type"] == "application/json"
    assert_error_shape(response, 404, "not_found")


def test_a_known_api_route_without_its_slash_is_still_redirected_to_it(client, settings):
    settings.DEBUG = True
    response = client.get("/api/v1/products?page=2")
    assert response.status_code == 301 and response.url == "/api/v1/products/?page=2"


def test_unknown_pages_outside_the_api_stay_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_the_api_never_answers_html_even_when_a_browser_asks_for_it(api_client):
    ProductFactory()
    response = api_client.get("/api/v1/products/", HTTP_ACCEPT="text/html")
    assert response.status_code in (200, 406)
    assert response["Content-Type"].startswith("application/json")
    assert_error_shape(api_client.get("/api/v1/products/?format=api"), 404)


def _boom(request, version=None):
    raise RuntimeError("a bug")


urlpatterns = [path("api/v1/boom/", _boom), path("boom/", _boom), *site_urlpatterns]
handler404 = "shop.api.errors.page_not_found"
handler500 = "shop.api.errors.server_error"


@pytest.mark.urls("tests.shop.test_hostile_input")
def test_an_unexpected_error_in_the_api_is_a_json_500_with_production_settings(settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/boom/")
    assert response["Content-Type"] == "application/json"
    assert_error_shape(response, 500, "server_error")
    assert "a bug" not in response.content.decode()
    assert client.get("/boom/")["Content-Type"].startswith("text/html")


def test_an_anonymous_cross_site_post_to_the_api_cart_is_refused_without_the_csrf_token():
    product = ProductFactory()
    browser = APIClient(enforce_csrf_checks=True)
    assert_error_shape(browser.post("/api/v1/cart/", {"product": product.pk}, format="json"), 403)
    assert not Cart.objects.exists()
    # The same client, with the token the cart page handed out, may write.
    token = browser.get("/api/v1/cart/").cookies["csrftoken"].value
    response = browser.post("/api/v1/cart/", {"product": product.pk}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_token_clients_need_no_csrf_token(signed_in_api_client):
    product = ProductFactory()
    signed_in_api_client.handler.enforce_csrf_checks = True
    assert signed_in_api_client.post("/api/v1/cart/", {"product": product.pk}, format="json").status_code == 201


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "https:///evil.example"])
def test_add_to_cart_never_redirects_off_site(client, target):
    product = ProductFactory()
    response = client.post(f"/cart/add/{product.pk}/", {"quantity": "0", "next": target})
    assert response.status_code == 302
    assert response.url == product.get_absolute_url()


def test_add_to_cart_follows_a_local_next(client):
    product = ProductFactory()
    response = client.post(f"/cart/add/{product.pk}/", {"quantity": "0", "next": product.get_absolute_url()})
    assert response.url == product.get_absolute_url()


@pytest.mark.parametrize("url", ["/", "/products/", "/accounts/login/", "/api/docs/", "/admin/login/"])
def test_every_page_carries_a_content_security_policy_without_inline_scripts(client, url):
    policy = client.get(url)["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_the_swagger_page_has_no_inline_script(client):
    html = client.get("/api/docs/").content.decode()
    assert "<script>" not in html and "<script src=" in html
