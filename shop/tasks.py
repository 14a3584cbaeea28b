"""Celery tasks of the shop: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from shop.services.carts import carts_clean_up
from shop.services.catalog import product_image_process


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError, ConnectionError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
    ignore_result=True,
)
def process_product_image(product_id: int) -> None:
    """Thumbnail and dominant colour of a product's main image."""
    product_image_process(product_id=product_id)


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def clean_carts() -> None:
    """Hourly (see CELERY_BEAT_SCHEDULE): expired sessions, orphaned and empty anonymous carts."""
    carts_clean_up()
