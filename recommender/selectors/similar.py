"""Similar items: look-alikes of a product.

Customers judge "similar" by eye: the same kind of garment, in the same colours and pattern.
So similar items come from the product's own category first (a skirt gets skirts), with its
slot as the fallback when the category has too few, ranked by the *look* vector (the
embedder's shape sense blended with colour and pattern, ``recommender.ml.colour.look``) in one
pgvector HNSW query. Rows without a current look vector (a look-weights change not yet
re-indexed) are ranked by the plain embedding, as before.

These selectors compute and know nothing of caching; :mod:`recommender.selectors.cached` serves
them, caching the whole result until the catalog changes and the ranking until categories change
(:mod:`recommender.selectors.freshness`: PostgreSQL triggers count every write to products, rules
and vectors), so a sold-out item or a new price disappears from every cached list at once.

pgvector filters after the HNSW scan. pgvector ≥ 0.8's iterative index scan
(``hnsw.iterative_scan = strict_order``) keeps scanning until the category or slot filter has
``limit`` rows; the remaining filters (on sale, in stock, cheaper) run over the over-fetched
candidate list, and when they leave fewer than k, an exact search with every filter in SQL
fills the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Q, QuerySet, Subquery
from pgvector.django import CosineDistance

from recommender import inference
from recommender.models import GarmentVector
from recommender.selectors.availability import first_on_sale, products_in_order
from recommender.selectors.hnsw import hnsw_scan
from recommender.selectors.indexing import current_version
from recommender.selectors.rankings import RankedList, Written
from recommender.selectors.recommendations import Recommendations
from shop.models import Product

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


@dataclass(frozen=True)
class VectorQuery:
    """A nearest-neighbour question: this garment, among the catalog's garments of this slot and model.

    With ``look`` (and its ``look_version``) the ranking is by look vector (shape, colour and
    pattern); without, by the plain embedding. With ``category_id``, that category comes first
    and the rest of the slot fills in."""

    embedding: Sequence[float] | Subquery | None
    slot: str
    model_version: str
    exclude_product_id: int | None = None
    look: Sequence[float] | Subquery | None = None
    look_version: str = ""
    category_id: int | None = None
    #: A colour family (``shop.models.Colour``): within the category and within the rest of the slot,
    #: the items of this main colour come first (a black dress gets black dresses while there are any).
    colour: str = ""
    #: With subqueries: the row they read must exist (without it the query finds nothing).
    requires: Exists | None = None


def _indexed_vector(product: Product, version: str) -> GarmentVector | None:
    return GarmentVector.objects.filter(
        product=product, status=GarmentVector.Status.INDEXED, model_version=version, embedding__isnull=False
    ).first()


class _Distance(TypedDict):
    distance: float


def _candidates(
    query: VectorQuery, *, category: bool | None, colour: bool | None = None
) -> QuerySet[WithAnnotations[GarmentVector, _Distance]]:
    """The rows the query ranks, annotated with their distance (same slot; same category, the others,
    or, with ``category`` None, both; with ``query.colour``, of that main colour, the others, or, with
    ``colour`` None, both)."""
    if query.look is not None:
        qs = GarmentVector.objects.filter(look_version=query.look_version, look__isnull=False)
        distance = CosineDistance("look", query.look)
    else:
        qs = GarmentVector.objects.filter(model_version=query.model_version, embedding__isnull=False)
        distance = CosineDistance("embedding", query.embedding)
    qs = qs.filter(slot=query.slot)
    if query.requires is not None:
        qs = qs.filter(query.requires)
    if query.category_id is not None and category is not None:
        qs = qs.filter(category_id=query.category_id) if category else qs.exclude(category_id=query.category_id)
    if query.colour and colour is not None:
        qs = qs.filter(product__colour=query.colour) if colour else qs.exclude(product__colour=query.colour)
    if query.exclude_product_id is not None:
        qs = qs.exclude(product_id=query.exclude_product_id)
    return qs.annotate(distance=distance).order_by("distance")


def _passes(query: VectorQuery) -> tuple[tuple[bool | None, bool | None], ...]:
    """(category, colour) per pass, in order: the category's items of the colour, its others, then the
    rest of the slot the same way (``None``: that filter does not apply)."""
    categories = (True, False) if query.category_id is not None else (None,)
    colours = (True, False) if query.colour else (None,)
    return tuple((category, colour) for category in categories for colour in colours)


def _ranked_neighbours(query: VectorQuery, *, limit: int, fill_below: int | None = None) -> list[RankedList]:
    """The nearest vectors, nearest first (approximate, HNSW), per pass: the category's, then, when the
    category has fewer than ``fill_below`` (default ``limit``), the rest of the slot's. Usually one
    HNSW query; the exact fallback covers a category whose items are mostly sold out."""
    passes: list[RankedList] = []
    fill_below = limit if fill_below is None else fill_below
    with hnsw_scan(limit):
        for category, colour in _passes(query):
            if passes and sum(len(ranked.ids) for ranked in passes) >= fill_below:
                break
            rows = _candidates(query, category=category, colour=colour).values_list("product_id", "distance")[:limit]
            passes.append(RankedList.from_rows(rows, limit=limit))
    return passes


def _ranked_neighbour_ids(query: VectorQuery, *, limit: int, fill_below: int | None = None) -> list[int]:
    """Product ids of :func:`_ranked_neighbours`, the category's first."""
    return [pk for ranked in _ranked_neighbours(query, limit=limit, fill_below=fill_below) for pk in ranked.ids]


def _exact_neighbours(query: VectorQuery, *, k: int, max_price=None) -> list[int]:
    """Exact search with every filter in SQL: always k rows when k qualify (a sequential scan)."""
    ids: list[int] = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        for category, colour in _passes(query):
            if len(ids) >= k:
                break
            qs = _candidates(query, category=category, colour=colour).filter(
                product__is_active=True, product__stock__gt=0
            )
            if max_price is not None:
                qs = qs.filter(product__price__lt=max_price)
            ids += list(qs.values_list("product_id", flat=True)[: k - len(ids)])
    return ids


def _available_in_order(ranked: list[int], query: VectorQuery, *, k: int, max_price=None) -> list[Product]:
    """The first ``k`` on-sale, in-stock products of ``ranked``; an exact search fills the list when too few are."""
    chosen = first_on_sale(ranked, k=k, max_price=max_price)
    if len(chosen) < k:
        ids = _exact_neighbours(query, k=k, max_price=max_price)
        if len(ids) > len(chosen):
            chosen = products_in_order(ids)
    return chosen


def products_near_vector(*, query: VectorQuery, k: int = 8, max_price=None) -> list[Product]:
    """On-sale, in-stock products nearest a garment vector that is not a product's (a customer's photo)."""
    ranked = _ranked_neighbour_ids(query, limit=settings.RECOMMENDER_CANDIDATES)
    return _available_in_order(ranked, query, k=k, max_price=max_price)


def product_vector_query(*, product: Product, version: str) -> VectorQuery | None:
    """How a product asks for its look-alikes: by look vector when it has a current one, its category
    first; by its embedding otherwise. ``None`` when the product has no vector of ``version``.

    The product's own vector never leaves the database: the neighbour query reads it in a scalar
    subquery (PostgreSQL evaluates it once, before the HNSW scan)."""
    look_version = inference.current_look_version(version)
    indexed = GarmentVector.objects.filter(
        product=product, status=GarmentVector.Status.INDEXED, model_version=version, embedding__isnull=False
    )
    row = indexed.values("slot", "look_version", has_look=Q(look__isnull=False)).first()
    if row is None:
        return None
    has_look = row["has_look"] and row["look_version"] == look_version
    return VectorQuery(
        embedding=None if has_look else Subquery(indexed.order_by().values("embedding")[:1]),
        slot=row["slot"],
        model_version=version,
        exclude_product_id=product.pk,
        look=Subquery(indexed.order_by().values("look")[:1]) if has_look else None,
        look_version=look_version if has_look else "",
        category_id=product.category_id,
    )


def similar_recommendations(*, product: Product, items: list[Product], cheaper: bool = False) -> Recommendations:
    """The look-alikes found for ``product``, with the reason when there are none: the product is not
    indexed yet, or nothing that looks like it is on sale (for less, with ``cheaper``)."""
    if items:
        return Recommendations(items)
    version = current_version()
    indexed = version and GarmentVector.objects.filter(
        product=product, status=GarmentVector.Status.INDEXED, model_version=version, embedding__isnull=False
    )
    if not indexed or not indexed.exists():
        return Recommendations([], "not_indexed", "Look-alikes of this item are still being prepared.")
    for_less = " for less" if cheaper else ""
    return Recommendations([], "none_available", f"Nothing that looks like this item is on sale{for_less} right now.")


def _product_look_query(product: Product, version: str) -> VectorQuery:
    """How a product with a current look vector asks for its look-alikes, without reading the vector first:
    the neighbour query reads it, and finds nothing when the product has none."""
    look_version = inference.current_look_version(version)
    own = GarmentVector.objects.filter(
        product=product,
        status=GarmentVector.Status.INDEXED,
        model_version=version,
        slot=product.category.slot,
        look_version=look_version,
        look__isnull=False,
    )
    return VectorQuery(
        embedding=None,
        slot=product.category.slot,
        model_version=version,
        exclude_product_id=product.pk,
        look=Subquery(own.values("look")[:1]),
        look_version=look_version,
        category_id=product.category_id,
        requires=Exists(own),
    )


@dataclass(frozen=True)
class _SimilarRanking:
    """A product's look-alikes, on sale or not: its category's, then (when it has too few) the rest
    of its slot's; cached until categories change, vectors written since merged in."""

    by_look: bool
    category: RankedList
    rest: RankedList | None = None

    @property
    def ids(self) -> tuple[int, ...]:
        return self.category.ids + (self.rest.ids if self.rest is not None else ())


def similar_ranking(product: Product, k: int) -> _SimilarRanking | None:
    """The nearest look-alikes, on sale or not; ``None``: not indexed."""
    version = current_version()
    if not version:
        return None
    fill_below = 2 * k  # a category with at least this many items needs no help from the slot
    limit = settings.RECOMMENDER_CANDIDATES
    # Usually one query: by the product's look vector. A product without one (or none of its slot's
    # other items) takes the general path: what it has, then the same neighbour query.
    passes = _ranked_neighbours(_product_look_query(product, version), limit=limit, fill_below=fill_below)
    if any(ranked.ids for ranked in passes):
        return _SimilarRanking(True, *passes)
    query = product_vector_query(product=product, version=version)
    if query is None:
        return None
    return _SimilarRanking(query.look is not None, *_ranked_neighbours(query, limit=limit, fill_below=fill_below))


def similar_ranking_merged(product: Product, k: int, ranking: _SimilarRanking | None, written: Written):
    """``ranking`` after the vectors of the ``written`` products changed: one query for the distances of
    those of the product's slot, none when there are none. ``None``: search again (the product's own
    vector changed, it had none, or its category now needs the rest of the slot)."""
    if ranking is None or product.pk in written:
        return None
    relevant = written.of_slots([product.category.slot])
    if not relevant:
        return ranking
    version = current_version()
    if version is None:
        return None
    query = (
        _product_look_query(product, version)
        if ranking.by_look
        else product_vector_query(product=product, version=version)
    )
    if query is None:
        return None
    fresh = list(
        _candidates(query, category=None)
        .filter(product_id__in=relevant)
        .order_by()
        .values_list("product_id", "category_id", "distance")
    )
    limit = settings.RECOMMENDER_CANDIDATES
    same = [(pk, d) for pk, category_id, d in fresh if category_id == product.category_id]
    category = ranking.category.merged(relevant, same, limit=limit)
    if ranking.rest is None:
        return _SimilarRanking(ranking.by_look, category) if len(category.ids) >= 2 * k else None
    others = [(pk, d) for pk, category_id, d in fresh if category_id != product.category_id]
    return _SimilarRanking(ranking.by_look, category, ranking.rest.merged(relevant, others, limit=limit))


def similar_from_ranking(
    *, product: Product, ranking: _SimilarRanking | None, k: int, cheaper: bool = False
) -> list[Product]:
    """The first ``k`` on-sale, in-stock products of the product's look-alike ``ranking``
    (:func:`similar_ranking`), priced below it with ``cheaper``; an exact search fills a short list."""
    if ranking is None:
        return []
    ranked = ranking.ids
    max_price = product.price if cheaper else None
    chosen = first_on_sale(ranked, k=k, max_price=max_price)
    if len(chosen) < k:  # too few of the ranked are on sale (or cheaper): an exact search fills the list
        version = current_version()
        query = product_vector_query(product=product, version=version) if version else None
        ids = _exact_neighbours(query, k=k, max_price=max_price) if query else []
        if len(ids) > len(chosen):
            chosen = products_in_order(ids)
    return chosen
