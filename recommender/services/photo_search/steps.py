"""The guarded steps of a photo search: how each step commits so that a search the customer
deletes while its job runs stays deleted, with none of the job's files left behind.

Every step's writes start with a guarded status update (``UPDATE … WHERE id = …``), which locks
the search row until the step commits: a deletion waits for that commit and then sees, and
deletes, every file the step wrote; a step that finds the row gone raises :class:`SearchGone`
and deletes its own files.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from PIL import Image

from core.dispatch import enqueue_on_commit
from core.errors import ApplicationError
from recommender import inference
from recommender.models import Garment, OutfitPhoto, PhotoSearch

Status = PhotoSearch.Status


class SearchConflict(ApplicationError):
    code = "search_running"
    status_code = 409


class SearchGone(Exception):
    """The search was deleted while its job ran: the job stops quietly and keeps nothing it made."""


def elapsed_ms(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)


def queue_run(search: PhotoSearch) -> None:
    """Queue the search's job once the current transaction commits."""
    enqueue_on_commit("recommender.tasks.run_photo_search", str(search.pk))


@contextlib.contextmanager
def job_lock(search_id) -> Iterator[bool]:
    """A PostgreSQL advisory lock per search: a duplicate delivery never runs the same job twice at once.

    It is held by the database session, so a killed worker's lock goes with its connection."""
    key = uuid.UUID(str(search_id)).int & 0x7FFF_FFFF_FFFF_FFFF
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def set_status(search: PhotoSearch, status: str, **fields) -> None:
    """Move the search to ``status`` with a guarded row update (it also locks the row until commit).

    ``UPDATE … WHERE id = …`` touching 0 rows means the customer deleted the search: ``SearchGone``,
    never ``save()``'s "did not affect any rows" error, and never a deleted row saved again."""
    values = {"status": status, "progress": PhotoSearch.PROGRESS[status], **fields}
    if not PhotoSearch.objects.filter(pk=search.pk).update(updated_at=timezone.now(), **values):
        raise SearchGone(search.pk)
    for name, value in values.items():
        setattr(search, name, value)


def fail(search: PhotoSearch, code: str, message: str) -> None:
    set_status(search, Status.FAILED, error_code=code[:40], error=message[:300], finished_at=timezone.now())


def reached(search: PhotoSearch, point: str) -> None:
    """Call ``PHOTO_SEARCH_STEP_HOOK`` (a dotted path; unset in service) at a named point of the job.

    Tests pause a real worker here (a Redis latch) to delete the search at every step."""
    hook = getattr(settings, "PHOTO_SEARCH_STEP_HOOK", "")
    if hook:
        import_string(hook)(search_id=str(search.pk), point=point)


@contextlib.contextmanager
def step_commit(search: PhotoSearch, step: str, status: str, **fields) -> Iterator[list[str]]:
    """One step's writes: the guarded status update first (it locks the search row, so a deletion
    waits for this commit and then sees, and deletes, every file it references), then the step's rows
    and files. The block appends the storage names it writes to the list it is given; if the step
    does not commit (the search was deleted first, or any error), those files are deleted again."""
    written: list[str] = []
    try:
        with transaction.atomic():
            set_status(search, status, **fields)
            yield written
            reached(search, f"{step}:locked")
    except BaseException:
        delete_crops(written)
        raise


def delete_crops(names: list[str]) -> None:
    """Delete garment crops a write that did not commit had stored."""
    storage = Garment._meta.get_field("crop").storage
    for name in names:
        storage.delete(name)


def search_exists(search_id) -> bool:
    return PhotoSearch.objects.filter(pk=search_id).exists()


def search_photo(search: PhotoSearch) -> OutfitPhoto:
    """The search's photo row, or an ``ApplicationError`` when it has been deleted."""
    if search.photo is None:
        raise ApplicationError("The photo of this search has been deleted.", code="photo_missing")
    return search.photo


def photo_image(photo: OutfitPhoto | None) -> Image.Image:
    """The search's stored photo, decoded, or an ``ApplicationError`` when it has been deleted."""
    if not photo or not photo.image:
        raise ApplicationError("The photo of this search has been deleted.", code="photo_missing")
    try:
        with photo.image.open("rb") as fh:
            return inference.open_image(fh, max_pixels=settings.MAX_IMAGE_PIXELS)
    except FileNotFoundError as exc:
        raise ApplicationError("The photo of this search has been deleted.", code="photo_missing") from exc
