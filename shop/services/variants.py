"""Sizes of a product (variants) and the product's stock total.

``Product.stock`` is the total of its variants' stock. Every write that changes a variant's
stock changes the product's total in the same transaction, with an atomic ``F()`` update
(or, after a curator's bulk edit, the sum of the variant rows it holds locked), so the
recommender's ``stock > 0`` filters keep meaning "some size is in stock".

Lock order, everywhere: a product's variant rows (by id), then product rows (by id). The
checkout takes them in that order too, so no two writers wait on each other in a circle.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Sum

from shop.errors import ApplicationError
from shop.models import Product, ProductVariant
from shop.sizes import size_normalise, size_rank, variant_sku_for


def size_clean(label: str) -> tuple[str, int]:
    """The normalised label and its sort rank; an ApplicationError for an empty or overlong label."""
    try:
        size = size_normalise(label)
    except ValueError as exc:
        raise ApplicationError(str(exc), code="bad_size") from None
    return size, size_rank(size)


def variant_sku_check(
    *, sku: str, product_id: int | None = None, exclude_pk: int | None = None, other_products_only: bool = False
) -> None:
    """A variant SKU is unique across every product's sizes: a clash names the size that holds it.

    ``other_products_only`` leaves clashes within the product to the caller (a form set that swaps
    two sizes' SKUs checks them together)."""
    others = ProductVariant.objects.filter(sku__iexact=sku)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if other_products_only and product_id is not None:
        others = others.exclude(product_id=product_id)
    clash = others.select_related("product").first()
    if clash is None:
        return
    if clash.product_id == product_id:
        raise ApplicationError(f"variant SKU '{sku}' is already size {clash.size} of this product", code="sku_clash")
    owner = clash.product
    raise ApplicationError(
        f"variant SKU '{sku}' is already used by {owner.name} ({owner.sku}), size {clash.size}",
        code="sku_clash",
        details={"variant_sku": sku, "product": owner.pk},
    )


def variants_lock(*, product_id: int) -> list[ProductVariant]:
    """The product's variant rows, locked (``SELECT … FOR UPDATE``) in id order."""
    return list(ProductVariant.objects.select_for_update().filter(product_id=product_id).order_by("pk"))


@transaction.atomic
def product_stock_sync(*, product_id: int) -> int:
    """Set ``Product.stock`` to the total of its variants, read while they are held locked.

    Used after a curator's inline edit, where sizes are added, removed and restocked at once."""
    total = sum(v.stock for v in variants_lock(product_id=product_id))
    Product.objects.filter(pk=product_id).update(stock=total)
    return total


@transaction.atomic
def variant_create(*, product: Product, size: str, sku: str = "", stock: int = 0) -> ProductVariant:
    """Add a size to ``product``; its stock is added to the product's total."""
    if stock < 0:
        raise ApplicationError("Stock cannot be negative.")
    label, rank = size_clean(size)
    if ProductVariant.objects.filter(product=product, size=label).exists():
        raise ApplicationError(f"{product.name} already has size {label}.", code="duplicate_size")
    sku = (sku or variant_sku_for(product.sku, label)).strip()
    variant_sku_check(sku=sku, product_id=product.pk)
    variant = ProductVariant.objects.create(product=product, size=label, size_rank=rank, sku=sku, stock=stock)
    if stock:
        Product.objects.filter(pk=product.pk).update(stock=F("stock") + stock)
    return variant


@transaction.atomic
def variant_set_stock(*, variant_id: int, stock: int) -> ProductVariant:
    """Set one size's stock; the product's total moves by the difference, in the same transaction."""
    if stock < 0:
        raise ApplicationError("Stock cannot be negative.")
    variant = ProductVariant.objects.select_for_update().get(pk=variant_id)
    delta = stock - variant.stock
    if delta:
        ProductVariant.objects.filter(pk=variant.pk).update(stock=stock)
        Product.objects.filter(pk=variant.product_id).update(stock=F("stock") + delta)
        variant.stock = stock
    return variant


def product_stock_total(*, product_id: int) -> int:
    """The total of a product's variants' stock, as stored (for checks and reports)."""
    return ProductVariant.objects.filter(product_id=product_id).aggregate(n=Sum("stock"))["n"] or 0
