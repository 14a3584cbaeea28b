"""A cart checked out many times at once makes exactly one order (real PostgreSQL, real threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from shop.errors import ApplicationError
from shop.models import Cart, Order, Product
from shop.services.orders import order_place
from tests.factories import CartFactory, CartItemFactory, ProductFactory

SUBMITS = 8


def _at_once(work, n: int = SUBMITS) -> list:
    """Run ``work()`` in ``n`` threads released together; each thread has its own DB connection."""
    barrier, results = threading.Barrier(n), []

    def run():
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:  # noqa: BLE001 - collected and asserted on
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_a_one_unit_cart_submitted_eight_times_at_once_makes_exactly_one_order():
    cart = CartItemFactory(product=ProductFactory(stock=5), quantity=1).cart
    results = _at_once(
        lambda: order_place(
            cart=Cart.objects.get(pk=cart.pk), user=cart.user, shipping_name="Ada", shipping_address="1 Loom St"
        )
    )
    orders = [r for r in results if isinstance(r, Order)]
    refusals = [r for r in results if isinstance(r, ApplicationError)]
    assert len(orders) == 1 and len(refusals) == SUBMITS - 1, results
    assert {r.code for r in refusals} == {"empty_cart"}
    assert Order.objects.count() == 1
    assert Product.objects.get().stock == 4


@pytest.mark.django_db(transaction=True)
def test_double_submits_through_the_api_make_one_order():
    cart = CartFactory()
    CartItemFactory(cart=cart, product=ProductFactory(stock=3), quantity=1)
    token = Token.objects.create(user=cart.user).key

    def submit():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client.post("/api/v1/orders/", {"shipping_name": "Ada", "shipping_address": "1 Loom St"}).status_code

    codes = _at_once(submit)
    assert sorted(codes) == [201] + [400] * (SUBMITS - 1)
    assert Order.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_double_submits_of_the_checkout_page_make_one_order():
    cart = CartFactory()
    CartItemFactory(cart=cart, product=ProductFactory(stock=3), quantity=1)

    def submit():
        from django.test import Client

        client = Client()
        client.force_login(cart.user)
        return client.post("/checkout/", {"shipping_name": "Ada", "shipping_address": "1 Loom St"}).status_code

    codes = _at_once(submit)
    assert codes.count(302) >= 1  # the winner goes to its order; the others see an empty cart
    assert Order.objects.count() == 1
