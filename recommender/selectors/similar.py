"""Similar items: look-alikes of a product.

They come from a nearest-neighbour query over garment vectors in PostgreSQL. The
neighbour *ranking* (ids by distance, same slot) is cached per product, model version
and vectors generation; availability, price and the product itself are filtered live on
every request, so a sold-out item disappears at once without flushing the cache.

pgvector filters after the HNSW scan. Two things keep a filtered query at k rows:
the slot filter is part of a partial HNSW index (one per slot), and the remaining filters
(on sale, in stock, cheaper) run over an over-fetched candidate list; when they leave
fewer than k, an exact search with every filter in SQL fills the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from pgvector.django import CosineDistance

from recommender.models import GarmentVector
from recommender.selectors.indexing import current_version
from shop.models import Product


def _indexed_vector(product: Product, version: str) -> GarmentVector | None:
    return GarmentVector.objects.filter(
        product=product, status=GarmentVector.Status.INDEXED, model_version=version, embedding__isnull=False
    ).first()


@dataclass(frozen=True)
class VectorQuery:
    """A nearest-neighbour question: this garment vector, among catalog vectors of this slot and model."""

    embedding: Sequence[float]
    slot: str
    model_version: str
    exclude_product_id: int | None = None


def _ranked_neighbour_ids(query: VectorQuery, *, limit: int) -> list[int]:
    """Product ids of the nearest vectors in the same slot, nearest first (approximate, HNSW)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL hnsw.ef_search = %s", [max(40, min(limit, 1000))])
        return list(
            GarmentVector.objects.filter(slot=query.slot, model_version=query.model_version)
            .exclude(product_id=query.exclude_product_id)
            .annotate(distance=CosineDistance("embedding", query.embedding))
            .order_by("distance")
            .values_list("product_id", flat=True)[:limit]
        )


def _exact_neighbours(query: VectorQuery, *, k: int, max_price=None) -> list[int]:
    """Exact search with every filter in SQL: always k rows when k qualify (a sequential scan)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        qs = GarmentVector.objects.filter(
            slot=query.slot,
            model_version=query.model_version,
            embedding__isnull=False,
            product__is_active=True,
            product__stock__gt=0,
        ).exclude(product_id=query.exclude_product_id)
        if max_price is not None:
            qs = qs.filter(product__price__lt=max_price)
        return list(
            qs.annotate(distance=CosineDistance("embedding", query.embedding))
            .order_by("distance")
            .values_list("product_id", flat=True)[:k]
        )


def _available_in_order(ranked: list[int], query: VectorQuery, *, k: int, max_price=None) -> list[Product]:
    """The first ``k`` on-sale, in-stock products of ``ranked``; an exact search fills the list when too few are."""
    available = Product.objects.filter(pk__in=ranked, is_active=True, stock__gt=0)
    if max_price is not None:
        available = available.filter(price__lt=max_price)
    by_id = {p.pk: p for p in available.select_related("category")}
    chosen = [by_id[pk] for pk in ranked if pk in by_id][:k]
    if len(chosen) < k:
        ids = _exact_neighbours(query, k=k, max_price=max_price)
        if len(ids) > len(chosen):
            found = {p.pk: p for p in Product.objects.filter(pk__in=ids).select_related("category")}
            chosen = [found[pk] for pk in ids if pk in found]
    return chosen


def products_near_vector(*, query: VectorQuery, k: int = 8, max_price=None) -> list[Product]:
    """On-sale, in-stock products nearest a garment vector that is not a product's (a customer's photo)."""
    ranked = _ranked_neighbour_ids(query, limit=settings.RECOMMENDER_CANDIDATES)
    return _available_in_order(ranked, query, k=k, max_price=max_price)


def similar_products(*, product: Product, k: int = 8, cheaper: bool = False) -> list[Product]:
    """The nearest on-sale, in-stock products in the same slot, nearest first (never the product itself).

    ``cheaper`` keeps only items priced below this product: "the same look for less".
    """
    version = current_version()
    if version is None:
        return []
    vector = _indexed_vector(product, version)
    if vector is None:
        return []
    query = VectorQuery(
        embedding=vector.embedding, slot=vector.slot, model_version=version, exclude_product_id=product.pk
    )
    limit = settings.RECOMMENDER_CANDIDATES
    from recommender.services.indexing import vectors_generation

    key = f"recommender:similar:{product.pk}:{version[:16]}:{vectors_generation()}:{limit}"
    ranked = cache.get(key)
    if ranked is None:
        ranked = _ranked_neighbour_ids(query, limit=limit)
        cache.set(key, ranked, timeout=settings.RECOMMENDER_CACHE_SECONDS)
    return _available_in_order(ranked, query, k=k, max_price=product.price if cheaper else None)
