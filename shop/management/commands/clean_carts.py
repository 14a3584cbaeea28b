"""``manage.py clean_carts``: delete expired sessions and empty or orphaned anonymous carts."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand

from shop.services.carts import carts_clean_up


class Command(BaseCommand):
    help = (
        "Delete expired sessions, anonymous carts whose session is gone, and anonymous carts left "
        "empty for more than --empty-hours. Customers' carts are never touched. Celery beat runs it hourly."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--empty-hours", type=float, default=1.0)

    def handle(self, *args, empty_hours: float, **options):
        result = carts_clean_up(empty_older_than=timedelta(hours=empty_hours))
        self.stdout.write(
            f"{result['sessions']} expired sessions, {result['orphaned_carts']} orphaned carts and "
            f"{result['empty_carts']} empty carts deleted."
        )
