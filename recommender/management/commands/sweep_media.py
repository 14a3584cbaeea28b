"""``manage.py sweep_media``: delete photo files (outfits/, garments/) that no row refers to."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from recommender.services.photo_media import photo_media_sweep


class Command(BaseCommand):
    help = (
        "Delete files under the photo folders (outfits/, garments/) that no outfit photo or garment refers to "
        "and that are older than PHOTO_MEDIA_SWEEP_GRACE_SECONDS. Product images are never touched. "
        "Celery beat runs the same service every 6 hours."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--grace", type=int, default=None, help="Seconds; override PHOTO_MEDIA_SWEEP_GRACE_SECONDS."
        )
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")

    def handle(self, *args, grace: int | None, dry_run: bool, **options):
        grace = settings.PHOTO_MEDIA_SWEEP_GRACE_SECONDS if grace is None else grace
        report = photo_media_sweep(grace_seconds=grace, dry_run=dry_run)
        for line in report.lines():
            self.stdout.write(line)
        verb = "Would delete" if dry_run else "Deleted"
        count = len(report.deleted_names)
        self.stdout.write(f"{verb} {count} unreferenced file{'s' if count != 1 else ''} older than {grace} s.")
