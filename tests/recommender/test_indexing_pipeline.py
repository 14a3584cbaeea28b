"""Indexing end to end with a real worker and broker: new photo → vector; failures recorded; kills survived."""

import io
import uuid
from collections import Counter

import numpy as np
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse

from recommender import inference
from recommender.models import GarmentVector
from recommender.selectors.cached import similar_products
from recommender.selectors.indexing import products_needing_vectors
from shop.models import Product
from shop.services.catalog import product_set_image
from tests.conftest import WorkerProcess, make_embedder_weights, wait_for
from tests.factories import CategoryFactory, ProductFactory, UserFactory, tops_waiting_for_vectors
from tests.images import jpeg_bytes, truncated_jpeg


def _vector_state(product):
    vector = GarmentVector.objects.filter(product=product).first()
    if vector and vector.status != GarmentVector.Status.PENDING:
        return vector
    return None


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_new_photo_is_embedded_by_the_worker_and_feeds_similar_items(celery_worker):
    tops = CategoryFactory(slug="tops", slot="top")
    products = [ProductFactory(category=tops) for _ in range(3)]
    for n, product in enumerate(products):
        product_set_image(product=product, image=ContentFile(jpeg_bytes((60 * n, 80, 200))), filename="p.jpg")
    vectors = [wait_for(lambda p=p: _vector_state(p), timeout=60) for p in products]

    assert {v.status for v in vectors} == {GarmentVector.Status.INDEXED}
    assert {v.model_version for v in vectors} == {inference.current_model_version()}
    assert all(len(v.embedding) == 512 and abs(np.linalg.norm(v.embedding) - 1) < 1e-3 for v in vectors)
    similar = similar_products(product=products[0], k=5)
    assert set(similar) == set(products[1:])


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_broken_photo_is_recorded_as_failed_and_can_be_retried_from_the_admin(celery_worker, client):
    product = ProductFactory()
    product_set_image(product=product, image=ContentFile(truncated_jpeg()), filename="broken.jpg")
    vector = wait_for(lambda: _vector_state(product), timeout=60)
    assert vector.status == GarmentVector.Status.FAILED and "truncated" in vector.error
    assert Product.objects.get(pk=product.pk).is_active  # still on sale

    client.force_login(UserFactory(username="curator", is_staff=True, is_superuser=True))
    listing = client.get(reverse("admin:shop_product_changelist")).content.decode()
    assert "failed" in listing

    product.image.save("fixed.jpg", ContentFile(jpeg_bytes()), save=True)
    Product.objects.filter(pk=product.pk).update(image_sha256="")
    client.post(reverse("admin:shop_product_changelist"), {"action": "reindex", "_selected_action": [product.pk]})
    wait_for(lambda: GarmentVector.objects.get(product=product).status == GarmentVector.Status.INDEXED, timeout=60)


@pytest.mark.django_db(transaction=True)
def test_reindex_only_embeds_stale_vectors_and_a_new_model_makes_all_stale(
    embedder_weights_dir, tmp_path, settings, unconsumed_queue
):
    tops = CategoryFactory(slug="tops", slot="top")
    products = [ProductFactory(category=tops) for _ in range(3)]
    for product in products:
        product_set_image(product=product, image=ContentFile(jpeg_bytes()), filename="p.jpg", process_now=True)
    out = io.StringIO()
    call_command("reindex", no_progress=True, stdout=out)
    assert "3 products need vectors" in out.getvalue() and "3 indexed" in out.getvalue()
    out = io.StringIO()
    call_command("reindex", no_progress=True, stdout=out)
    assert "0 products need vectors" in out.getvalue()

    # A changed photo makes that one vector stale.
    product_set_image(product=products[0], image=ContentFile(jpeg_bytes((10, 200, 10))), filename="q.jpg")
    assert list(products_needing_vectors(version=inference.current_model_version())) == [products[0]]

    # A new model version makes every vector stale, and old vectors are not served meanwhile.
    old = inference.current_model_version()
    new_dir = make_embedder_weights(tmp_path / "weights-b", seed=1)
    settings.RECOMMENDER_EMBEDDER_WEIGHTS = {"name": "resnet34-garments", "directory": str(new_dir)}
    new = inference.current_model_version()
    assert new != old
    assert products_needing_vectors(version=new).count() == 3
    assert similar_products(product=products[1]) == []
    call_command("reindex", no_progress=True, stdout=io.StringIO())
    assert set(GarmentVector.objects.values_list("model_version", flat=True)) == {new}
    assert set(similar_products(product=products[1])) == {products[0], products[2]}


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_worker_killed_mid_batch_loses_nothing(celery_worker, embedder_weights_dir):
    """SIGKILL the worker (and its pool) while it embeds a batch: the unacknowledged message goes
    back to the queue and the next worker redoes that batch. A large batch is first split into
    tasks of ``RECOMMENDER_TASK_BATCH``, so only the one in flight is done twice."""
    from recommender.tasks import embed_products

    products = tops_waiting_for_vectors(48)

    queue = f"kill-{uuid.uuid4().hex[:6]}"
    # Short visibility timeout: an unacknowledged message is handed out again after 3 s.
    env = {"CELERY_VISIBILITY_TIMEOUT": "3"}
    doomed = WorkerProcess(queue, embedder_weights_dir, extra_env=env)
    embed_products.apply_async(args=[[p.pk for p in products]], queue=queue)
    wait_for(lambda: GarmentVector.objects.filter(attempts__gt=0).exists(), timeout=60, interval=0.02)
    doomed.kill()
    assert not GarmentVector.objects.filter(status=GarmentVector.Status.INDEXED).exists()

    survivor = WorkerProcess(queue, embedder_weights_dir, extra_env=env)
    try:
        wait_for(
            lambda: GarmentVector.objects.filter(status=GarmentVector.Status.INDEXED).count() == len(products),
            timeout=120,
        )
    finally:
        survivor.stop()
    attempts = Counter(GarmentVector.objects.values_list("attempts", flat=True))
    assert attempts == {2: settings.RECOMMENDER_TASK_BATCH, 1: len(products) - settings.RECOMMENDER_TASK_BATCH}


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_embedding_message_changes_nothing(embedder_weights_dir, unconsumed_queue):
    from recommender.services.indexing import products_embed

    product = ProductFactory()
    product_set_image(product=product, image=ContentFile(jpeg_bytes()), filename="p.jpg", process_now=True)
    assert products_embed(product_ids=[product.pk]) == {"indexed": 1, "failed": 0, "skipped": 0}
    first = GarmentVector.objects.get(product=product)
    assert products_embed(product_ids=[product.pk]) == {"indexed": 0, "failed": 0, "skipped": 1}
    again = GarmentVector.objects.get(product=product)
    assert again.indexed_at == first.indexed_at and again.attempts == first.attempts


@pytest.mark.django_db(transaction=True)
def test_indexing_a_product_is_merged_into_cached_rankings_not_a_reset_of_all(embedder_weights_dir, unconsumed_queue):
    """A product indexed through the real path logs its vectors: every other product's cached ranking
    takes it in (merged), and none has to search the catalog again."""
    from recommender.selectors.freshness import ranking_changes
    from recommender.services.indexing import products_embed

    tops = CategoryFactory(slug="tops", slot="top")
    first, second = ProductFactory(category=tops), ProductFactory(category=tops)
    for n, product in enumerate((first, second)):
        product_set_image(
            product=product, image=ContentFile(jpeg_bytes((90 * n, 80, 200))), filename="p.jpg", process_now=True
        )
    products_embed(product_ids=[first.pk, second.pk])
    assert similar_products(product=first, k=5) == [second]  # ranked and cached

    newcomer = ProductFactory(category=tops)
    product_set_image(
        product=newcomer, image=ContentFile(jpeg_bytes((40, 80, 200))), filename="p.jpg", process_now=True
    )
    before = ranking_changes()
    assert products_embed(product_ids=[newcomer.pk])["indexed"] == 1
    assert ranking_changes() == before  # no ranking in the shop was thrown away
    assert set(similar_products(product=first, k=5)) == {second, newcomer}  # merged into the cached ranking
