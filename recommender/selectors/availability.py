"""What a recommendation section may show: on-sale, in-stock products, in the ranking's order."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import BigIntegerField, BooleanField
from django.db.models.expressions import RawSQL

from shop.models import Product

_ID = f'"{Product._meta.db_table}"."{Product._meta.pk.column}"'


def _in_ranking_order(ids: Sequence[int]):
    """Products among ``ids`` (with their category), ordered as ``ids`` are: one query. The ids travel as
    one array parameter (for the index lookup and for the order), not as one parameter each."""
    ranking = [int(pk) for pk in ids]
    return (
        Product.objects.select_related("category")
        .filter(RawSQL(f"{_ID} = ANY(%s::bigint[])", (ranking,), output_field=BooleanField()))
        .order_by(RawSQL(f"array_position(%s::bigint[], {_ID})", (ranking,), output_field=BigIntegerField()))
    )


def products_in_order_query(ids: Sequence[int]):
    """The products with these ids, in the same order (a query set, not yet run)."""
    return _in_ranking_order(ids)


def products_in_order(ids: Sequence[int]) -> list[Product]:
    """The products with these ids (with their category), in the same order; missing ids are skipped."""
    return list(_in_ranking_order(ids)) if ids else []


def on_sale_in_order(ranked: Sequence[int]):
    """The on-sale, in-stock products among ``ranked``, in its order (a query set, not yet run)."""
    return _in_ranking_order(ranked).filter(is_active=True, stock__gt=0)


def first_on_sale(ranked: Sequence[int], *, k: int, max_price=None) -> list[Product]:
    """The first ``k`` of ``ranked`` that are on sale, in stock (and priced below ``max_price``).

    One query: the database filters and orders by the ranking, so only the ``k`` shown are loaded."""
    if not ranked or k <= 0:
        return []
    qs = on_sale_in_order(ranked)
    if max_price is not None:
        qs = qs.filter(price__lt=max_price)
    return list(qs[:k])
