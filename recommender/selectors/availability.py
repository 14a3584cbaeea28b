"""What a recommendation section may show: on-sale, in-stock products, in the ranking's order."""

from __future__ import annotations

from collections.abc import Sequence

from shop.models import Product


def products_in_order(ids: Sequence[int]) -> list[Product]:
    """The products with these ids (with their category), in the same order; missing ids are skipped."""
    found = Product.objects.select_related("category").in_bulk(list(ids))
    return [found[pk] for pk in ids if pk in found]


def first_on_sale(ranked: Sequence[int], *, k: int, max_price=None) -> list[Product]:
    """The first ``k`` of ``ranked`` that are on sale, in stock (and priced below ``max_price``).

    Availability is checked on ids alone, so only the ``k`` products shown are loaded."""
    qs = Product.objects.filter(pk__in=list(ranked), is_active=True, stock__gt=0)
    if max_price is not None:
        qs = qs.filter(price__lt=max_price)
    available = set(qs.values_list("pk", flat=True))
    return products_in_order([pk for pk in ranked if pk in available][:k])
