"""``manage.py benchmark_similar_items``: latency and quality of ``similar_products`` on the live catalog.

In the same run, for the same random products, it times and scores two rankings:

* ``look`` — what serves: ``similar_products`` (look vector, category first, slot fallback), first call
  (cache cold) and again (warm);
* ``embedding`` — the plain embedding within the slot (the ranking served before look-alikes): the
  product's vector, then ``products_near_vector`` (no cache: compare it with the cold figure).

Quality on the live catalog: category purity (share of similar items in the product's category) and
colour agreement (share whose main colour lies within ΔE2000 < 20 of the product's, on the stored colours).
"""

from __future__ import annotations

import json
import random
import time

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from recommender.ml.colour.lab import delta_e_2000
from recommender.models import GarmentVector
from recommender.selectors.cached import similar_products
from recommender.selectors.indexing import current_version
from recommender.selectors.similar import VectorQuery, _indexed_vector, products_near_vector
from recommender.services.indexing import vectors_changed
from shop.models import Product


def _quality(pairs: list[tuple[Product, list[Product]]]) -> dict[str, float]:
    same_category = agree = total = coloured = 0
    for product, items in pairs:
        for item in items:
            total += 1
            same_category += item.category_id == product.category_id
            if product.colours and item.colours:
                coloured += 1
                distance = delta_e_2000(np.array(product.colours[0]["lab"]), np.array(item.colours[0]["lab"]))
                agree += bool(distance < 20)
    return {
        "category_purity": round(same_category / total, 4) if total else 0.0,
        "colour_agreement": round(agree / coloured, 4) if coloured else 0.0,
    }


class Command(BaseCommand):
    help = (
        "Time and score similar_products (look ranking, category first; cache cold and warm) against the plain "
        "embedding ranking within the slot, for the same random indexed products, in one run."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--products", type=int, default=200)
        parser.add_argument("--k", type=int, default=8)

    def handle(self, *args, products: int, k: int, **options):
        version = current_version()
        rows = {
            row.product_id: row
            for row in GarmentVector.objects.filter(status=GarmentVector.Status.INDEXED, model_version=version or "")
        }
        if not rows:
            raise CommandError("No indexed products: run `manage.py seed_demo` and `manage.py reindex` first.")
        sample = Product.objects.in_bulk(random.Random(0).sample(sorted(rows), min(products, len(rows))))
        vectors_changed()  # a new generation: every ranking is recomputed
        timings: dict[str, list[float]] = {"look_cold": [], "look_warm": [], "embedding": []}
        results: dict[str, list] = {"look": [], "embedding": []}
        for phase in ("look_cold", "look_warm", "embedding"):
            for product in sample.values():
                started = time.perf_counter()
                if phase == "embedding":  # as served before: version, the product's vector, slot ANN, filters
                    row = _indexed_vector(product, current_version())
                    query = VectorQuery(
                        embedding=row.embedding, slot=row.slot, model_version=version, exclude_product_id=product.pk
                    )
                    items = products_near_vector(query=query, k=k)
                else:
                    items = similar_products(product=product, k=k)
                timings[phase].append((time.perf_counter() - started) * 1000)
                if phase != "look_warm":
                    results[phase.split("_")[0]].append((product, items))
        line: dict[str, object] = {"products": len(sample), "k": k}
        for phase, values in timings.items():
            line[f"{phase}_p50_ms"] = round(float(np.percentile(values, 50)), 2)
            line[f"{phase}_p99_ms"] = round(float(np.percentile(values, 99)), 2)
        line["latency_ratio_p50"] = round(line["look_cold_p50_ms"] / max(line["embedding_p50_ms"], 1e-9), 3)
        for ranking, pairs in results.items():
            line[ranking] = {"mean_results": round(float(np.mean([len(i) for _, i in pairs])), 2)} | _quality(pairs)
        self.stdout.write(json.dumps(line))
