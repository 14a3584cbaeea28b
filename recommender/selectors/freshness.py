"""Cached recommendation results that can never outlive the catalog they were computed from.

A result (a product's "Complete the look" or "Similar items") is cached under a key that
carries the models in service and the catalog's change counter: the PostgreSQL sequence
``recommender_catalog_changes``, advanced by a trigger on every write to products, categories,
curator rules and vectors (migration ``recommender.0007``) and by street-outfit ingestion
(``vectors_changed``). A price change, a sold-out item, a new pin or a re-indexed photo therefore
makes every cached result unreachable at once, whatever code path wrote it;
``RECOMMENDER_RESULT_CACHE_SECONDS`` bounds the rest. Reading the counter is one query on a
sequence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from recommender.selectors.indexing import current_complement_version, current_version

T = TypeVar("T")


def catalog_changes() -> str:
    """The catalog's change counter, prefixed by the counter's own identity (a database made
    again starts counting again, and must not meet the results cached for the old one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'recommender_catalog_changes'::regclass::oid, last_value, is_called FROM recommender_catalog_changes"
        )
        oid, value, called = cursor.fetchone()
    return f"{oid}-{value if called else 0}"


def results_state() -> str:
    """What every cached result depends on: the models in service and the catalog's change counter
    (which street-outfit ingestion advances too). Equal states give equal results."""
    models = f"{(current_version() or '-')[:12]}.{(current_complement_version() or '-')[:12]}"
    return f"{models}.{catalog_changes()}"


def cached_while_unchanged(name: str, parts: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, or the result it gave since the catalog last changed."""
    timeout = settings.RECOMMENDER_RESULT_CACHE_SECONDS
    if timeout <= 0:
        return compute()
    key = ":".join(["recommender:result", name, *map(str, parts), results_state()])
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, timeout=timeout)
    return found
