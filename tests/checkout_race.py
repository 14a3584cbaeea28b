"""Buyers racing each other to check out, each on a thread with its own database connection."""

from __future__ import annotations

import threading

from django.db import connection

from shop.errors import OutOfStock
from shop.services.carts import cart_add_item
from shop.services.orders import order_place
from tests.factories import CartFactory, UserFactory


def race_to_checkout(product, *, buyers: int, variant_id: int | None = None) -> list[str]:
    """``buyers`` new customers each put one of ``product`` (the size ``variant_id``) in a cart, then
    all check out at the same moment; each outcome is "ordered" or "out of stock"."""
    people = [UserFactory() for _ in range(buyers)]
    carts = []
    for person in people:
        cart = CartFactory(user=person)
        cart_add_item(cart=cart, product_id=product.pk, quantity=1, variant_id=variant_id)
        carts.append(cart)
    barrier = threading.Barrier(buyers)
    outcomes: list[str] = []

    def buy(cart, person):
        try:
            barrier.wait()
            order_place(cart=cart, user=person, shipping_name="A", shipping_address="B")
            outcomes.append("ordered")
        except OutOfStock:
            outcomes.append("out of stock")
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=pair) for pair in zip(carts, people, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
