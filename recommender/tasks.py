"""Celery tasks of the recommender: thin, take ids, idempotent, never lost (``core.tasks.RELIABLE_TASK``).

A worker killed mid-batch leaves the message unacknowledged, so the broker hands it to the next
worker and the batch is redone (embedding is idempotent: the same rows come out).
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from core.tasks import RELIABLE_TASK
from recommender.services.indexing import products_embed, vector_changes_prune
from recommender.services.photo_media import photo_media_sweep
from recommender.services.photo_search import photo_search_run, photo_searches_expire


@shared_task(**RELIABLE_TASK)
def embed_product(product_id: int) -> None:
    products_embed(product_ids=[product_id])


@shared_task(**RELIABLE_TASK)
def embed_products(product_ids: list[int]) -> None:
    """Embed a batch; a larger one is split into tasks of ``RECOMMENDER_TASK_BATCH`` products, so every
    task ends well inside the broker's visibility timeout and a killed worker costs one small batch."""
    size = settings.RECOMMENDER_TASK_BATCH
    if len(product_ids) > size:
        for start in range(0, len(product_ids), size):
            embed_products.delay(product_ids[start : start + size])
        return
    products_embed(product_ids=product_ids)


@shared_task(**RELIABLE_TASK)
def run_photo_search(search_id: str) -> None:
    """Find the garments of a customer's photo and their catalog items; resumes at the first unfinished step."""
    photo_search_run(search_id=search_id)


@shared_task(**RELIABLE_TASK)
def expire_photo_searches() -> None:
    """Delete photo searches (photos, crops, rows) older than ``PHOTO_SEARCH_RETENTION_DAYS``; run by celery beat."""
    photo_searches_expire()


@shared_task(**RELIABLE_TASK)
def sweep_photo_media() -> None:
    """Delete photo files (outfits/, garments/) no row refers to, past the grace period; run by celery beat."""
    photo_media_sweep()


@shared_task(**RELIABLE_TASK)
def prune_vector_changes() -> None:
    """Forget logged vector writes no cached ranking can still need; run by celery beat."""
    vector_changes_prune()
