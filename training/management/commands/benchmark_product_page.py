"""``manage.py benchmark_product_page``: product page latency under concurrent clients; one JSON line last."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from recommender.models import ComplementVector, GarmentVector
from recommender.services.indexing import catalog_changed, vectors_changed
from training.benchmarks.product_page import run


def _vectors_rewritten(slug: str) -> None:
    """Write one product's garment and complement vectors again, unchanged: what the triggers see of a
    re-indexing (every cached ranking then has one product to merge)."""
    now = timezone.now()
    GarmentVector.objects.filter(product__slug=slug).update(updated_at=now)
    ComplementVector.objects.filter(product__slug=slug).update(updated_at=now)


class Command(BaseCommand):
    help = "Serve the shop with gunicorn and request product pages (both sections) from N concurrent clients."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--clients", type=int, default=8)
        parser.add_argument("--requests", type=int, default=800)
        parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
        parser.add_argument(
            "--cache",
            choices=["cold", "warm", "after-write", "after-index"],
            default="cold",
            help="cold: nothing cached (as after re-indexing); warm: every page visited once first; "
            "after-write: every page visited once, then one catalog write (as after a curator's edit); "
            "after-index: every page visited once, then one product's vectors written again (as after "
            "indexing a new or re-photographed product)",
        )

    def handle(self, *args, clients: int, requests: int, workers: int, cache: str, **options):
        slugs = list(ComplementVector.objects.filter(product__is_active=True).values_list("product__slug", flat=True))
        if not slugs:
            raise CommandError("No product has complement vectors: run `manage.py seed_demo` and `manage.py reindex`.")
        vectors_changed()  # a new generation: nothing cached from an earlier run is reachable
        result = run(
            [f"/products/{slug}/" for slug in slugs],
            clients=clients,
            requests=requests,
            workers=workers,
            cache=cache,
            after_warm_up={"after-write": catalog_changed, "after-index": lambda: _vectors_rewritten(slugs[0])}.get(
                cache
            ),
        )
        self.stderr.write(
            f"{result.cache} cache, {result.requests} pages from {result.clients} clients, {result.server_workers} server processes: "
            f"p50 {result.p50_ms} ms, p95 {result.p95_ms} ms, p99 {result.p99_ms} ms, "
            f"{result.requests_per_s} pages/s, {result.errors} errors"
        )
        self.stdout.write(json.dumps(result.__dict__))
