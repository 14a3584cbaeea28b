"""What a recommendation section may show: on-sale, in-stock products, in the ranking's order."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.postgres.fields import ArrayField
from django.db.models import BigIntegerField, F, Func, Value

from shop.models import Product


def _in_ranking_order(ids: Sequence[int]):
    """Products among ``ids`` (with their category), ordered as ``ids`` are: one query."""
    ranking = Value(list(ids), output_field=ArrayField(BigIntegerField()))
    return (
        Product.objects.select_related("category")
        .filter(pk__in=list(ids))
        .annotate(rank=Func(ranking, F("pk"), function="array_position", output_field=BigIntegerField()))
        .order_by("rank")
    )


def products_in_order(ids: Sequence[int]) -> list[Product]:
    """The products with these ids (with their category), in the same order; missing ids are skipped."""
    return list(_in_ranking_order(ids)) if ids else []


def first_on_sale(ranked: Sequence[int], *, k: int, max_price=None) -> list[Product]:
    """The first ``k`` of ``ranked`` that are on sale, in stock (and priced below ``max_price``).

    One query: the database filters and orders by the ranking, so only the ``k`` shown are loaded."""
    if not ranked or k <= 0:
        return []
    qs = _in_ranking_order(ranked).filter(is_active=True, stock__gt=0)
    if max_price is not None:
        qs = qs.filter(price__lt=max_price)
    return list(qs[:k])
