"""Sizes through the API: listed with their stock, chosen by id in the cart, documented in the schema."""

import pytest
from rest_framework.test import APIClient

from shop.models import CartItem, Product, ProductVariant
from tests.factories import ProductFactory
from tests.shop.test_api import assert_error_shape

pytestmark = pytest.mark.django_db
PRODUCTS = "/api/v1/products/"
CART = "/api/v1/cart/"


def size_id(product, size) -> int:
    return ProductVariant.objects.get(product=product, size=size).pk


def test_products_list_their_sizes_in_order_with_stock(api_client):
    shirt = ProductFactory(sku="OXF", sizes={"L": 0, "S": 2, "M": 3})
    expected = [
        {"id": size_id(shirt, "S"), "size": "S", "sku": "OXF-S", "stock": 2, "in_stock": True},
        {"id": size_id(shirt, "M"), "size": "M", "sku": "OXF-M", "stock": 3, "in_stock": True},
        {"id": size_id(shirt, "L"), "size": "L", "sku": "OXF-L", "stock": 0, "in_stock": False},
    ]
    detail = api_client.get(f"{PRODUCTS}{shirt.pk}/").json()
    assert detail["sizes"] == expected and detail["stock"] == 5
    assert api_client.get(PRODUCTS).json()["results"][0]["sizes"] == expected


def test_the_cart_takes_a_size_by_id_and_two_sizes_are_two_lines(signed_in_api_client):
    shirt = ProductFactory(sizes={"S": 2, "M": 3})
    for size in ("S", "M"):
        response = signed_in_api_client.post(
            CART, {"product": shirt.pk, "variant": size_id(shirt, size), "quantity": 1}, format="json"
        )
        assert response.status_code == 201
    lines = response.json()["items"]
    assert [(line["size"], line["variant"], line["quantity"]) for line in lines] == [
        ("S", size_id(shirt, "S"), 1),
        ("M", size_id(shirt, "M"), 1),
    ]

    # A line of a product in two sizes is named by ?variant=.
    assert_error_shape(
        signed_in_api_client.patch(f"/api/v1/cart/items/{shirt.pk}/", {"quantity": 2}), 400, "size_required"
    )
    changed = signed_in_api_client.patch(
        f"/api/v1/cart/items/{shirt.pk}/?variant={size_id(shirt, 'M')}", {"quantity": 2}, format="json"
    )
    assert [line["quantity"] for line in changed.json()["items"]] == [1, 2]
    removed = signed_in_api_client.delete(f"/api/v1/cart/items/{shirt.pk}/?variant={size_id(shirt, 'S')}")
    assert [line["size"] for line in removed.json()["items"]] == ["M"]


def test_an_unknown_missing_or_sold_out_size_is_refused_with_a_clear_error(signed_in_api_client):
    shirt = ProductFactory(name="Oxford shirt", sizes={"S": 2, "M": 0})
    other = ProductFactory(sizes={"S": 1})

    error = assert_error_shape(
        signed_in_api_client.post(CART, {"product": shirt.pk, "variant": size_id(other, "S")}, format="json"),
        400,
        "unknown_size",
    )
    assert error["message"] == "That size does not exist for Oxford shirt."
    assert set(error["details"]["sizes"]) == {size_id(shirt, "S"), size_id(shirt, "M")}
    assert_error_shape(signed_in_api_client.post(CART, {"product": shirt.pk}, format="json"), 400, "size_required")
    assert_error_shape(signed_in_api_client.post(CART, {"product": shirt.pk, "variant": "M"}, format="json"), 400)
    assert_error_shape(
        signed_in_api_client.post(CART, {"product": shirt.pk, "variant": size_id(shirt, "M")}, format="json"),
        409,
        "out_of_stock",
    )
    assert not CartItem.objects.exists()


def test_a_one_size_product_needs_no_size_and_checkout_freezes_the_size(signed_in_api_client):
    hat = ProductFactory(sku="HAT", stock=2)
    assert signed_in_api_client.post(CART, {"product": hat.pk}, format="json").status_code == 201
    order = signed_in_api_client.post("/api/v1/orders/", {"shipping_name": "A", "shipping_address": "B"})
    item = order.json()["items"][0]
    assert (item["size"], item["variant_sku"], item["sku"]) == ("One size", "HAT", "HAT")
    assert Product.objects.get(pk=hat.pk).stock == 1


def test_the_schema_documents_the_size_as_a_variant_id():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    add = schema["components"]["schemas"]["CartAddRequest"]["properties"]["variant"]
    assert add["type"] == "integer" and "unknown_size" in add["description"]
    product = schema["components"]["schemas"]["Product"]["properties"]
    assert "sizes" in product
    patch = schema["paths"]["/api/v1/cart/items/{product_id}/"]["patch"]
    assert [p["name"] for p in patch["parameters"] if p["in"] == "query"] == ["variant"]


def test_a_page_of_products_reads_all_their_sizes_in_one_query(api_client, django_assert_max_num_queries):
    for _ in range(3):
        ProductFactory(sizes={"S": 1, "M": 2})
    with django_assert_max_num_queries(3):  # the count, the page, the sizes
        assert len(api_client.get(PRODUCTS).json()["results"]) == 3
