"""``manage.py benchmark_photo_search --ccp DIR``: upload-to-results time of shop by photo, per step."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from recommender.ml.datasets.ccp import DatasetError
from training.benchmarks.photo_search import benchmark_speed, ccp_photos


class Command(BaseCommand):
    help = (
        "Time analyze_photo's pipeline (decode, segment, embed, match; no broker) on N real CCP photos resized to "
        "--side px, with --threads torch threads; prints p50 and p95 per step as one JSON line."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--ccp", required=True)
        parser.add_argument("--n", type=int, default=20)
        parser.add_argument("--side", type=int, default=1024)
        parser.add_argument("--threads", type=int, default=2)
        parser.add_argument("--split", default="val")

    def handle(self, *args, ccp: str, n: int, side: int, threads: int, split: str, **options):
        try:
            photos = [s.photo_path for s in ccp_photos(ccp, split)[:n]]
        except DatasetError as exc:
            raise CommandError(str(exc)) from exc
        with override_settings(RECOMMENDER_TORCH_THREADS=threads):
            result = benchmark_speed(photos, side=side)
        result["threads"] = threads
        self.stdout.write(json.dumps(result))
