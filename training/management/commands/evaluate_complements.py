"""``manage.py evaluate_complements --ccp DIR``: fill-in-the-blank accuracy of complete-the-look.

Prints a table of every method on the same questions, then one JSON line last:
``{"questions", "fitb", "top_to_bottom", "bottom_to_top", "method", "protocol"}`` for ``--method``,
with ``"query_match"`` ("look" | "embedding") added for the catalog-query protocol. Before it, a
warning line when the colour method is below 0.30 on catalog questions (the protocol then cannot
tell methods apart).
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from recommender import inference
from recommender.ml.datasets.ccp import DatasetError
from training.complement.evaluate import (
    METHODS,
    QUERY_MATCHES,
    evaluate_ccp,
    json_line,
    protocol_warning,
    summary_lines,
)


class Command(BaseCommand):
    help = (
        "For every photo of a CCP-format folder with a top and a bottom, ask for each garment's partner among "
        "--candidates (the partner and garments of its slot from other photos, drawn with --seed), both ways. "
        "--query-gallery replaces each question garment by its nearest catalog item (leakage-free), "
        "nearest by --query-match: look (category, colour and pattern; default) or embedding (category only)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--ccp", required=True, help="Folder laid out like ../shared/datasets/ccp")
        parser.add_argument("--candidates", type=int, default=4)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--method", choices=METHODS, default="model", help="The method the JSON line reports.")
        parser.add_argument("--query-gallery", default=None, help="A folder-per-class catalog (clothing-small/train).")
        parser.add_argument(
            "--query-match",
            choices=QUERY_MATCHES,
            default="look",
            help="With --query-gallery: replace each question garment by the catalog item that looks like it "
            "(the shop's look vector: embedding, colour, pattern; default) or by the nearest embedding alone.",
        )
        parser.add_argument(
            "--split", choices=("all", "train", "val"), default="all", help="Every photo (default) or our fixed split."
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, ccp, candidates, seed, method, query_gallery, query_match, split, no_progress, **options):
        if candidates < 2:
            raise CommandError("--candidates must be at least 2")
        try:
            model = inference.complement_model() if method == "model" else _optional_model()
            embedder = inference.embedder()
            result = evaluate_ccp(
                ccp,
                embedder=embedder,
                model=model,
                segmenter=inference.segmenter() if query_gallery else None,
                split=split,
                candidates=candidates,
                seed=seed,
                query_gallery=query_gallery,
                query_match=query_match,
                progress=not no_progress,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        except (DatasetError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if model is not None and model.embedder_sha256 != embedder.version:
            self.stdout.write(
                f"warning: the complement model expects embedder {model.embedder_sha256[:12]}, "
                f"the embedder in service is {embedder.version[:12]}"
            )
        for line in summary_lines(result):
            self.stdout.write(line)
        warning = protocol_warning(result)
        if warning:
            self.stdout.write(warning)
        self.stdout.write(json.dumps(json_line(result, method)))


def _optional_model():
    """The model for the comparison table; the baselines still run when it is unavailable."""
    try:
        return inference.complement_model()
    except ApplicationError:
        return None
