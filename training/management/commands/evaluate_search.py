"""``manage.py evaluate_search --queries FILE.csv``: how well search finds what shoppers mean.

Prints one JSON line: hit@8 and precision@8 of the catalog search over the queries (columns
query, categories, colours; '|'-separated lists, empty = any) on the current catalog, with the
scores a random ranking would get."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shop import selectors
from training.search.evaluation import evaluate, read_queries

DEFAULT_QUERIES = Path(__file__).resolve().parents[2] / "search" / "fixtures" / "shopper_queries.csv"


class Command(BaseCommand):
    help = "Measure catalog search against shoppers' queries (one JSON line)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)

    def handle(self, *args, queries: Path, **options):
        try:
            rows = read_queries(queries)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc

        def ranked(q: str) -> list:
            filters = selectors.ProductFilters.from_params({"q": q})
            return list(selectors.product_list(filters=filters)[:50])

        self.stdout.write(json.dumps(evaluate(rows, ranked=ranked)))
