"""Reading or emptying a cart never creates one; abandoned carts and sessions are cleaned up."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from shop.models import Cart
from tests.factories import CartFactory, CartItemFactory, ProductFactory
from tests.shop.test_api import assert_error_shape

pytestmark = pytest.mark.django_db


def test_cookie_less_api_reads_patches_and_deletes_create_no_cart_and_no_session():
    product = ProductFactory()
    for _ in range(5):
        client = APIClient()  # a new client each time: no cookies at all
        assert client.get("/api/v1/cart/").status_code == 200
        assert_error_shape(client.patch(f"/api/v1/cart/items/{product.pk}/", {"quantity": 1}, format="json"), 404)
        assert_error_shape(client.delete(f"/api/v1/cart/items/{product.pk}/"), 404)
    assert Cart.objects.count() == 0 and Session.objects.count() == 0


def test_cookie_less_page_reads_and_updates_create_no_cart_and_no_session():
    product = ProductFactory()
    client = Client()
    assert client.get("/cart/").status_code == 200
    assert client.get("/").status_code == 200
    client.post(f"/cart/update/{product.pk}/", {"quantity": "0"})
    assert Cart.objects.count() == 0 and Session.objects.count() == 0


def test_patch_with_an_empty_body_is_a_400_as_documented(signed_in_api_client):
    product = ProductFactory()
    signed_in_api_client.post("/api/v1/cart/", {"product": product.pk}, format="json")
    assert_error_shape(signed_in_api_client.patch(f"/api/v1/cart/items/{product.pk}/", {}, format="json"), 400)
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    body = schema["paths"]["/api/v1/cart/items/{product_id}/"]["patch"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["required"] == ["quantity"]


def test_asking_for_more_than_the_stock_is_a_409_as_documented(signed_in_api_client):
    product = ProductFactory(stock=2)
    assert_error_shape(
        signed_in_api_client.post("/api/v1/cart/", {"product": product.pk, "quantity": 3}, format="json"),
        409,
        "out_of_stock",
    )
    signed_in_api_client.post("/api/v1/cart/", {"product": product.pk, "quantity": 2}, format="json")
    assert_error_shape(
        signed_in_api_client.patch(f"/api/v1/cart/items/{product.pk}/", {"quantity": 3}, format="json"), 409
    )


def test_clean_carts_deletes_expired_sessions_orphaned_and_empty_anonymous_carts_only():
    now = timezone.now()
    live = Session.objects.create(session_key="live", session_data="", expire_date=now + timedelta(days=1))
    Session.objects.create(session_key="dead", session_data="", expire_date=now - timedelta(days=1))
    kept_full = CartFactory(user=None, session_key=live.session_key)
    CartItemFactory(cart=kept_full)
    kept_recent_empty = CartFactory(user=None, session_key=live.session_key)
    old_empty = CartFactory(user=None, session_key=live.session_key)
    Cart.objects.filter(pk=old_empty.pk).update(updated_at=now - timedelta(hours=3))
    orphan = CartFactory(user=None, session_key="dead")
    CartItemFactory(cart=orphan)
    customer_empty = CartFactory()  # a customer's empty cart is theirs to keep
    Cart.objects.filter(pk=customer_empty.pk).update(updated_at=now - timedelta(days=30))

    out = io.StringIO()
    call_command("clean_carts", stdout=out)

    assert "1 expired sessions, 1 orphaned carts and 1 empty carts deleted" in out.getvalue()
    assert set(Cart.objects.values_list("pk", flat=True)) == {kept_full.pk, kept_recent_empty.pk, customer_empty.pk}
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]


def test_the_cleanup_runs_hourly_from_celery_beat(settings):
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["clean-carts-and-sessions"]
    assert entry["task"] == "shop.tasks.clean_carts" and entry["schedule"] <= 3600
    app.loader.import_default_modules()
    assert "shop.tasks.clean_carts" in app.tasks
