"""Shop by photo under load: 4 uploads at the same moment, then a queue of more, through a real worker.

Every search finishes exactly once. The queue is 8 long here (``PHOTO_SEARCH_LOAD_QUEUED=50`` for the
long run whose figures docs/PHOTO_SEARCH.md gives)."""

from __future__ import annotations

import os
import threading
import time

import pytest
from django.db import connection
from rest_framework.test import APIClient

from recommender.models import Garment, OutfitPhoto, PhotoSearch
from recommender.services.photo_search import photo_search_create
from tests.conftest import wait_for
from tests.recommender.test_photo_search import CCP_PHOTOS, outfit_upload

QUEUED = int(os.environ.get("PHOTO_SEARCH_LOAD_QUEUED", "8"))


@pytest.mark.load
@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.timeout(60 + 15 * QUEUED)
def test_four_simultaneous_uploads_and_a_long_queue_all_finish_once_each(celery_worker):
    photos = sorted(CCP_PHOTOS.glob("*.jpg"))
    statuses: list[int] = []
    start = threading.Barrier(4)

    def upload(n: int) -> None:
        try:
            client = APIClient()
            start.wait()
            response = client.post(
                "/api/v1/photo-searches/", {"photo": outfit_upload(photos[n % 3])}, format="multipart"
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [202] * 4
    for n in range(QUEUED):
        photo_search_create(upload=outfit_upload(photos[n % 3]), visitor_key=f"{n:032d}")

    total = 4 + QUEUED
    started = time.monotonic()
    wait_for(
        lambda: PhotoSearch.objects.filter(status__in=["done", "failed"]).count() == total,
        timeout=15 * total,
        interval=1,
    )
    print(f"{total} searches finished in {time.monotonic() - started:.0f} s")
    assert PhotoSearch.objects.count() == OutfitPhoto.objects.count() == total
    assert set(PhotoSearch.objects.values_list("status", "attempts")) == {("done", 1)}
    for search in PhotoSearch.objects.all():
        garments = Garment.objects.filter(photo=search.photo)
        assert garments.count() == search.matches.count() >= 1
        assert len(set(garments.values_list("slot", flat=True))) == garments.count()  # none stored twice
