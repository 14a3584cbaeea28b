"""A killed worker's batch is redone within 2 minutes of a new worker starting, with the shipped settings.

The visibility timeout must outlast every task (or a slow task would be handed out twice) and be
short (or a dead worker's message waits: it was 3,600 s). These tests hold both ends."""

from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings

from recommender.models import GarmentVector
from tests.conftest import WorkerProcess, wait_for
from tests.factories import tops_waiting_for_vectors

REDO_WITHIN_SECONDS = 120


def test_every_task_ends_inside_the_visibility_timeout_with_a_margin():
    from config.celery import app

    app.loader.import_default_modules()
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    limits = {
        name: task.time_limit or app.conf.task_time_limit
        for name, task in app.tasks.items()
        if not name.startswith("celery.")
    }
    assert limits and all(limit for limit in limits.values()), limits
    assert max(limits.values()) + 10 <= timeout, (timeout, limits)
    # A dead worker's message comes back after the timeout plus one sweep; that must fit in 2 minutes.
    sweep = settings.CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_interval"]
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_throttle"] == 1
    assert timeout + sweep < REDO_WITHIN_SECONDS


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.timeout(400)
def test_a_batch_of_a_killed_worker_is_done_within_two_minutes_of_a_new_worker_starting(embedder_weights_dir):
    from recommender.tasks import embed_products

    products = tops_waiting_for_vectors(48)

    queue = f"redo-{uuid.uuid4().hex[:6]}"
    doomed = WorkerProcess(queue, embedder_weights_dir)  # the shipped visibility timeout, no override
    embed_products.apply_async(args=[[p.pk for p in products]], queue=queue)
    wait_for(lambda: GarmentVector.objects.filter(attempts__gt=0).exists(), timeout=60, interval=0.02)
    doomed.kill()
    assert not GarmentVector.objects.filter(status=GarmentVector.Status.INDEXED).exists()

    started = time.monotonic()
    survivor = WorkerProcess(queue, embedder_weights_dir)
    try:
        wait_for(
            lambda: GarmentVector.objects.filter(status=GarmentVector.Status.INDEXED).count() == len(products),
            timeout=REDO_WITHIN_SECONDS + 30,
            interval=0.5,
        )
    finally:
        survivor.stop()
    redone_after = time.monotonic() - started
    print(f"batch redone {redone_after:.1f} s after the new worker was started")
    assert redone_after < REDO_WITHIN_SECONDS
