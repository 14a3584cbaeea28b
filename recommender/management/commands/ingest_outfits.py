"""``manage.py ingest_outfits --ccp DIR [--tagged DIR]``: street outfits into the database, idempotent."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.errors import ApplicationError
from recommender.inference import DatasetError, WeightsError
from recommender.services.outfits import outfits_ingest


class Command(BaseCommand):
    help = (
        "Read street outfit photos into outfit photos and garments: annotated CCP photos (--ccp) cut with their "
        "pixel labels, tagged ones (--tagged) cut by the segmenter and dropped where it disagrees with their tags."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--ccp", help="A folder in the CCP layout with pixel labels (photos/, annotations/).")
        parser.add_argument("--tagged", help="A folder in the ccp-tagged layout (image-level tags).")
        parser.add_argument("--force", action="store_true", help="Redo photos already made by the models in service.")

    def handle(self, *args, ccp=None, tagged=None, force=False, **options):
        if not ccp and not tagged:
            raise CommandError("Give --ccp DIR, --tagged DIR or both.")
        try:
            report = outfits_ingest(
                ccp_dir=ccp,
                tagged_dir=tagged,
                force=force,
                progress=lambda iterable, **kw: tqdm(iterable, file=self.stderr._out, **kw),
            )
        except (DatasetError, WeightsError, ApplicationError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)
