"""Celery tasks of the shop: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from core.tasks import RELIABLE_TASK
from shop.services.carts import carts_clean_up
from shop.services.catalog import product_image_process


@shared_task(**RELIABLE_TASK)
def process_product_image(product_id: int) -> None:
    """Thumbnail and dominant colour of a product's main image."""
    product_image_process(product_id=product_id)


@shared_task(**RELIABLE_TASK)
def clean_carts() -> None:
    """Hourly (see CELERY_BEAT_SCHEDULE): expired sessions, orphaned and empty anonymous carts."""
    carts_clean_up()
