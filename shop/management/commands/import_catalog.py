"""``manage.py import_catalog PATH``: import a CSV or a folder-per-class image tree."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from shop.errors import ApplicationError
from shop.services.imports import CSV_COLUMNS, CSV_SIZE_COLUMNS, catalog_import, rows_from_path


class Command(BaseCommand):
    help = (
        "Import products from a CSV (columns: "
        + ", ".join(CSV_COLUMNS)
        + "; optional: "
        + ", ".join(CSV_SIZE_COLUMNS)
        + ", one row per size) or from a folder-per-class "
        "image tree such as ../shared/datasets/clothing-small/train (demo products). Re-running updates, "
        "never duplicates; bad rows are reported and skipped."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--limit-per-class", type=int, default=None, help="Folder trees: at most N images per class."
        )
        parser.add_argument(
            "--process-images-now",
            action="store_true",
            help="Make thumbnails here instead of queueing them for the worker.",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, path: Path, limit_per_class, process_images_now: bool, no_progress: bool, **options):
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        try:
            rows = list(rows_from_path(path, limit_per_class=limit_per_class))
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        report = catalog_import(
            rows=rows,
            process_images_now=process_images_now,
            progress=lambda products: tqdm(
                products, desc="Importing", unit="product", disable=no_progress, file=self.stderr._out
            ),
        )
        for where, message in report.errors:
            self.stderr.write(f"  skipped {where}: {message}")
        summary = (
            f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
            f"{len(report.errors)} skipped"
        )
        self.stdout.write(self.style.SUCCESS(summary) if not report.errors else self.style.WARNING(summary))
