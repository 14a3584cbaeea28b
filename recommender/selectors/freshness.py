"""Cached recommendation results and rankings that can never outlive what they were computed from.

Two PostgreSQL sequences count writes, advanced by triggers whatever code path wrote (the ORM,
bulk ``UPDATE``s, the checkout, raw SQL):

* ``recommender_catalog_changes`` (migration ``recommender.0007``): every write that can change
  what a section shows — products (a price, a name, an item sold out or back), categories,
  curator rules, vectors. Whole results (a product's "Complete the look" or "Similar items", and
  the page's HTML of both) are cached under it.
* ``recommender_ranking_changes`` (migrations ``recommender.0009`` and ``0011``): only writes that
  can change a *ranking* — vectors (with the street outfits stored beside them) and categories.
  Which products are nearest a product is cached under it, so a price edit, an item sold out or a
  curator's pin or block costs the next page one query per section for what it shows, not a new
  vector search: every ranking is filtered for what is on sale now (rows read fresh) and for the
  curators' rules.
* ``recommender_rule_changes`` (migration ``recommender.0011``): writes to the curators' rules.
  Each product's pins and blocks are cached under it, apart from its ranking.

Street-outfit ingestion rewrites the stored street support (``vectors_changed``), which both
count. The key also carries the models in service. ``RECOMMENDER_RESULT_CACHE_SECONDS`` and
``RECOMMENDER_CACHE_SECONDS`` bound the rest. Reading the counters is one query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from recommender.selectors.indexing import current_complement_version, current_version

T = TypeVar("T")

#: Part of every key: changes whenever the shape of what is cached changes, so that a new release
#: never unpickles an older release's objects.
CACHE_FORMAT = 4

_COUNTERS_SQL = """
SELECT 'recommender_catalog_changes'::regclass::oid, c.last_value, c.is_called,
       'recommender_ranking_changes'::regclass::oid, r.last_value, r.is_called,
       'recommender_rule_changes'::regclass::oid, u.last_value, u.is_called
FROM recommender_catalog_changes AS c, recommender_ranking_changes AS r, recommender_rule_changes AS u
"""


@dataclass(frozen=True)
class RecommendationState:
    """What cached recommendations depend on; equal states give equal answers."""

    models: str
    catalog: str
    ranking: str
    rules: str

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
    """The models in service and the three change counters (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_COUNTERS_SQL)
        row = cursor.fetchone()
    models = f"{(current_version() or '-')[:12]}.{(current_complement_version() or '-')[:12]}"
    return RecommendationState(models, _counter(*row[:3]), _counter(*row[3:6]), _counter(*row[6:]))


def catalog_changes() -> str:
    """The catalog's change counter."""
    return recommendations_state().catalog


def ranking_changes() -> str:
    """The rankings' change counter."""
    return recommendations_state().ranking


def rule_changes() -> str:
    """The curators' rules' change counter."""
    return recommendations_state().rules


def results_state() -> str:
    """What every cached whole result depends on (the page's cached sections carry it)."""
    return recommendations_state().results


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
    """``compute()``, or what it gave under the same ``counted(state)``: the one mechanism behind
    results, rankings and rules (each kind keyed by the counters it depends on)."""
    if settings.RECOMMENDER_RESULT_CACHE_SECONDS <= 0 or timeout <= 0:
        return compute()
    state = state or recommendations_state()
    key = ":".join([f"recommender:{kind}{CACHE_FORMAT}", name, *map(str, parts), counted(state)])
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


def ranking_cached(name: str, parts: tuple, compute: Callable[[], T], *, state: RecommendationState | None = None) -> T:
    """``compute()``, or the ranking it gave since the last write that can reorder rankings.

    What it computes must not depend on prices, stock, whether an item is on sale or the curators'
    rules: the caller filters the ranking for what may be shown now."""
    return _cached(
        "ranking",
        name,
        parts,
        compute,
        state=state,
        counted=lambda s: s.rankings,
        timeout=settings.RECOMMENDER_CACHE_SECONDS,
    )


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
