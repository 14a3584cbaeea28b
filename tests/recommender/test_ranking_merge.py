"""Vectors written after a ranking was cached are merged into it, not searched for again.

These tests commit (``transaction=True``), as the shop's writers and readers do: a ranking computed
inside the writer's own transaction counts that transaction's writes as unseen and merges them again
(harmless, and what the other tests' single transaction sees).
"""

import math
import re
from decimal import Decimal

import numpy as np
import psycopg2
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recommender import inference
from recommender.models import COMPLEMENT_DIM, ComplementVector
from recommender.selectors.cached import complements_for, similar_products
from recommender.selectors.freshness import RankedList
from recommender.services.indexing import vector_store
from tests.factories import CategoryFactory, ProductFactory, complement_vector_for
from tests.vectors import near, unit

RNG = np.random.default_rng(5)


def test_a_written_product_leaves_the_list_and_comes_back_where_it_ranks():
    full = RankedList((1, 2, 3), (0.1, 0.2, 0.3), bound=0.3)
    merged = full.merged({2, 9}, [(2, 0.25), (9, 0.05)], limit=3)
    assert merged.ids == (9, 1, 2) and merged.bound == 0.25  # 3 fell beyond the cut
    # Beyond the bound nothing is known of what lies between: a row there stays out.
    assert full.merged({9}, [(9, 0.5)], limit=3) == full
    assert full.merged({1}, [], limit=3).ids == (2, 3)  # its vector is gone (or left the slot)
    everything = RankedList.from_rows([(1, 0.1)], limit=3)  # the search returned every match
    assert everything.bound == math.inf
    assert everything.merged({9}, [(9, 0.9)], limit=3).ids == (1, 9)


def _searches(queries) -> list[str]:
    """Nearest-neighbour searches over the catalog, approximate or exact: ordered by distance, limited."""
    return [q["sql"] for q in queries if "<=>" in q["sql"] and re.search(r"LIMIT \d+$", q["sql"])]


def _merges(queries) -> list[str]:
    """The distances of a few written products, no search."""
    return [q["sql"] for q in queries if "<=>" in q["sql"] and not re.search(r"LIMIT \d+$", q["sql"])]


def _store(product, version, *, query=None, candidate=None):
    return complement_vector_for(product, version, RNG, query=query, candidate=candidate)


def _towards(direction, distance):
    """A unit vector at ``distance`` (cosine distance) from ``direction``."""
    return near(direction, math.acos(1 - distance), RNG)


def _a_top_and_bottoms(version, *distances):
    """A top, and one bottom per distance from what its complement query asks for."""
    tops, bottoms = CategoryFactory(slug="tops", slot="top"), CategoryFactory(slug="bottoms", slot="bottom")
    direction = unit(RNG.normal(size=COMPLEMENT_DIM))
    top = ProductFactory(category=tops)
    _store(top, version, query=direction)
    found = []
    for distance in distances:
        found.append(ProductFactory(category=bottoms))
        _store(found[-1], version, candidate=_towards(direction, distance))
    return direction, top, found


def _shown(top, k=3):
    return [s.product.pk for s in complements_for(product=top, k=k).items]


@pytest.mark.django_db(transaction=True)
def test_complements_merge_new_moved_and_removed_vectors_without_searching_again(complement_version):
    # The filler (0.8) keeps the lists long enough to need no exact fill-in.
    direction, top, (near_one, far_one, filler) = _a_top_and_bottoms(complement_version, 0.1, 0.6, 0.8)
    bottoms = near_one.category
    assert _shown(top) == [near_one.pk, far_one.pk, filler.pk]

    new = ProductFactory(category=bottoms)
    _store(new, complement_version, candidate=_towards(direction, 0.3))  # indexed: between the two
    with CaptureQueriesContext(connection) as queries:
        assert _shown(top) == [near_one.pk, new.pk, far_one.pk]
    assert not _searches(queries) and len(_merges(queries)) == 1

    ComplementVector.objects.filter(product=near_one).update(candidate=_towards(direction, 0.9).tolist())
    ComplementVector.objects.filter(product=far_one).delete()
    with CaptureQueriesContext(connection) as queries:
        assert _shown(top) == [new.pk, filler.pk, near_one.pk]
    assert not _searches(queries)

    # Another top is indexed: tops never answer a top, so nothing is even read.
    _store(ProductFactory(category=top.category), complement_version, candidate=direction)
    with CaptureQueriesContext(connection) as queries:
        assert _shown(top) == [new.pk, filler.pk, near_one.pk]
    assert not _searches(queries) and not _merges(queries)

    # The product's own vector changed: its ranking is searched again.
    ComplementVector.objects.filter(product=top).update(query=_towards(direction, 0.95).tolist())
    with CaptureQueriesContext(connection) as queries:
        _shown(top)
    assert _searches(queries)


@pytest.mark.django_db(transaction=True)
def test_a_write_committed_after_a_later_one_is_still_merged(complement_version):
    """Out-of-order commits: a write that was in progress when the ranking was computed, and that
    commits after a later write the ranking did see, is found by the snapshot the ranking kept."""
    direction, top, (slow, quick) = _a_top_and_bottoms(complement_version, 0.5, 0.6)

    writer = psycopg2.connect(**connection.get_connection_params())
    try:
        with writer.cursor() as cursor:  # in progress: logged first, committed last
            cursor.execute(
                "UPDATE recommender_complementvector SET candidate = %s::vector WHERE product_id = %s",
                [str(_towards(direction, 0.05).tolist()), slow.pk],
            )
        ComplementVector.objects.filter(product=quick).update(candidate=_towards(direction, 0.4).tolist())
        assert _shown(top, k=2) == [quick.pk, slow.pk]  # computed and cached: the slow write unseen
        writer.commit()
    finally:
        writer.close()
    with CaptureQueriesContext(connection) as queries:
        assert _shown(top, k=2) == [slow.pk, quick.pk]
    assert not _searches(queries)


@pytest.mark.django_db(transaction=True)
def test_similar_items_merge_a_newly_indexed_look_alike(embedder_weights_dir):
    version = inference.current_model_version()
    shirts, tees = CategoryFactory(slug="shirts", slot="top"), CategoryFactory(slug="tees", slot="top")
    base = unit(RNG.normal(size=512))
    query, *alike = [ProductFactory(category=shirts, price=Decimal("50")) for _ in range(4)]
    for n, product in enumerate([query, *alike]):
        vector_store(product=product, vector=near(base, 0.02 * n, RNG), model_version=version)
    other = ProductFactory(category=tees)
    vector_store(product=other, vector=near(base, 0.001, RNG), model_version=version)
    shown = [p.pk for p in similar_products(product=query, k=4)]
    assert shown == [*(p.pk for p in alike), other.pk]  # its category first, then the rest of the slot

    newcomer = ProductFactory(category=shirts)
    vector_store(product=newcomer, vector=near(base, 0.001, RNG), model_version=version)
    with CaptureQueriesContext(connection) as queries:
        shown = [p.pk for p in similar_products(product=query, k=4)]
    assert shown == [newcomer.pk, *(p.pk for p in alike)]
    assert not _searches(queries) and len(_merges(queries)) == 1
