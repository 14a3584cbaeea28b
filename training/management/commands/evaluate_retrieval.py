"""``manage.py evaluate_retrieval --gallery DIR --queries DIR [--k 10] [--ranking embedding|look]``:
prints one JSON line last."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recommender import inference
from recommender.ml.weights import WeightsError
from training.embedding.evaluate import RANKINGS, evaluate_retrieval


class Command(BaseCommand):
    help = (
        "Embed two folder-per-class trees exactly as catalog photos are embedded, run cosine kNN of each query "
        'in the gallery, and print {"queries", "gallery", "k", "top1", "precision_at_k"} as the last line.'
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--gallery", required=True, type=Path)
        parser.add_argument("--queries", required=True, type=Path)
        parser.add_argument("--k", type=int, default=10)
        parser.add_argument("--ranking", choices=RANKINGS, default="look")
        parser.add_argument(
            "--no-cache", action="store_true", help="measure every image again instead of reusing var/cache/retrieval"
        )

    def handle(self, *args, gallery: Path, queries: Path, k: int, ranking: str, no_cache: bool, **options):
        for path in (gallery, queries):
            if not path.is_dir():
                raise CommandError(f"{path} is not a folder of class folders.")
        if k < 1:
            raise CommandError("--k must be at least 1.")
        try:
            result = evaluate_retrieval(
                gallery,
                queries,
                k=k,
                embedder=inference.embedder(),
                ranking=ranking,
                mask_fn=inference.product_garment_mask,
                weights=inference.look_weights(),
                cache_dir=None if no_cache else Path(settings.VAR_DIR) / "cache" / "retrieval",
                cache_key="product_garment_mask:blend",
                progress=options.get("verbosity", 1) > 1,
            )
        except WeightsError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result))
