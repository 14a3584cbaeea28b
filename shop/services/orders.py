"""Checkout: turn a cart into an order, reserving stock atomically."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from shop.errors import ApplicationError, OutOfStock
from shop.models import Cart, Order, OrderItem, Product
from shop.payments import get_payment_provider


def _order_number() -> str:
    return secrets.token_hex(5).upper()


@transaction.atomic
def order_place(*, cart: Cart, user, shipping_name: str, shipping_address: str) -> Order:
    """Place an order for everything in ``cart``.

    The cart row is locked first (``SELECT … FOR UPDATE``), so a double submit of the same
    cart is serialised: the second checkout waits, then finds the cart emptied by the first
    and places nothing. Stock is reserved with one conditional ``UPDATE … WHERE stock >= qty``
    per line, taken in product-id order (so two checkouts never deadlock). If any line can't
    be reserved, the whole transaction rolls back: no order, no stock change, cart intact.
    """
    if not user.is_authenticated:
        raise ApplicationError("Sign in to check out.", code="not_authenticated")
    shipping_name, shipping_address = shipping_name.strip(), shipping_address.strip()
    if not shipping_name or not shipping_address:
        raise ApplicationError("A name and a shipping address are required.")
    if cart is None or Cart.objects.select_for_update().filter(pk=cart.pk).first() is None:
        raise ApplicationError("Your cart is empty.", code="empty_cart")
    items = list(cart.items.select_related("product").order_by("product_id"))
    if not items:
        raise ApplicationError("Your cart is empty.", code="empty_cart")

    currencies = {item.product.currency for item in items}
    if len(currencies) > 1:
        raise ApplicationError("Items priced in different currencies cannot be ordered together.")

    for item in items:
        if not item.product.is_active:
            raise OutOfStock(f"{item.product.name} is no longer on sale.", details={"product": item.product_id})
        reserved = Product.objects.filter(pk=item.product_id, is_active=True, stock__gte=item.quantity).update(
            stock=F("stock") - item.quantity
        )
        if not reserved:
            available = Product.objects.values_list("stock", flat=True).get(pk=item.product_id)
            raise OutOfStock(
                f"Only {available} of {item.product.name} left.",
                details={"product": item.product_id, "available": available, "requested": item.quantity},
            )

    total = sum((item.product.price * item.quantity for item in items), Decimal("0"))
    order = Order.objects.create(
        number=_order_number(),
        user=user,
        total=total,
        currency=currencies.pop(),
        shipping_name=shipping_name,
        shipping_address=shipping_address,
        payment_provider="",
    )
    OrderItem.objects.bulk_create(
        OrderItem(
            order=order,
            product=item.product,
            product_name=item.product.name,
            sku=item.product.sku,
            unit_price=item.product.price,
            quantity=item.quantity,
        )
        for item in items
    )
    payment = get_payment_provider().authorise(order_number=order.number, amount=total, currency=order.currency)
    order.payment_provider = payment.provider
    order.payment_reference = payment.reference
    order.status = Order.Status.PAID if payment.paid else Order.Status.PLACED
    order.save(update_fields=["payment_provider", "payment_reference", "status"])
    cart.items.all().delete()
    return order
