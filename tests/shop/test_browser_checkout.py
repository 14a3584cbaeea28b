"""A customer's path through the real pages in headless Chromium: list → product → cart → checkout."""

import os
import shutil
from pathlib import Path

import pytest

from shop.models import Order, Product
from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def page():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls in the test are still
    # plain synchronous code, so Django's async guard does not apply here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
        yield context.new_page()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_a_customer_finds_a_product_adds_it_to_the_cart_and_checks_out(live_server, page):
    product = ProductFactory(name="Navy linen shirt", stock=3, with_image=True)
    ProductFactory(name="Black chinos", stock=5)
    UserFactory(username="ada")

    page.goto(f"{live_server.url}/products/?q=linen")
    page.get_by_role("link", name="Navy linen shirt").first.click()
    assert page.get_by_test_id("price").inner_text().startswith("49.00")
    page.get_by_test_id("add-to-cart").click()

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
