"""A customer's path through the real pages in headless Chromium: list → product → cart → checkout."""

from pathlib import Path

import pytest

from shop.models import Order, Product
from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_customer_finds_a_product_adds_it_to_the_cart_and_checks_out(live_server, page):
    product = ProductFactory(name="Navy linen shirt", stock=3, with_image=True)
    ProductFactory(name="Black chinos", stock=5)
    UserFactory(username="ada")

    page.goto(f"{live_server.url}/products/?q=linen")
    page.get_by_role("link", name="Navy linen shirt").first.click()
    assert page.get_by_test_id("price").inner_text().startswith("49.00")
    page.get_by_test_id("add-to-cart").click()

    assert "Added Navy linen shirt to your cart." in page.locator(".messages").inner_text()
    assert page.get_by_test_id("price").is_visible()  # still on the product page
    page.get_by_test_id("view-cart").click()
    assert page.get_by_test_id("cart-line").count() == 1
    page.get_by_test_id("checkout").click()

    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "correct horse battery")
    page.get_by_test_id("sign-in").click()

    page.fill("input[name=shipping_name]", "Ada Lovelace")
    page.fill("textarea[name=shipping_address]", "12 Loom Street, London")
    page.get_by_test_id("place-order").click()

    assert page.get_by_test_id("order-status").inner_text().startswith("Placed")
    page.screenshot(path=str(Path(__file__).resolve().parents[2] / "var" / "browser-checkout.png"), full_page=True)
    order = Order.objects.get(user__username="ada")
    assert list(order.items.values_list("sku", "quantity")) == [(product.sku, 1)]
    assert Product.objects.get(pk=product.pk).stock == 2


def test_a_cart_of_several_lines_fits_a_phone_with_its_remove_buttons(live_server, page):
    from decimal import Decimal

    products = [
        ProductFactory(name=name, price=Decimal(price), stock=5)
        for name, price in (("Grey trousers", "60.99"), ("White shirt", "70.99"), ("Black shoes", "145.99"))
    ]
    for product in products:
        page.goto(f"{live_server.url}{product.get_absolute_url()}")
        page.get_by_test_id("add-to-cart").click()
    page.get_by_test_id("view-cart").click()

    assert page.get_by_test_id("cart-line").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    assert all(button.is_visible() for button in page.get_by_test_id("remove-line").all())
