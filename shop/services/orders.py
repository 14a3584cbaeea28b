"""Checkout: turn a cart into an order, reserving stock atomically."""

from __future__ import annotations

import secrets
from collections import defaultdict
from decimal import Decimal
from typing import cast

from django.db import transaction
from django.db.models import F

from shop.errors import ApplicationError, OutOfStock
from shop.models import Cart, Order, OrderItem, Product, ProductVariant
from shop.payments import get_payment_provider
from shop.sizes import ONE_SIZE


def _order_number() -> str:
    return secrets.token_hex(5).upper()


@transaction.atomic
def order_place(*, cart: Cart, user, shipping_name: str, shipping_address: str) -> Order:
    """Place an order for everything in ``cart``.

    The cart row is locked first (``SELECT … FOR UPDATE``), so a double submit of the same
    cart is serialised: the second checkout waits, then finds the cart emptied by the first
    and places nothing. Then the rows of the sizes (variants) in the cart are locked, in
    variant-id order, so two checkouts never deadlock and no size is ever sold twice: each
    size's stock is checked and lowered while its row is held, and each product's total
    (``Product.stock``) is lowered by the same amount with an ``F()`` update, in product-id
    order. If any line can't be reserved, or its size was removed from the catalog, the whole
    transaction rolls back: no order, no payment, no stock change, cart intact.
    """
    if not user.is_authenticated:
        raise ApplicationError("Sign in to check out.", code="not_authenticated")
    shipping_name, shipping_address = shipping_name.strip(), shipping_address.strip()
    if not shipping_name or not shipping_address:
        raise ApplicationError("A name and a shipping address are required.")
    if cart is None or Cart.objects.select_for_update().filter(pk=cart.pk).first() is None:
        raise ApplicationError("Your cart is empty.", code="empty_cart")
    items = list(cart.items.select_related("product").order_by("variant_id", "id"))
    if not items:
        raise ApplicationError("Your cart is empty.", code="empty_cart")

    currencies = {item.product.currency for item in items}
    if len(currencies) > 1:
        raise ApplicationError("Items priced in different currencies cannot be ordered together.")

    for item in items:
        if item.variant_id is None:
            raise OutOfStock(
                f"Size {item.size} of {item.product.name} is no longer sold: remove it from your cart "
                "and choose another size. Nothing was ordered.",
                details={"product": item.product_id, "size": item.size},
                code="size_gone",
            )
    # Locked in id order, the one order every checkout uses.
    locked = ProductVariant.objects.select_for_update().filter(pk__in=[item.variant_id for item in items])
    variants = {v.pk: v for v in locked.order_by("pk")}
    taken: dict[int, int] = defaultdict(int)
    for item in items:
        variant = variants.get(item.variant_id) if item.variant_id is not None else None
        if variant is None:  # removed between reading the cart and locking the sizes
            raise OutOfStock(
                f"Size {item.size} of {item.product.name} is no longer sold: remove it from your cart "
                "and choose another size. Nothing was ordered.",
                details={"product": item.product_id, "size": item.size},
                code="size_gone",
            )
        if not item.product.is_active:
            raise OutOfStock(f"{item.product.name} is no longer on sale.", details={"product": item.product_id})
        if variant.stock < item.quantity:
            label = item.product.name if variant.size == ONE_SIZE else f"{item.product.name} in size {variant.size}"
            raise OutOfStock(
                f"Only {variant.stock} of {label} left.",
                details={
                    "product": item.product_id,
                    "variant": variant.pk,
                    "available": variant.stock,
                    "requested": item.quantity,
                },
            )
        ProductVariant.objects.filter(pk=variant.pk).update(stock=F("stock") - item.quantity)
        taken[item.product_id] += item.quantity
    for product_id in sorted(taken):
        Product.objects.filter(pk=product_id).update(stock=F("stock") - taken[product_id])

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
            variant=variants[cast(int, item.variant_id)],  # every line's size was locked above
            size=variants[cast(int, item.variant_id)].size,
            variant_sku=variants[cast(int, item.variant_id)].sku,
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
