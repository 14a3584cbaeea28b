"""``manage.py complement_panel``: a blind panel of "Complete the look" against a rival, and its tally.

``--out DIR [--n 12] [--seed S] [--rival random|neutral|colour|weights:PATH] [--k 4]`` writes one
PNG sheet per product, ``key.json`` (which row is the shop's: never shown to raters),
``ratings-template.csv`` and ``README.txt``. ``--tally KEY RATINGS.csv [RATINGS.csv ...]`` prints one
JSON line: ``{"sheets", "preferred_shop", "preferred_rival", "equal", "good_shop", "good_rival"}``.
How to run a panel: ``docs/models/PANELS.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from training.evaluation.panel import RIVALS, PanelError, panel_write, rival_parse, tally


class Command(BaseCommand):
    help = (
        "--out DIR: blind sheets comparing each product's complete-the-look row with a rival's row of the same "
        "slots, for human raters (the key goes to DIR/key.json). --tally KEY RATINGS.csv...: the raters' verdict."
    )

    def add_arguments(self, parser) -> None:
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--out", type=Path, help="A new folder for the sheets, the key and the raters' files.")
        action.add_argument(
            "--tally",
            nargs="+",
            type=Path,
            metavar="FILE",
            help="KEY RATINGS.csv [RATINGS.csv ...]: count the answers.",
        )
        parser.add_argument("--n", type=int, default=12, help="Products (sheets): half tops, half bottoms.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--rival", default="random", help=f"What the shop's row is judged against: {'|'.join(RIVALS)}"
        )
        parser.add_argument("--k", type=int, default=4, help="Pieces per row (the shop's first k).")

    def handle(
        self, *args, out: Path | None, tally: list[Path] | None, n: int, seed: int, rival: str, k: int, **options
    ):
        try:
            if tally is not None:
                self._tally(tally)
            else:
                self._write(out, n=n, seed=seed, rival=rival, k=k)
        except PanelError as exc:
            raise CommandError(str(exc)) from exc

    def _tally(self, files: list[Path]) -> None:
        if len(files) < 2:
            raise CommandError("--tally needs the key and at least one ratings file: --tally KEY RATINGS.csv ...")
        key, *ratings = files
        self.stdout.write(json.dumps(tally(key=key, ratings=ratings)))

    def _write(self, out: Path, *, n: int, seed: int, rival: str, k: int) -> None:
        written = panel_write(out=out, n=n, seed=seed, rival=rival_parse(rival), k=k)
        for warning in written.warnings:
            self.stderr.write(f"warning: {warning}")
        self.stdout.write(
            f"Wrote {written.sheets} sheets (rival {rival}, seed {seed}, k {k}) to {written.out}: give raters the "
            "sheet-*.png files, README.txt and ratings-template.csv; keep key.json from them."
        )
