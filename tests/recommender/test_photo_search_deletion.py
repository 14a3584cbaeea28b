"""Deleting a photo search means deleted: a deletion races every step of a real worker's job and leaves
no file without a row and no error in the worker's log; the sweep removes what a crash could leave."""

from __future__ import annotations

import io
import os
import threading
import time
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection

from recommender.models import Garment, OutfitPhoto, PhotoSearch
from recommender.services.photo_search import photo_search_add_box, photo_search_create, photo_search_delete
from recommender.tasks import run_photo_search
from tests.conftest import WorkerProcess, wait_for
from tests.images import jpeg_bytes
from tests.recommender.latch import Latch
from tests.recommender.test_photo_search import outfit_upload

#: Where a job is held while the search is deleted: before it starts, after each step's work, and inside
#: each step's commit (the row locked, its files written: the deletion then waits for that commit).
UPLOAD_POINTS = (
    "start",
    "segmenting:computed",
    "segmenting:locked",
    "embedding:computed",
    "embedding:locked",
    "matching:computed",
    "matching:locked",
)
#: A box the customer drew runs the last two steps again.
BOX_POINTS = ("start", "embedding:computed", "embedding:locked", "matching:computed", "matching:locked")
ROUNDS = int(os.environ.get("PHOTO_SEARCH_DELETE_RACE_ROUNDS", "2"))


def photo_files() -> set[str]:
    names: set[str] = set()
    for folder in ("outfits", "garments"):
        if default_storage.exists(folder):
            names |= {f"{folder}/{name}" for name in default_storage.listdir(folder)[1]}
    return names


def referenced_files() -> set[str]:
    return set(OutfitPhoto.objects.exclude(image="").values_list("image", flat=True)) | set(
        Garment.objects.exclude(crop="").values_list("crop", flat=True)
    )


@pytest.fixture
def latched_worker(transactional_db, embedder_weights_dir):
    """A real worker of its own whose photo-search jobs stop at the points a test names (``tests.recommender.latch``)."""
    from config.celery import app

    queue = f"latched-{uuid.uuid4().hex[:6]}"
    worker = WorkerProcess(
        queue, embedder_weights_dir, extra_env={"PHOTO_SEARCH_STEP_HOOK": "tests.recommender.latch.wait_at_point"}
    )
    previous, app.conf.task_default_queue = app.conf.task_default_queue, queue
    try:
        yield worker
    finally:
        app.conf.task_default_queue = previous
        worker.stop()


def _jobs_finished(worker: WorkerProcess) -> int:
    lines = worker.log_path.read_text().splitlines()
    return sum("recommender.tasks.run_photo_search[" in line and "succeeded in" in line for line in lines)


def _a_deletion_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def _delete_in_a_thread(search_id, errors: list) -> threading.Thread:
    def delete():
        try:
            photo_search_delete(search=PhotoSearch(pk=search_id))
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=delete)
    thread.start()
    return thread


def _race(worker: WorkerProcess, search: PhotoSearch, point: str, start_job) -> None:
    """Hold the job at ``point``, delete the search, let the job go on, and wait until it has ended."""
    latch = Latch(search.pk, point)
    finished = _jobs_finished(worker)
    start_job()
    assert latch.reached(), f"the job never reached {point}"
    if point.endswith(":locked"):
        # The job holds the search row inside its commit: the deletion must wait for it, then delete
        # everything that commit wrote.
        errors: list = []
        deleter = _delete_in_a_thread(search.pk, errors)
        wait_for(_a_deletion_waits_for_a_lock, timeout=30, interval=0.02)
        latch.release()
        deleter.join(timeout=60)
        assert not deleter.is_alive() and errors == []
    else:
        photo_search_delete(search=search)
        latch.release()
    wait_for(lambda: _jobs_finished(worker) > finished, timeout=120, interval=0.05)


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_deleting_a_search_at_any_step_of_its_job_leaves_no_file_and_no_error(latched_worker, capsys):
    before = photo_files()
    races, left = [], {}
    for _ in range(ROUNDS):
        for point in UPLOAD_POINTS:
            search = photo_search_create(upload=outfit_upload(), queue=False)
            _race(latched_worker, search, point, lambda search=search: run_photo_search.delay(str(search.pk)))
            races.append(f"upload@{point}")
            left[races[-1]] = sorted((photo_files() - before) - referenced_files())
        for point in BOX_POINTS:
            search = photo_search_create(upload=outfit_upload(), queue=False)
            finished = _jobs_finished(latched_worker)
            run_photo_search.delay(str(search.pk))
            wait_for(lambda finished=finished: _jobs_finished(latched_worker) > finished, timeout=120)
            assert PhotoSearch.objects.get(pk=search.pk).status == PhotoSearch.Status.DONE

            def draw_a_box(search=search):
                photo_search_add_box(
                    search=PhotoSearch.objects.get(pk=search.pk), box=[20, 200, 180, 400], slot="dress"
                )

            _race(latched_worker, search, point, draw_a_box)
            races.append(f"box@{point}")
            left[races[-1]] = sorted((photo_files() - before) - referenced_files())

    log = latched_worker.log_path.read_text()
    errors = [line for line in log.splitlines() if "ERROR" in line or "Traceback" in line or "CRITICAL" in line]
    orphans = sorted({name for names in left.values() for name in names})
    with capsys.disabled():
        print(
            f"\ndelete races: {len(races)}, files left without a row: {len(orphans)}, error lines in the worker log: {len(errors)}"
        )
    assert len(races) >= 20
    assert not PhotoSearch.objects.exists() and not OutfitPhoto.objects.exists() and not Garment.objects.exists()
    assert {race: names for race, names in left.items() if names} == {}
    assert errors == []
    assert log.count("was deleted while it ran") >= len(races) - ROUNDS * 2  # most races end in the job itself


def _aged(name: str, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(default_storage.path(name), (past, past))


@pytest.mark.django_db(transaction=True)
def test_the_sweep_deletes_old_unreferenced_photo_files_and_nothing_else(unconsumed_queue, settings):
    settings.PHOTO_MEDIA_SWEEP_GRACE_SECONDS = 3600
    search = photo_search_create(upload=outfit_upload())
    kept_photo = search.photo.image.name
    _aged(kept_photo, 7200)
    old_photo = default_storage.save("outfits/orphan.jpg", ContentFile(jpeg_bytes((10, 20, 30))))
    old_crop = default_storage.save("garments/orphan.jpg", ContentFile(jpeg_bytes((30, 20, 10))))
    young_crop = default_storage.save("garments/young.jpg", ContentFile(jpeg_bytes((30, 20, 10))))
    product_image = default_storage.save("products/unreferenced.jpg", ContentFile(jpeg_bytes((1, 2, 3))))
    for name in (old_photo, old_crop, product_image):
        _aged(name, 7200)

    dry = io.StringIO()
    call_command("sweep_media", "--dry-run", stdout=dry)
    assert default_storage.exists(old_photo) and default_storage.exists(old_crop)
    assert "Would delete" in dry.getvalue()

    out = io.StringIO()
    call_command("sweep_media", stdout=out)

    assert not default_storage.exists(old_photo) and not default_storage.exists(old_crop)
    assert default_storage.exists(kept_photo) and default_storage.exists(young_crop)
    assert default_storage.exists(product_image)  # never outside the photo folders
    assert "orphans deleted" in out.getvalue() and "unreferenced file" in out.getvalue()
    assert PhotoSearch.objects.filter(pk=search.pk).exists()
    for name in (young_crop, product_image):
        default_storage.delete(name)


@pytest.mark.django_db(transaction=True)
def test_celery_beat_runs_the_media_sweep_next_to_the_other_housekeeping(settings, unconsumed_queue):
    from config.celery import app
    from recommender.tasks import sweep_photo_media

    entry = settings.CELERY_BEAT_SCHEDULE["sweep-photo-media"]
    assert entry["task"] == sweep_photo_media.name and entry["task"] in app.tasks
    assert entry["schedule"] <= 24 * 3600 and "expire-photo-searches" in settings.CELERY_BEAT_SCHEDULE
    orphan = default_storage.save("garments/beat-orphan.jpg", ContentFile(jpeg_bytes((5, 5, 5))))
    _aged(orphan, settings.PHOTO_MEDIA_SWEEP_GRACE_SECONDS + 60)
    sweep_photo_media.apply()
    assert not default_storage.exists(orphan)
