"""``manage.py analyze_photo PHOTO [PHOTO ...]``: the shop-by-photo pipeline, synchronously, one JSON line per photo."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from recommender.services.photo_search import photo_analyze_file


class Command(BaseCommand):
    help = (
        "Run shop by photo on each photo, in this process and without the broker, against the current catalog. "
        "Prints a readable summary, then one JSON line per photo: "
        '{"photo", "garments": [{"slot", "bbox", "pixel_share", "confidence", "similar", "complements"}], '
        '"timings_ms": {"decode", "segment", "embed", "match", "total"}} or {"photo", "error": {"code", "message"}}.'
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("photos", nargs="+", help="Photo files (JPEG, PNG, WebP, ...).")
        parser.add_argument(
            "--keep", action="store_true", help="Keep the searches (and files) instead of deleting them."
        )

    def handle(self, *args, photos: list[str], keep: bool, **options):
        reports = [photo_analyze_file(path=path, keep=keep) for path in photos]
        for report in reports:
            self.stdout.write(_summary(report))
        for report in reports:
            self.stdout.write(json.dumps(report))


def _summary(report: dict) -> str:
    if "error" in report:
        return f"{report['photo']}: {report['error']['code']}: {report['error']['message']}"
    if not report["garments"]:
        found = "no garment found"
    else:
        found = "; ".join(
            f"{g['slot']} {g['pixel_share']:.0%} of the photo (confidence {g['confidence']:.2f}, "
            f"{len(g['similar'])} look-alikes, {len(g['complements'])} go with it)"
            for g in report["garments"]
        )
    return f"{report['photo']}: {found} — {report['timings_ms']['total']} ms"
