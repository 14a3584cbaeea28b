"""``manage.py expire_photo_searches``: delete customers' photo searches past the retention period."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from recommender.services.photo_search import photo_searches_expire


class Command(BaseCommand):
    help = (
        "Delete photo searches (the photo, garment crops and rows) older than PHOTO_SEARCH_RETENTION_DAYS. "
        "Celery beat runs the same service every hour."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=None, help="Override PHOTO_SEARCH_RETENTION_DAYS.")

    def handle(self, *args, days: int | None, **options):
        days = settings.PHOTO_SEARCH_RETENTION_DAYS if days is None else days
        deleted = photo_searches_expire(days=days)
        self.stdout.write(f"Deleted {deleted} photo search{'es' if deleted != 1 else ''} older than {days} days.")
