"""Sign-up on the page and in the API share one rule; cart, checkout and order pages read right."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from shop.models import User
from shop.services.orders import order_place
from tests.factories import CartFactory, CartItemFactory, ProductFactory, UserFactory
from tests.shop.test_api import assert_error_shape

pytestmark = pytest.mark.django_db

GOOD = {
    "username": "grace",
    "email": "grace@example.com",
    "password1": "a loom of stars",
    "password2": "a loom of stars",
}


def test_the_sign_up_page_creates_an_account(client):
    response = client.post(reverse("shop:signup"), GOOD)
    assert response.status_code == 302 and User.objects.filter(username="grace").exists()


def test_the_sign_up_page_refuses_an_email_already_in_use_in_any_case(client):
    UserFactory(username="ada", email="ada@example.com")
    response = client.post(reverse("shop:signup"), {**GOOD, "email": "ADA@example.com"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert not User.objects.filter(username="grace").exists()


def test_the_api_signs_up_a_customer_and_answers_a_working_token(api_client):
    response = api_client.post(
        "/api/v1/auth/signup/",
        {"username": "grace", "email": "grace@example.com", "password": "a loom of stars"},
        format="json",
    )
    assert response.status_code == 201
    token = response.json()["token"]
    assert Token.objects.get(key=token).user.username == "grace"
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/orders/").status_code == 200


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"username": "grace", "email": "Ada@Example.com", "password": "a loom of stars"}, "email"),
        ({"username": "ADA", "email": "new@example.com", "password": "a loom of stars"}, "username"),
        ({"username": "grace", "email": "grace@example.com", "password": "123"}, "password"),
    ],
    ids=["email-in-use", "username-taken", "weak-password"],
)
def test_the_api_sign_up_refuses_what_the_page_refuses(api_client, payload, field):
    UserFactory(username="ada", email="ada@example.com")
    error = assert_error_shape(api_client.post("/api/v1/auth/signup/", payload, format="json"), 400)
    assert field in error["details"]
    assert User.objects.count() == 1


def test_cart_and_checkout_pages_show_currency_and_photos(client):
    user = UserFactory()
    cart = CartFactory(user=user)
    CartItemFactory(cart=cart, product=ProductFactory(with_image=True, name="Linen shirt"), quantity=2)
    client.force_login(user)
    for url in (reverse("shop:cart"), reverse("shop:checkout")):
        html = client.get(url).content.decode()
        assert "98.00 EUR" in html and '<img class="line-photo"' in html, url


def test_the_order_page_reads_status_then_date_without_repeating_placed(client):
    cart = CartItemFactory().cart
    order = order_place(cart=cart, user=cart.user, shipping_name="A", shipping_address="B")
    client.force_login(cart.user)
    html = client.get(order.get_absolute_url()).content.decode()
    assert "Placed</span> · ordered on" in html and "· placed" not in html


def test_the_admin_product_list_keeps_the_columns_curators_need(client):
    ProductFactory(with_image=True)
    client.force_login(UserFactory(username="curator", is_staff=True, is_superuser=True))
    html = client.get(reverse("admin:shop_product_changelist")).content.decode()
    for header in ("On sale", "Colour", "Photo", "Index"):
        assert f">{header}<" in html or f">{header}</a>" in html, header
