"""How the recommender's nearest-neighbour queries scan pgvector's HNSW indexes.

Every database connection starts with the scan the recommender's queries use (libpq ``options``
in ``DATABASES["default"]["OPTIONS"]``; PostgreSQL accepts them before pgvector is loaded): ``hnsw.ef_search`` = ``RECOMMENDER_HNSW_EF_SEARCH`` (the
candidate over-fetch, ``RECOMMENDER_CANDIDATES``, fits in it) and ``hnsw.iterative_scan =
strict_order`` (pgvector ≥ 0.8 keeps scanning until a filtered query has its rows, in distance
order). So the usual query is one round trip; only a query asking for more rows than the default
scan sets a larger ``ef_search`` for its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction


@contextmanager
def hnsw_scan(limit: int) -> Iterator[None]:
    """Run the queries inside with an HNSW scan deep enough for ``limit`` rows."""
    ef_search = max(40, min(limit, 1000))
    if ef_search <= settings.RECOMMENDER_HNSW_EF_SEARCH:
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL hnsw.ef_search = %s", [ef_search])
        yield
