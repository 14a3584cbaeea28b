"""Cached recommendation results and rankings that can never outlive what they were computed from.

Two PostgreSQL sequences count writes, advanced by triggers whatever code path wrote (the ORM,
bulk ``UPDATE``s, the checkout, raw SQL):

* ``recommender_catalog_changes`` (migration ``recommender.0007``): every write that can change
  what a section shows — products (a price, a name, an item sold out or back), categories,
  curator rules, vectors. Whole results (a product's "Complete the look" or "Similar items", and
  the page's HTML of both) are cached under it.
* ``recommender_ranking_changes`` (migrations ``recommender.0009``, ``0011`` and ``0012``): writes
  that can reorder *every* ranking — categories, a vector table emptied, a re-indexing or new
  street outfits (``vectors_changed``). Which products are nearest a product is cached under it,
  so a price edit, an item sold out or a curator's pin or block costs the next page one query per
  section for what it shows, not a new vector search: every ranking is filtered for what is on
  sale now (rows read fresh) and for the curators' rules.
* ``recommender_vector_changes`` (migration ``recommender.0012``): writes to garment and
  complement vectors, each of which also logs its product in ``recommender_vector_change``. A
  cached ranking remembers the log's head and the snapshot it was computed under; when the counter
  has moved, the products written since are merged into it (:class:`RankedList`: their distances
  are read for those rows only) instead of searching again. One product indexed no longer makes
  every product page search the vectors.
* ``recommender_rule_changes`` (migration ``recommender.0011``): writes to the curators' rules.
  Each product's pins and blocks are cached under it, apart from its ranking.

Street-outfit ingestion rewrites the stored street support (``vectors_changed``), which both
count. The key also carries the models in service. ``RECOMMENDER_RESULT_CACHE_SECONDS`` and
``RECOMMENDER_CACHE_SECONDS`` bound the rest. Reading the counters is one query.

This module is the mechanism only: each function is given a name, key parts and the function that
computes (and, for rankings, the one that merges), and calls it on a miss. It imports no selector;
:mod:`recommender.selectors.cached` wraps the selectors' steps in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from recommender import inference
from recommender.selectors.indexing import current_complement_version, current_version
from recommender.selectors.rankings import RankedList, Written

__all__ = [
    "CACHE_FORMAT",
    "RankedList",
    "RecommendationState",
    "Written",
    "cached_while_unchanged",
    "catalog_changes",
    "products_written_since",
    "ranking_cached",
    "ranking_changes",
    "recommendations_state",
    "results_state",
    "rule_changes",
    "rules_cached",
    "vector_changes",
]

T = TypeVar("T")

#: Part of every key: changes whenever the shape of what is cached changes, so that a new release
#: never unpickles an older release's objects.
CACHE_FORMAT = 10

_COUNTERS_SQL = """
SELECT 'recommender_catalog_changes'::regclass::oid, c.last_value, c.is_called,
       'recommender_ranking_changes'::regclass::oid, r.last_value, r.is_called,
       'recommender_rule_changes'::regclass::oid, u.last_value, u.is_called,
       'recommender_vector_changes'::regclass::oid, v.last_value, v.is_called,
       (SELECT coalesce(max(id), 0) FROM recommender_vector_change), pg_current_snapshot()::text
FROM recommender_catalog_changes AS c, recommender_ranking_changes AS r, recommender_rule_changes AS u,
     recommender_vector_changes AS v
"""

#: The products whose vectors were written after a ranking was computed: logged after the head it
#: saw, or by a transaction still in progress under its snapshot (committed since, in any order).
_WRITTEN_SINCE_SQL = """
SELECT DISTINCT product_id, slot FROM recommender_vector_change
WHERE id > %(head)s
   OR (txid >= pg_snapshot_xmin(%(snapshot)s::pg_snapshot)
       AND NOT pg_visible_in_snapshot(txid, %(snapshot)s::pg_snapshot))
LIMIT %(limit)s
"""

#: More products written than this since a ranking was computed: it is computed again, not merged.
MAX_MERGED_PRODUCTS = 200


@dataclass(frozen=True)
class RecommendationState:
    """What cached recommendations depend on; equal states give equal answers."""

    models: str
    catalog: str
    ranking: str
    rules: str
    #: Vector writes: their counter, the change log's head and this read's snapshot.
    vectors: str = ""
    vector_head: int = 0
    snapshot: str = ""

    @property
    def results(self) -> str:
        """The key part of whole results: the models and every catalog write."""
        return f"{self.models}.{self.catalog}"

    @property
    def rankings(self) -> str:
        """The key part of rankings: the models and the writes that can reorder them."""
        return f"{self.models}.{self.ranking}"


def _counter(oid, value, called) -> str:
    # Prefixed by the sequence's identity: a database made again starts counting again, and must
    # not meet what was cached for the old one.
    return f"{oid}-{value if called else 0}"


def recommendations_state() -> RecommendationState:
    """The models in service, the change counters and where the vector change log stands (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_COUNTERS_SQL)
        row = cursor.fetchone()
    models = ".".join(
        [
            (current_version() or "-")[:12],
            (current_complement_version() or "-")[:12],
            inference.stylist_priors().version[:12],
        ]
    )
    catalog, ranking, rules, vectors = (_counter(*row[i : i + 3]) for i in range(0, 12, 3))
    return RecommendationState(models, catalog, ranking, rules, vectors=vectors, vector_head=row[12], snapshot=row[13])


def catalog_changes() -> str:
    """The catalog's change counter."""
    return recommendations_state().catalog


def ranking_changes() -> str:
    """The rankings' change counter."""
    return recommendations_state().ranking


def vector_changes() -> str:
    """The vector writes' change counter."""
    return recommendations_state().vectors


def rule_changes() -> str:
    """The curators' rules' change counter."""
    return recommendations_state().rules


def results_state() -> str:
    """What every cached whole result depends on (the page's cached sections carry it)."""
    return recommendations_state().results


def _key(kind: str, name: str, parts: tuple, counted: str) -> str:
    return ":".join([f"recommender:{kind}{CACHE_FORMAT}", name, *map(str, parts), counted])


def _cached(
    kind: str,
    name: str,
    parts: tuple,
    compute: Callable[[], T],
    *,
    state: RecommendationState | None,
    counted: Callable[[RecommendationState], str],
    timeout: int,
) -> T:
    """``compute()``, or what it gave under the same ``counted(state)``: the mechanism behind results
    and rules (each kind keyed by the counters it depends on; rankings add merging, below)."""
    if settings.RECOMMENDER_RESULT_CACHE_SECONDS <= 0 or timeout <= 0:
        return compute()
    state = state or recommendations_state()
    key = _key(kind, name, parts, counted(state))
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, timeout=timeout)
    return found


def cached_while_unchanged(
    name: str, parts: tuple, compute: Callable[[], T], *, state: RecommendationState | None = None
) -> T:
    """``compute()``, or the result it gave since the catalog last changed.

    ``state``: the one a page read for all of its sections (read here when not given)."""
    return _cached(
        "result",
        name,
        parts,
        compute,
        state=state,
        counted=lambda s: s.results,
        timeout=settings.RECOMMENDER_RESULT_CACHE_SECONDS,
    )


@dataclass(frozen=True)
class _RankingEntry:
    """A cached ranking and where the vector writes stood when it was computed."""

    value: object
    vectors: str
    vector_head: int
    snapshot: str


def products_written_since(vector_head: int, snapshot: str) -> Written | None:
    """The products whose vectors were written since (``vector_head``, ``snapshot``) (one query);
    ``None`` when more than :data:`MAX_MERGED_PRODUCTS` rows were: a search is then cheaper than merging."""
    with connection.cursor() as cursor:
        cursor.execute(
            _WRITTEN_SINCE_SQL, {"head": vector_head, "snapshot": snapshot, "limit": MAX_MERGED_PRODUCTS + 1}
        )
        rows = cursor.fetchall()
    if len(rows) > MAX_MERGED_PRODUCTS:
        return None
    slots: dict[int, set[str]] = {}
    for product_id, slot in rows:
        slots.setdefault(product_id, set()).add(slot)
    return Written({pk: frozenset(found) for pk, found in slots.items()})


def ranking_cached(
    name: str,
    parts: tuple,
    compute: Callable[[], T],
    *,
    merge: Callable[[T, Written], T | None] | None = None,
    state: RecommendationState | None = None,
) -> T:
    """``compute()``, or the ranking it gave since the last write that can reorder every ranking,
    brought up to date with the vectors written since by ``merge(ranking, written)`` (``None``:
    compute it again, as without ``merge``).

    What it computes must not depend on prices, stock, whether an item is on sale or the curators'
    rules: the caller filters the ranking for what may be shown now."""
    timeout = settings.RECOMMENDER_CACHE_SECONDS
    if settings.RECOMMENDER_RESULT_CACHE_SECONDS <= 0 or timeout <= 0:
        return compute()
    state = state or recommendations_state()
    key = _key("ranking", name, parts, state.rankings)
    entry = cache.get(key)
    if entry is not None and entry.vectors == state.vectors:
        return entry.value
    value = None
    if entry is not None and merge is not None:
        written = products_written_since(entry.vector_head, entry.snapshot)
        value = merge(entry.value, written) if written is not None else None
    if value is None:
        value = compute()
    # The state was read before anything here: a write it did not see is merged again next time.
    cache.set(key, _RankingEntry(value, state.vectors, state.vector_head, state.snapshot), timeout=timeout)
    return value


def rules_cached(name: str, parts: tuple, compute: Callable[[], T], *, state: RecommendationState | None = None) -> T:
    """``compute()``, or what it gave since the curators' rules last changed (any rule, any product)."""
    return _cached(
        "rules",
        name,
        parts,
        compute,
        state=state,
        counted=lambda s: s.rules,
        timeout=settings.RECOMMENDER_CACHE_SECONDS,
    )
