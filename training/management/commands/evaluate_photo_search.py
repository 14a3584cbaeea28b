"""``manage.py evaluate_photo_search --ccp DIR``: does shop by photo find the garments the labels say are there?"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from recommender.ml.datasets.ccp import DatasetError
from training.benchmarks.photo_search import evaluate_presence
from training.segmentation.evaluate import SPLITS


class Command(BaseCommand):
    help = (
        "Run analyze_photo's pipeline over CCP photos (default: our fixed validation split) and print per-slot "
        "precision, recall and F1 of garment presence (a slot is present when its labels cover >= 2 % of the "
        "photo) as one JSON line."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--ccp", required=True, help="Folder laid out like ../shared/datasets/ccp")
        parser.add_argument("--split", choices=SPLITS, default="val")
        parser.add_argument("--limit", type=int, default=None, help="Only the first N photos of the split.")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, ccp: str, split: str, limit, no_progress: bool, **options):
        def progress(done: int, total: int) -> None:
            sys.stderr.write(f"\r{done}/{total} photos")
            sys.stderr.flush()

        try:
            result = evaluate_presence(ccp, split=split, limit=limit, progress=None if no_progress else progress)
        except DatasetError as exc:
            raise CommandError(str(exc)) from exc
        if not no_progress:
            sys.stderr.write("\n")
        self.stdout.write(json.dumps(result))
