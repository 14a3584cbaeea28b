"""Deleting a photo search with its photo, garments and files, and expiring old searches."""

from __future__ import annotations

import functools
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recommender.models import PhotoSearch


def photo_search_delete(*, search: PhotoSearch) -> None:
    """Delete the search, its photo, its garments and their files (files once the deletion commits).

    The search row is locked first, as every step of a running job locks it before it writes: a step
    that is committing finishes first, and its garments and crops are then read here and deleted with
    the rest; a step that commits later finds the row gone and deletes its own files."""
    with transaction.atomic():
        locked = (
            PhotoSearch.objects.select_for_update(of=("self",)).select_related("photo").filter(pk=search.pk).first()
        )
        if locked is None:
            return  # deleted already
        photo = locked.photo
        files: list[tuple] = []
        if photo is not None:
            for garment in photo.garments.all():
                if garment.crop:
                    files.append((garment.crop.storage, garment.crop.name))
            if photo.image:
                files.append((photo.image.storage, photo.image.name))
            photo.delete()  # cascades to the search, its garments and matches
        else:
            locked.delete()
        for storage, name in files:
            transaction.on_commit(functools.partial(storage.delete, name))


def photo_searches_expire(*, days: int | None = None, now=None) -> int:
    """Delete every search older than ``days`` (default ``PHOTO_SEARCH_RETENTION_DAYS``), files included."""
    days = settings.PHOTO_SEARCH_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    for search in PhotoSearch.objects.filter(created_at__lt=cutoff).select_related("photo").iterator():
        photo_search_delete(search=search)
        deleted += 1
    return deleted
