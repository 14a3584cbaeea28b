"""``manage.py stock_demo``: stock the demo shop while it is already open.

``make run`` starts this in the background right after ``migrate``, so the shop answers at once
and fills up as the work is done: the demo products (``seed_demo``: each one is on sale as soon
as its photo is analysed, and queues its own indexing), then the street outfits behind the
"worn together" reasons (``ingest_outfits``), then it waits until the worker has indexed every
product (``--index here`` indexes in this process instead, for use without a worker). The home
page shows the progress (``shop.demo_stock``). Idempotent: a second run finds the work done and
ends in seconds.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db.models.signals import post_save

from recommender import inference
from recommender.inference import DatasetError, WeightsError
from recommender.selectors.indexing import products_needing_vectors
from recommender.services.indexing import products_embed
from recommender.services.outfits import outfits_ingest
from recommender.tasks import embed_products
from shop.demo_stock import demo_stock_finish, demo_stock_report
from shop.errors import ApplicationError
from shop.models import Product
from shop.services.imports import rows_from_path

DATASETS = Path(settings.BASE_DIR).parent / "shared" / "datasets"
#: How often the progress is written (and, while waiting for the worker, the index is read).
REPORT_SECONDS = 3.0


class Command(BaseCommand):
    help = (
        "Stock the demo shop step by step (products, street outfits, indexing), reporting progress to the home "
        "page. Idempotent; --index here indexes in this process when no worker runs."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", type=Path, default=DATASETS / "clothing-small" / "train")
        parser.add_argument("--limit-per-class", type=int, default=60)
        parser.add_argument("--ccp", type=Path, default=DATASETS / "ccp", help="Street outfits (CCP layout).")
        parser.add_argument("--index", choices=["worker", "here"], default="worker")
        parser.add_argument(
            "--requeue-after",
            type=int,
            default=120,
            help="Waiting for the worker: queue the products still unindexed after this many seconds without "
            "progress (their tasks may have been lost with an earlier broker).",
        )

    def handle(self, *args, source: Path, limit_per_class: int, ccp: Path, index: str, requeue_after: int, **opts):
        started = time.monotonic()
        if not source.is_dir():
            raise CommandError(f"{source} is not a folder; pass --source DIR (a folder-per-class image tree).")
        try:
            version = inference.current_model_version()
        except WeightsError as exc:
            raise CommandError(str(exc)) from exc
        skus = {row.sku for row in rows_from_path(source, limit_per_class=limit_per_class)}
        self.progress = _Progress(skus=skus, version=version)

        self._stock_products(source=source, limit_per_class=limit_per_class)
        self._read_outfits(ccp=ccp)
        if index == "here":
            self._index_here()
        else:
            self._wait_for_worker(requeue_after=requeue_after)
        demo_stock_finish()
        progress = self.progress
        progress.refresh()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo shop stocked in {time.monotonic() - started:.0f} s: {progress.stocked} of {progress.total} "
                f"products, {progress.indexed} indexed."
            )
        )

    def _stock_products(self, *, source: Path, limit_per_class: int) -> None:
        progress = self.progress
        progress.report("products", force=True)

        def product_saved(sender, instance: Product, **kwargs) -> None:
            progress.saw(instance.sku)
            progress.report("products")

        post_save.connect(product_saved, sender=Product, weak=False, dispatch_uid="stock_demo")
        try:
            call_command("seed_demo", source=source, limit_per_class=limit_per_class)
        finally:
            post_save.disconnect(sender=Product, dispatch_uid="stock_demo")

    def _read_outfits(self, *, ccp: Path) -> None:
        if not ccp.is_dir():
            self.stderr.write(f"No street outfits at {ccp}: pairings will lack their 'worn together' reasons.")
            return
        progress = self.progress
        progress.report("outfits", force=True)

        def reporting(iterable, **kwargs):
            for item in iterable:
                progress.report("outfits")
                yield item

        try:
            report = outfits_ingest(ccp_dir=str(ccp), progress=reporting)
        except (DatasetError, WeightsError, ApplicationError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)

    def _index_here(self) -> None:
        progress = self.progress
        ids = list(progress.unindexed().values_list("pk", flat=True))
        for start in range(0, len(ids), settings.RECOMMENDER_TASK_BATCH):
            progress.report("indexing", force=True)
            products_embed(product_ids=ids[start : start + settings.RECOMMENDER_TASK_BATCH])

    def _wait_for_worker(self, *, requeue_after: int) -> None:
        progress = self.progress
        last_count, last_change = None, time.monotonic()
        while True:
            waiting = list(progress.unindexed().values_list("pk", flat=True))
            if not waiting:
                return
            if len(waiting) != last_count:
                last_count, last_change = len(waiting), time.monotonic()
            elif time.monotonic() - last_change > requeue_after:
                self.stderr.write(f"{len(waiting)} products still unindexed; queueing them again.")
                embed_products.delay(waiting)
                last_change = time.monotonic()
            progress.report("indexing", force=True)
            time.sleep(REPORT_SECONDS)


class _Progress:
    """Counts the demo products in the shop and indexed, and writes them for the home page."""

    def __init__(self, *, skus: set[str], version: str) -> None:
        self.skus = skus
        self.version = version
        self.total = len(skus)
        self.seen = set(Product.objects.filter(sku__in=skus).values_list("sku", flat=True))
        self.stocked = len(self.seen)
        self.indexed = 0
        self._reported = 0.0

    def saw(self, sku: str) -> None:
        if sku in self.skus:
            self.seen.add(sku)
            self.stocked = len(self.seen)

    def unindexed(self):
        return products_needing_vectors(version=self.version, include_failed=False).filter(sku__in=self.skus)

    def refresh(self) -> None:
        photographed = Product.objects.filter(sku__in=self.skus).exclude(image="").count()
        self.indexed = photographed - self.unindexed().count()

    def report(self, stage: str, *, force: bool = False) -> None:
        if not force and time.monotonic() - self._reported < REPORT_SECONDS:
            return
        self.refresh()
        demo_stock_report(stage=stage, stocked=self.stocked, indexed=self.indexed, total=self.total)
        self._reported = time.monotonic()
