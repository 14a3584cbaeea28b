"""Photo files no row refers to: found and deleted, in the photo folders only.

A file in ``outfits/`` or ``garments/`` belongs to an :class:`OutfitPhoto` (its ``image``) or a
:class:`Garment` (its ``crop``), street outfits and customers' photo searches alike. Deleting a row
deletes its files once the deletion commits, and a job step that loses the race with a deletion
deletes the files it wrote; this sweep is the net under both (a process killed between writing a
file and committing its row). It never lists another folder, so product images are never touched,
and it leaves files younger than the grace period alone, so a step still committing keeps its files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from recommender.models import Garment, OutfitPhoto

logger = logging.getLogger(__name__)


def _folders() -> dict[str, tuple]:
    """The photo folders, each with its storage and the (model, field) whose rows refer to its files."""
    image = OutfitPhoto._meta.get_field("image")
    crop = Garment._meta.get_field("crop")
    return {
        str(image.upload_to).rstrip("/"): (image.storage, OutfitPhoto, "image"),
        str(crop.upload_to).rstrip("/"): (crop.storage, Garment, "crop"),
    }


@dataclass
class MediaSweep:
    """What a sweep found, per folder: files seen, files referenced by a row, orphans deleted, orphans kept
    because they are younger than the grace period."""

    seen: dict[str, int] = field(default_factory=dict)
    referenced: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    too_young: dict[str, int] = field(default_factory=dict)
    deleted_names: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"{folder}/: {self.seen[folder]} files, {self.referenced[folder]} referenced, "
            f"{self.deleted[folder]} orphans deleted, {self.too_young[folder]} orphans younger than the grace period kept"
            for folder in self.seen
        ]


def photo_media_sweep(
    *, grace_seconds: int | None = None, now: datetime | None = None, dry_run: bool = False
) -> MediaSweep:
    """Delete files under the photo folders that no row refers to and that are older than ``grace_seconds``
    (default ``PHOTO_MEDIA_SWEEP_GRACE_SECONDS``). ``dry_run`` counts them and deletes nothing."""
    grace = settings.PHOTO_MEDIA_SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = (now or timezone.now()) - timedelta(seconds=grace)
    report = MediaSweep()
    for folder, (storage, model, field_name) in _folders().items():
        seen = referenced = deleted = young = 0
        files = storage.listdir(folder)[1] if storage.exists(folder) else []
        known = set(model.objects.exclude(**{field_name: ""}).values_list(field_name, flat=True).iterator())
        for base in files:
            name = f"{folder}/{base}"
            seen += 1
            if name in known:
                referenced += 1
                continue
            try:
                modified = storage.get_modified_time(name)
            except FileNotFoundError:
                continue  # deleted meanwhile
            if modified > cutoff:
                young += 1
                continue
            # Looked up again just before deleting: a row may have taken the name since the listing.
            if model.objects.filter(**{field_name: name}).exists():
                referenced += 1
                continue
            if not dry_run:
                storage.delete(name)
            deleted += 1
            report.deleted_names.append(name)
        report.seen[folder], report.referenced[folder] = seen, referenced
        report.deleted[folder], report.too_young[folder] = deleted, young
    if not dry_run and report.deleted_names:
        logger.info("Photo media sweep deleted %d unreferenced files", len(report.deleted_names))
    return report
