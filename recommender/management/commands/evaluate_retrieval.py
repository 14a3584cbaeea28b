"""``manage.py evaluate_retrieval --gallery DIR --queries DIR [--k 10]``: prints one JSON line last."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recommender import inference
from recommender.ml.embedding.evaluate import evaluate_retrieval
from recommender.ml.weights import WeightsError


class Command(BaseCommand):
    help = (
        "Embed two folder-per-class trees exactly as catalog photos are embedded, run cosine kNN of each query "
        'in the gallery, and print {"queries", "gallery", "k", "top1", "precision_at_k"} as the last line.'
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--gallery", required=True, type=Path)
        parser.add_argument("--queries", required=True, type=Path)
        parser.add_argument("--k", type=int, default=10)

    def handle(self, *args, gallery: Path, queries: Path, k: int, **options):
        for path in (gallery, queries):
            if not path.is_dir():
                raise CommandError(f"{path} is not a folder of class folders.")
        if k < 1:
            raise CommandError("--k must be at least 1.")
        try:
            result = evaluate_retrieval(gallery, queries, k=k, embedder=inference.embedder())
        except WeightsError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result))
