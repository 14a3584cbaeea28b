"""``manage.py benchmark_similar_items``: latency of ``similar_products`` on the live catalog, cold and warm cache."""

from __future__ import annotations

import json
import random
import time

import numpy as np
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError

from recommender.models import GarmentVector
from recommender.selectors.similar import similar_products
from recommender.services.indexing import VECTORS_GENERATION_KEY
from shop.models import Product


class Command(BaseCommand):
    help = "Time similar_products for random indexed products: first call (cache cold), then again (warm)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--products", type=int, default=200)
        parser.add_argument("--k", type=int, default=8)

    def handle(self, *args, products: int, k: int, **options):
        ids = list(
            GarmentVector.objects.filter(status=GarmentVector.Status.INDEXED).values_list("product_id", flat=True)
        )
        if not ids:
            raise CommandError("No indexed products: run `manage.py seed_demo` and `manage.py reindex` first.")
        sample = Product.objects.in_bulk(random.Random(0).sample(ids, min(products, len(ids))))
        cache.delete(VECTORS_GENERATION_KEY)  # a new generation: every ranking is recomputed
        timings: dict[str, list[float]] = {"cold": [], "warm": []}
        sizes = []
        for phase in ("cold", "warm"):
            for product in sample.values():
                started = time.perf_counter()
                sizes.append(len(similar_products(product=product, k=k)))
                timings[phase].append((time.perf_counter() - started) * 1000)
        line = {"products": len(sample), "k": k, "mean_results": round(float(np.mean(sizes)), 2)}
        for phase, values in timings.items():
            line[f"{phase}_p50_ms"] = round(float(np.percentile(values, 50)), 2)
            line[f"{phase}_p99_ms"] = round(float(np.percentile(values, 99)), 2)
        self.stdout.write(json.dumps(line))
