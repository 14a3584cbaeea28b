"""``manage.py audit_complements``: "Complete the look" over the whole catalog, against random picks.

Prints one JSON line: ``{"products", "same_colour_share", "duplicate_pair_share", "with_shoes_share",
"full_share", "random": {the same for random picks from the same slots}}``.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from training.evaluation.audit import complements_audit


class Command(BaseCommand):
    help = (
        "Every top, bottom, outerwear and dress through the product page's selector: the share of suggestions in "
        "a colourful product's own colour, of same-category same-colour pairs, of looks with shoes, and of pages "
        "with at least 4 suggestions; the same for random picks from the same slots."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--k", type=int, default=None, help="Suggestions per product (default: the page's).")
        parser.add_argument("--seed", type=int, default=0, help="Seed of the random picks.")

    def handle(self, *args, k, seed, **options):
        self.stdout.write(json.dumps(complements_audit(k=k, seed=seed)))
