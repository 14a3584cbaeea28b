"""``manage.py reindex``: embed every product whose vector is missing or stale, in batches."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from recommender import inference
from recommender.inference import WeightsError
from recommender.selectors.indexing import products_needing_vectors
from recommender.services.indexing import products_embed
from recommender.tasks import embed_products


class Command(BaseCommand):
    help = (
        "Embed products whose garment vector is missing, failed, or stale (another model version, "
        "photo or slot). Runs here in batches, or with --queue hands the batches to the workers."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=8)
        parser.add_argument("--queue", action="store_true", help="Queue batches for the Celery workers.")
        parser.add_argument("--skip-failed", action="store_true", help="Leave products that failed before.")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, batch_size: int, queue: bool, skip_failed: bool, no_progress: bool, **options):
        try:
            version = inference.current_model_version()
        except WeightsError as exc:
            raise CommandError(str(exc)) from exc
        ids = list(
            products_needing_vectors(version=version, include_failed=not skip_failed).values_list("pk", flat=True)
        )
        self.stdout.write(f"{len(ids)} products need vectors (model {version[:12]}).")
        batches = [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]
        totals = {"indexed": 0, "failed": 0}
        bar = tqdm(total=len(ids), unit="product", desc="Indexing", disable=no_progress, file=self.stderr._out)
        for batch in batches:
            if queue:
                embed_products.delay(batch)
            else:
                result = products_embed(product_ids=batch)
                for key in totals:
                    totals[key] += result[key]
            bar.update(len(batch))
        bar.close()
        if queue:
            self.stdout.write(self.style.SUCCESS(f"Queued {len(batches)} batches."))
        else:
            self.stdout.write(self.style.SUCCESS(f"{totals['indexed']} indexed, {totals['failed']} failed."))
