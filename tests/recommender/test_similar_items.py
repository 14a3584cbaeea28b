"""Similar items: nearest-neighbour queries in PostgreSQL (pgvector HNSW), filtered, exactly k rows."""

from decimal import Decimal

import numpy as np
import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from recommender import inference
from recommender.models import GarmentVector
from recommender.selectors.cached import similar_products
from recommender.selectors.similar import _ranked_neighbour_ids, product_vector_query
from recommender.services.indexing import vector_store, vectors_changed
from shop.errors import ApplicationError
from tests.factories import CategoryFactory, ProductFactory
from tests.vectors import near as _near
from tests.vectors import unit

pytestmark = pytest.mark.django_db
RNG = np.random.default_rng(7)


def near(base, angle):
    return _near(base, angle, RNG)


@pytest.fixture
def version(embedder_weights_dir):
    return inference.current_model_version()


def index(product, vector, version):
    product.image_sha256 = "0" * 64
    product.save(update_fields=["image_sha256"])
    return vector_store(product=product, vector=vector, model_version=version)


def test_similar_items_are_the_nearest_in_stock_items_of_the_same_slot(version):
    tops = CategoryFactory(slug="tops", slot="top")
    bottoms = CategoryFactory(slug="bottoms", slot="bottom")
    base = unit(RNG.normal(size=512))
    query = ProductFactory(category=tops)
    index(query, base, version)
    close = ProductFactory(category=tops)
    index(close, near(base, 0.01), version)
    farther = ProductFactory(category=tops)
    index(farther, near(base, 0.05), version)
    index(ProductFactory(category=bottoms), near(base, 0.001), version)  # other slot: never
    index(ProductFactory(category=tops, stock=0), near(base, 0.001), version)  # sold out: never
    index(ProductFactory(category=tops, is_active=False), near(base, 0.001), version)  # off sale: never

    assert similar_products(product=query, k=5) == [close, farther]


def test_a_filtered_query_still_returns_exactly_k_rows(version, settings):
    """The 150 nearest neighbours are all sold out, more than the ANN over-fetch: the exact
    fallback must still find the k in-stock items further away."""
    settings.RECOMMENDER_CANDIDATES = 50
    tops = CategoryFactory(slug="tops", slot="top")
    base = unit(RNG.normal(size=512))
    query = ProductFactory(category=tops, price=Decimal("100"))
    index(query, base, version)
    for _ in range(150):
        index(ProductFactory(category=tops, stock=0), near(base, 0.01), version)
    available = [ProductFactory(category=tops, price=Decimal(p)) for p in (20, 40, 60, 80, 120, 140)]
    for n, product in enumerate(available):
        index(product, near(base, 0.2 + n * 0.1), version)

    result = similar_products(product=query, k=4)
    assert result == available[:4]
    cheaper = similar_products(product=query, k=10, cheaper=True)
    assert cheaper == available[:4] and all(p.price < query.price for p in cheaper)


def test_the_slot_query_is_served_by_that_slots_partial_hnsw_index(version):
    tops = CategoryFactory(slug="tops", slot="top")
    product = ProductFactory(category=tops)
    index(product, unit(RNG.normal(size=512)), version)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT product_id FROM recommender_garmentvector WHERE slot = 'top' "
            "ORDER BY embedding <=> %s::vector LIMIT 10",
            [str(unit(RNG.normal(size=512)).tolist())],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "garment_vec_top_hnsw" in plan


def test_vectors_of_the_wrong_dimension_or_model_version_are_rejected(version):
    product = ProductFactory()
    with pytest.raises(ApplicationError, match="512 dimensions"):
        vector_store(product=product, vector=np.ones(511), model_version=version)
    with pytest.raises(ApplicationError, match="refused"):
        vector_store(product=product, vector=np.ones(512), model_version="f" * 64)
    with pytest.raises(ApplicationError, match="finite"):
        vector_store(product=product, vector=np.full(512, np.nan), model_version=version)
    assert not GarmentVector.objects.exists()


def test_a_product_without_a_vector_shows_no_similar_items(version, client):
    product = ProductFactory()
    ProductFactory.create_batch(3, category=product.category)
    assert similar_products(product=product) == []
    html = client.get(product.get_absolute_url()).content.decode()
    assert "Similar items" not in html


def test_the_product_page_and_the_api_show_the_same_neighbours(version, client, api_client):
    tops = CategoryFactory(slug="tops", slot="top")
    base = unit(RNG.normal(size=512))
    query = ProductFactory(category=tops, price=Decimal("50"))
    index(query, base, version)
    twin = ProductFactory(category=tops, name="Almost the same shirt", price=Decimal("30"))
    index(twin, near(base, 0.01), version)
    dearer = ProductFactory(category=tops, name="Pricier cousin", price=Decimal("90"))
    index(dearer, near(base, 0.02), version)

    html = client.get(query.get_absolute_url()).content.decode()
    section = html.split('data-section="similar-items"', 1)[1]
    assert "Similar items" in section and "Almost the same shirt" in section and "Pricier cousin" in section

    cheaper_html = client.get(query.get_absolute_url(), {"cheaper": "1"}).content.decode()
    cheaper_section = cheaper_html.split('data-section="similar-items"', 1)[1]
    assert "Almost the same shirt" in cheaper_section and "Pricier cousin" not in cheaper_section

    url = reverse("api-product-similar", kwargs={"version": "v1", "pk": query.pk})
    body = api_client.get(url).json()
    assert [p["id"] for p in body["items"]] == [twin.pk, dearer.pk]
    assert (body["empty_reason"], body["message"]) == ("", "")
    assert [p["id"] for p in api_client.get(url, {"cheaper": "true"}).json()["items"]] == [twin.pk]
    assert api_client.get(url, {"k": "0"}).status_code == 400
    assert api_client.get(url, {"nearest": "1"}).status_code == 400


def test_the_api_says_why_a_product_has_no_similar_items(version, api_client):
    tops = CategoryFactory(slug="tops", slot="top")
    base = unit(RNG.normal(size=512))
    unindexed = ProductFactory(category=tops)
    cheapest = ProductFactory(category=tops, price=Decimal("5"))
    index(cheapest, base, version)
    index(ProductFactory(category=tops, price=Decimal("50")), near(base, 0.01), version)

    def similar(product, **params):
        return api_client.get(reverse("api-product-similar", kwargs={"version": "v1", "pk": product.pk}), params).json()

    assert similar(unindexed) == {
        "items": [],
        "empty_reason": "not_indexed",
        "message": "Look-alikes of this item are still being prepared.",
    }
    assert similar(cheapest, cheaper="true") == {
        "items": [],
        "empty_reason": "none_available",
        "message": "Nothing that looks like this item is on sale for less right now.",
    }
    assert list(similar(cheapest)) == ["items", "empty_reason", "message"]  # the complements' envelope


def test_cached_neighbours_follow_stock_at_once_and_reindexing_invalidates_them(version):
    tops = CategoryFactory(slug="tops", slot="top")
    base = unit(RNG.normal(size=512))
    query = ProductFactory(category=tops)
    index(query, base, version)
    first = ProductFactory(category=tops)
    index(first, near(base, 0.01), version)
    assert similar_products(product=query, k=3) == [first]  # now cached

    first.stock = 0
    first.save(update_fields=["stock"])
    assert similar_products(product=query, k=3) == []  # stock is filtered live

    newcomer = ProductFactory(category=tops)
    index(newcomer, near(base, 0.01), version)
    vectors_changed()
    assert similar_products(product=query, k=3) == [newcomer]


def test_every_connection_starts_with_the_recommenders_hnsw_scan(version, django_assert_num_queries):
    """No SET per query: the over-fetch fits the connection's ef_search, filtered scans keep going."""
    from django.db import connections

    tops = CategoryFactory(slug="tops", slot="top")
    product = ProductFactory(category=tops)
    index(product, unit(RNG.normal(size=512)), version)
    for _ in range(3):
        index(ProductFactory(category=tops), unit(RNG.normal(size=512)), version)
    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SELECT '[1,2]'::vector")  # pgvector's settings exist once it is loaded
            cursor.execute("SHOW hnsw.ef_search")
            assert int(cursor.fetchone()[0]) >= settings.RECOMMENDER_CANDIDATES
            cursor.execute("SHOW hnsw.iterative_scan")
            assert cursor.fetchone()[0] == "strict_order"
    finally:
        fresh.close()
    query = product_vector_query(product=product, version=version)
    with django_assert_num_queries(1):  # the category's pass; it has fewer than asked, so the slot's adds none
        assert len(_ranked_neighbour_ids(query, limit=settings.RECOMMENDER_CANDIDATES, fill_below=2)) == 3
