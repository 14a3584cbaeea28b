"""``manage.py evaluate_segmentation --ccp DIR``: IoU of the shipped U-Net; prints one JSON line last."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from recommender.inference import segmenter
from recommender.ml.datasets.ccp import DatasetError
from training.segmentation.evaluate import SPLITS, evaluate_ccp, split_of


class Command(BaseCommand):
    help = (
        "Predict every annotated photo of a CCP-format folder, compare at the annotation's resolution and print "
        '{"images": N, "iou": {...}, "miou": x} as the last line. DIR/coarse_labels.json gives the mapping when present.'
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--ccp", required=True, help="Folder laid out like ../shared/datasets/ccp")
        parser.add_argument("--split", choices=SPLITS, default="all", help="Every photo (default) or our fixed split.")
        parser.add_argument("--batch-size", type=int, default=8)
        parser.add_argument("--device", default=None)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, ccp: str, split: str, batch_size: int, device, no_progress: bool, **options):
        try:
            result = evaluate_ccp(
                ccp, segmenter(device), ids=split_of(ccp, split), progress=not no_progress, batch_size=batch_size
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        except DatasetError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result))
