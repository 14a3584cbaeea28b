from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shop.models import Order, Product
from tests.factories import CartFactory, CartItemFactory, CategoryFactory, ProductFactory, UserFactory, stock_set
from tests.images import bomb_png, jpeg_bytes, truncated_jpeg

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def assert_error_shape(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_product_list_filters_and_paginates(api_client):
    cheap = ProductFactory(price=Decimal("10"), colour="red")
    ProductFactory(price=Decimal("99"), colour="red")
    ProductFactory(is_active=False, price=Decimal("5"), colour="red")
    response = api_client.get(PRODUCTS, {"colour": "red", "max_price": "50"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"][0]["sku"] == cheap.sku
    assert body["results"][0]["category"]["slot"] == cheap.category.slot


def test_unknown_filter_is_a_400_with_the_error_shape(api_client):
    error = assert_error_shape(api_client.get(PRODUCTS, {"colour": "red", "colr": "blue"}), 400, "invalid_filter")
    assert "colr" in error["details"]


def test_malformed_filter_values_are_rejected(api_client):
    error = assert_error_shape(api_client.get(PRODUCTS, {"min_price": "cheap", "slot": "hat"}), 400)
    assert set(error["details"]) == {"min_price", "slot"}


def test_a_page_past_the_end_is_a_404_with_the_error_shape(api_client):
    ProductFactory()
    assert_error_shape(api_client.get(PRODUCTS, {"page": "99"}), 404)
    assert_error_shape(api_client.get(PRODUCTS, {"page": "abc"}), 404)


def test_product_detail_and_missing_product(api_client):
    product = ProductFactory()
    assert api_client.get(f"{PRODUCTS}{product.pk}/").json()["slug"] == product.slug
    assert_error_shape(api_client.get(f"{PRODUCTS}999999/"), 404)


def test_categories_are_listed(api_client):
    CategoryFactory(slug="skirts", name="Skirts", slot="bottom")
    assert {"slug": "skirts", "slot": "bottom"}.items() <= api_client.get("/api/v1/categories/").json()[0].items()


def test_token_authentication_and_missing_auth(api_client):
    UserFactory(username="mobile")
    token = api_client.post("/api/v1/auth/token/", {"username": "mobile", "password": "correct horse battery"})
    assert token.status_code == 200 and token.json()["token"]
    assert_error_shape(api_client.get("/api/v1/orders/"), 401)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert api_client.get("/api/v1/orders/").status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert_error_shape(api_client.get("/api/v1/orders/"), 401)


def test_cart_and_checkout_through_the_api(signed_in_api_client):
    product = ProductFactory(stock=3, price=Decimal("25"))
    added = signed_in_api_client.post("/api/v1/cart/", {"product": product.pk, "quantity": 2})
    assert added.status_code == 201 and added.json()["total"] == "50.00"
    changed = signed_in_api_client.patch(f"/api/v1/cart/items/{product.pk}/", {"quantity": 1})
    assert changed.json()["count"] == 1
    order = signed_in_api_client.post("/api/v1/orders/", {"shipping_name": "A", "shipping_address": "B"})
    assert order.status_code == 201
    assert order.json()["total"] == "25.00"
    assert Product.objects.get(pk=product.pk).stock == 2
    number = order.json()["number"]
    assert signed_in_api_client.get(f"/api/v1/orders/{number}/").status_code == 200


def test_api_checkout_with_too_little_stock_is_a_409_and_changes_nothing(signed_in_api_client):
    product = ProductFactory(stock=2)
    signed_in_api_client.post("/api/v1/cart/", {"product": product.pk, "quantity": 2})
    stock_set(product, 1)
    error = assert_error_shape(
        signed_in_api_client.post("/api/v1/orders/", {"shipping_name": "A", "shipping_address": "B"}),
        409,
        "out_of_stock",
    )
    variant = product.variants.get()
    assert error["details"] == {"product": product.pk, "variant": variant.pk, "available": 1, "requested": 2}
    assert not Order.objects.exists() and Product.objects.get(pk=product.pk).stock == 1


def test_adding_an_unknown_or_inactive_product_is_a_404(signed_in_api_client):
    hidden = ProductFactory(is_active=False)
    assert_error_shape(signed_in_api_client.post("/api/v1/cart/", {"product": hidden.pk}), 404)
    assert_error_shape(signed_in_api_client.post("/api/v1/cart/", {"product": "x"}), 400)


def test_orders_of_other_customers_are_invisible(signed_in_api_client):
    other = UserFactory()
    cart = CartFactory(user=other)
    CartItemFactory(cart=cart)
    from shop.services.orders import order_place

    order = order_place(cart=cart, user=other, shipping_name="A", shipping_address="B")
    assert_error_shape(signed_in_api_client.get(f"/api/v1/orders/{order.number}/"), 404)
    assert signed_in_api_client.get("/api/v1/orders/").json() == []


@pytest.fixture
def staff_client(api_client):
    staff = UserFactory(username="curator", is_staff=True)
    api_client.force_authenticate(staff)
    return api_client


@pytest.mark.parametrize(
    "payload, fragment",
    [
        (b"this is not an image", "image"),
        (truncated_jpeg(), "image"),
        (bomb_png(), "megapixels"),
    ],
    ids=["text", "truncated", "decompression-bomb"],
)
def test_bad_image_uploads_are_a_400_and_leave_the_product_alone(staff_client, payload, fragment):
    product = ProductFactory()
    upload = SimpleUploadedFile("photo.png", payload, content_type="image/png")
    error = assert_error_shape(
        staff_client.post(f"{PRODUCTS}{product.pk}/image/", {"image": upload}, format="multipart"), 400
    )
    assert fragment in str(error).lower()
    product.refresh_from_db()
    assert not product.image and product.image_status == Product.ImageStatus.NONE


def test_a_good_image_upload_is_accepted_and_queued(staff_client):
    product = ProductFactory()
    upload = SimpleUploadedFile("photo.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = staff_client.post(f"{PRODUCTS}{product.pk}/image/", {"image": upload}, format="multipart")
    assert response.status_code == 202
    product.refresh_from_db()
    assert product.image and product.image_status == Product.ImageStatus.PENDING and len(product.image_sha256) == 64


def test_only_curators_may_upload_product_images(signed_in_api_client):
    product = ProductFactory()
    upload = SimpleUploadedFile("photo.jpg", jpeg_bytes(), content_type="image/jpeg")
    assert_error_shape(
        signed_in_api_client.post(f"{PRODUCTS}{product.pk}/image/", {"image": upload}, format="multipart"), 403
    )


def test_throttling_answers_429_with_the_error_shape(api_client, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import AnonRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "anon": "2/min"}
    original = AnonRateThrottle.THROTTLE_RATES
    AnonRateThrottle.THROTTLE_RATES = rates
    try:
        codes = [api_client.get("/api/v1/categories/").status_code for _ in range(3)]
        assert codes[:2] == [200, 200]
        error = assert_error_shape(api_client.get("/api/v1/categories/"), 429)
        assert error["details"]["retry_after_seconds"] > 0
    finally:
        AnonRateThrottle.THROTTLE_RATES = original


def test_openapi_schema_is_served_and_docs_page_loads(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/products/" in spec["paths"]
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200 and b"swagger-ui" in docs.content


def test_openapi_schema_validates(capsys):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_similar_items_and_complements_answer_in_one_documented_envelope(client):
    spec = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = spec["components"]["schemas"]

    def envelope(path):
        ref = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        return components[ref.rsplit("/", 1)[1]]

    similar = envelope("/api/v1/products/{id}/similar/")
    complements = envelope("/api/v1/products/{id}/complements/")
    for body in (similar, complements):
        assert list(body["properties"]) == ["items", "empty_reason", "message"]
        assert body["properties"]["items"]["type"] == "array"
    assert similar["properties"]["empty_reason"] == complements["properties"]["empty_reason"]
    assert similar["properties"]["items"]["items"]["$ref"].endswith("/Product")
