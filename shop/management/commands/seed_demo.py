"""``manage.py seed_demo``: a demo shop built from the clothing-small photos.

Everything it makes is demo data: real photos (CC0), names from the class and the
measured colour, made-up brands, prices and stock. It also makes a curator account
``admin`` / ``admin`` unless one exists, for local use only.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from shop.models import User

DEFAULT_SOURCE = Path(settings.BASE_DIR).parent / "shared" / "datasets" / "clothing-small" / "train"


class Command(BaseCommand):
    help = "Seed a demo catalog from clothing-small (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
        parser.add_argument("--limit-per-class", type=int, default=60)
        parser.add_argument("--no-admin", action="store_true")

    def handle(self, *args, source: Path, limit_per_class: int, no_admin: bool, **options):
        if not source.is_dir():
            raise CommandError(f"{source} is not a folder; pass --source DIR (a folder-per-class image tree).")
        # The curator account first: the shop is open while the catalog is being stocked (make run).
        if not no_admin and not settings.DEBUG:
            self.stdout.write("Not creating the demo admin account outside DEBUG.")
        elif not no_admin and not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", "admin")
            self.stdout.write("Curator account for local use: admin / admin  (http://127.0.0.1:8000/admin/)")
        call_command("import_catalog", str(source), limit_per_class=limit_per_class, process_images_now=True)
