"""Whole recommendation results are cached until the catalog changes, whatever wrote the change."""

from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from recommender import inference
from recommender.models import ComplementRule
from recommender.selectors.cached import complements_for, similar_products
from recommender.selectors.freshness import (
    catalog_changes,
    products_written_since,
    ranking_changes,
    recommendations_state,
    rule_changes,
    vector_changes,
)
from recommender.services.indexing import vector_store
from shop.models import Product
from tests.factories import CategoryFactory, ProductFactory
from tests.vectors import near, unit

pytestmark = pytest.mark.django_db
RNG = np.random.default_rng(11)


@pytest.fixture
def tops(embedder_weights_dir):
    """A query top and three look-alikes, nearest first."""
    version = inference.current_model_version()
    category = CategoryFactory(slug="tops", slot="top")
    base = unit(RNG.normal(size=512))
    products = [ProductFactory(category=category, price=Decimal("50")) for _ in range(4)]
    for n, product in enumerate(products):
        product.image_sha256 = "0" * 64
        product.save(update_fields=["image_sha256"])
        vector_store(product=product, vector=near(base, 0.01 * n, RNG), model_version=version)
    return products


def test_a_repeated_result_comes_from_the_cache(tops, django_assert_max_num_queries):
    query, *alike = tops
    assert similar_products(product=query, k=3) == alike
    with django_assert_max_num_queries(1):  # the catalog's change counter, nothing else
        assert similar_products(product=query, k=3) == alike


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda p: Product.objects.filter(pk=p.pk).update(stock=0), id="bulk update"),
        pytest.param(lambda p: Product.objects.filter(pk=p.pk).update(is_active=False), id="taken off sale"),
        pytest.param(
            lambda p: connection.cursor().execute("UPDATE shop_product SET stock = 0 WHERE id = %s", [p.pk]),
            id="raw SQL",
        ),
    ],
)
def test_a_sold_out_item_leaves_the_cached_result_at_once(tops, write):
    query, first, *rest = tops
    assert similar_products(product=query, k=3)[0] == first
    before = catalog_changes()
    write(first)
    assert catalog_changes() != before
    assert first not in similar_products(product=query, k=3)


def test_a_price_change_reaches_cheaper_only_at_once(tops):
    query, first, *rest = tops
    Product.objects.filter(pk=first.pk).update(price=Decimal("10"))
    assert similar_products(product=query, k=3, cheaper=True) == [first]
    Product.objects.filter(pk=first.pk).update(price=Decimal("90"))
    assert similar_products(product=query, k=3, cheaper=True) == []


def test_a_new_pin_shows_at_once_although_the_result_was_cached(tops):
    query, *_ = tops
    bottoms = CategoryFactory(slug="bottoms", slot="bottom")
    skirt = ProductFactory(category=bottoms)
    assert complements_for(product=query, k=4).items == []
    ComplementRule.objects.create(product=query, other=skirt, kind=ComplementRule.Kind.PIN)
    assert [s.product for s in complements_for(product=query, k=4).items] == [skirt]


def test_the_cache_can_be_turned_off(tops, settings):
    settings.RECOMMENDER_RESULT_CACHE_SECONDS = 0
    query, *alike = tops
    similar_products(product=query, k=3)
    with CaptureQueriesContext(connection) as queries:
        assert similar_products(product=query, k=3) == alike
    assert len(queries) > 1 and not any("recommender_catalog_changes" in q["sql"] for q in queries)


def _similar_on_page(client, product) -> list[str]:
    html = client.get(product.get_absolute_url()).content.decode()
    section = html.split('id="similar-items"', 1)[1]
    return [p.get_absolute_url() for p in Product.objects.all() if p.get_absolute_url() in section]


def test_the_page_sections_are_cached_for_everyone_and_follow_the_catalog(tops, client):
    query, first, *rest = tops
    assert sorted(_similar_on_page(client, query)) == sorted(p.get_absolute_url() for p in [first, *rest])
    with CaptureQueriesContext(connection) as queries:
        client.get(query.get_absolute_url())
    assert not any("recommender_garmentvector" in q["sql"] for q in queries)  # sections from the cache
    Product.objects.filter(pk=first.pk).update(stock=0)
    assert first.get_absolute_url() not in _similar_on_page(client, query)


def test_a_cached_page_still_carries_each_visitors_own_csrf_token():
    """The "Add the look" buttons are in the cached sections; their form, with the token, is not."""
    top = ProductFactory(category=CategoryFactory(slug="tops", slot="top"))
    bottom = ProductFactory(category=CategoryFactory(slug="bottoms", slot="bottom"))
    ComplementRule.objects.create(product=top, other=bottom, kind=ComplementRule.Kind.PIN)
    tokens = set()
    for visitor in (Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)):
        html = visitor.get(top.get_absolute_url()).content.decode()
        assert 'form="add-look"' in html
        token = html.split('id="add-look"', 1)[1].split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        tokens.add(visitor.cookies["csrftoken"].value)
        response = visitor.post(f"/cart/add-look/{top.pk}/", {"with_product": bottom.pk, "csrfmiddlewaretoken": token})
        assert response.status_code == 302  # 403 with a missing or foreign token
    assert len(tokens) == 2


def test_a_sale_that_leaves_an_item_in_stock_keeps_the_cache_warm(tops):
    query, first, *rest = tops
    Product.objects.filter(pk=first.pk).update(stock=10)
    before = catalog_changes()
    Product.objects.filter(pk=first.pk).update(stock=9)  # an order: still in stock, the sections look the same
    assert catalog_changes() == before
    Product.objects.filter(pk=first.pk).update(stock=0)  # the last one sold: it must leave every list
    assert catalog_changes() != before


def test_new_street_outfits_invalidate_cached_results():
    """Ingesting outfits changes the reasons ("worn together in N street outfits"): it advances the counter."""
    from recommender.services.indexing import vectors_changed

    before = catalog_changes()
    vectors_changed()
    assert catalog_changes() != before


def test_only_category_writes_reorder_every_ranking_and_vector_writes_are_logged(tops):
    """The rankings' counter ignores product writes (prices, stock, names) and curators' rules: those only
    change what is shown, and the catalog's counter refreshes the shown lists. A vector write advances the
    vector counter and logs its product (merged into cached rankings); only categories reorder everything."""
    query, first, *rest = tops
    before, shown_before, rules_before = ranking_changes(), catalog_changes(), rule_changes()
    Product.objects.filter(pk=first.pk).update(price=Decimal("12"), stock=0, name="Renamed")
    assert rule_changes() == rules_before
    ComplementRule.objects.create(product=query, other=first, kind=ComplementRule.Kind.BLOCK)
    assert ranking_changes() == before and catalog_changes() != shown_before and rule_changes() != rules_before
    state = recommendations_state()
    vector_store(product=first, vector=unit(RNG.normal(size=512)), model_version=inference.current_model_version())
    assert ranking_changes() == before and vector_changes() != state.vectors and catalog_changes() != shown_before
    # (Inside this test's one transaction its earlier writes count as unseen too: test_ranking_merge commits.)
    assert first.pk in products_written_since(state.vector_head, state.snapshot)
    first.category.slot = "bottom"
    first.category.save()
    assert ranking_changes() != before


def _vector_searches(queries) -> list[str]:
    return [q["sql"] for q in queries if "<=>" in q["sql"]]


def test_after_a_product_write_the_page_filters_the_cached_ranking_without_searching_again(tops, client, settings):
    settings.RECOMMENDER_SIMILAR_ON_PAGE, settings.RECOMMENDER_COMPLEMENTS_ON_PAGE = 2, 1  # short lists need no fill-in
    query, first, second, third = tops
    bottoms = CategoryFactory(slug="bottoms", slot="bottom")
    skirt = ProductFactory(category=bottoms)
    ComplementRule.objects.create(product=query, other=skirt, kind=ComplementRule.Kind.PIN)
    client.get(query.get_absolute_url())  # both rankings are computed and cached

    Product.objects.filter(pk=first.pk).update(stock=0)
    Product.objects.filter(pk=second.pk).update(name="Second, renamed", price=Decimal("20"))
    with CaptureQueriesContext(connection) as queries:
        html = client.get(query.get_absolute_url()).content.decode()

    assert _vector_searches(queries) == []  # the rankings came from the cache
    section = html.split('id="similar-items"', 1)[1]
    assert first.get_absolute_url() not in section  # sold out: gone at once
    assert "Second, renamed" in section and "20" in section  # the rows are read fresh
    assert skirt.name in html.split('id="complete-the-look"', 1)[1].split('id="similar-items"', 1)[0]

    # The pins and blocks were cached with the first visit: a product write does not read them again.
    assert not any("recommender_complementrule" in q["sql"] for q in queries)

    # A curator blocks the pinned skirt and pins another: shown at once, still without a vector search.
    dress_pin = ProductFactory(category=bottoms, name="Pleated midi")
    ComplementRule.objects.filter(product=query, other=skirt).update(kind=ComplementRule.Kind.BLOCK)
    ComplementRule.objects.create(product=query, other=dress_pin, kind=ComplementRule.Kind.PIN)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(query.get_absolute_url()).content.decode()
    assert _vector_searches(queries) == []
    section = html.split('id="complete-the-look"', 1)[1].split('id="similar-items"', 1)[0]
    assert "Pleated midi" in section and skirt.name not in section

    # A vector changed: the ranking is brought up to date (merged, test_ranking_merge; here, inside this
    # test's one transaction, searched again).
    vector_store(product=third, vector=unit(RNG.normal(size=512)), model_version=inference.current_model_version())
    with CaptureQueriesContext(connection) as queries:
        client.get(query.get_absolute_url())
    assert _vector_searches(queries)
