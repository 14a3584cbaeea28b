"""Tune the look vector's weights on the validation split and write ``look_weights.json``.

::

    python -m training.colour.tune --gallery runs/gallery-40 \
        --catalog-queries ../shared/datasets/clothing-small/validation --street-queries runs/street-val \
        --cache-dir var/cache/retrieval [--write]

Both protocols (catalog → catalog and street → shop) are measured for every weight pair on a
grid; the chosen pair maximises the smaller of the two colour agreements among the pairs whose
category P@10 drops by at most :data:`MAX_P10_DROP` against the plain embedding on both. The
garment looks are measured once per tree (cached), so the grid itself takes seconds.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from recommender.ml.colour.look import FEATURES_VERSION, WEIGHTS_PATH, LookWeights

#: Half the 0.02 that the look ranking may cost in category P@10: a margin for unseen photos.
MAX_P10_DROP = 0.01
COLOUR_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0)
PATTERN_GRID = (0.0, 0.05, 0.1, 0.2)


def tune(protocols: dict, *, k: int = 10) -> dict:
    """``protocols``: name → (gallery TreeLooks, queries TreeLooks). Returns the grid and the choice."""
    from training.embedding.evaluate import score_rankings

    baseline = {
        name: score_rankings(g, q, k=k, same=False, ranking="embedding", weights=LookWeights())
        for name, (g, q) in protocols.items()
    }
    grid = []
    for colour in COLOUR_GRID:
        for pattern in PATTERN_GRID:
            weights = LookWeights(shape=1.0, colour=colour, pattern=pattern)
            scores = {
                name: score_rankings(g, q, k=k, same=False, ranking="look", weights=weights)
                for name, (g, q) in protocols.items()
            }
            drop = max(baseline[n]["precision_at_k"] - scores[n]["precision_at_k"] for n in protocols)
            grid.append(
                {
                    "weights": asdict(weights),
                    "p10_drop": round(drop, 4),
                    **{
                        f"{n}_{m}": round(float(scores[n][m]), 4)
                        for n in protocols
                        for m in ("precision_at_k", "colour_agreement", "top1")
                    },
                }
            )
    allowed = [row for row in grid if row["p10_drop"] <= MAX_P10_DROP]
    best = max(allowed, key=lambda row: (min(row[f"{n}_colour_agreement"] for n in protocols), -row["p10_drop"]))
    return {
        "baseline": {
            n: {m: round(float(baseline[n][m]), 4) for m in ("top1", "precision_at_k", "colour_agreement")}
            for n in protocols
        },
        "chosen": best,
        "grid": grid,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gallery", required=True)
    parser.add_argument("--catalog-queries", required=True)
    parser.add_argument("--street-queries", required=True)
    parser.add_argument("--cache-dir", default="var/cache/retrieval")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--write", action="store_true", help=f"write the chosen weights to {WEIGHTS_PATH.name}")
    args = parser.parse_args(argv)
    from PIL import Image

    from recommender.ml.embedding.inference import Embedder
    from recommender.ml.segmentation.background import remove_background
    from recommender.ml.segmentation.product_mask import product_mask
    from training.embedding.evaluate import measure_tree

    def mask_fn(image: Image.Image) -> np.ndarray:
        return product_mask(image, np.asarray(remove_background(image).getchannel("A")))

    embedder = Embedder.load()
    options = {"mask_fn": mask_fn, "cache_dir": args.cache_dir, "cache_key": "product_garment_mask:blend"}
    gallery = measure_tree(args.gallery, embedder, progress=True, **options)
    protocols = {
        "catalog": (gallery, measure_tree(args.catalog_queries, embedder, progress=True, **options)),
        "street": (gallery, measure_tree(args.street_queries, embedder, progress=True, **options)),
    }
    result = tune(protocols, k=args.k)
    chosen = result["chosen"]
    if args.write:
        WEIGHTS_PATH.write_text(
            json.dumps(
                {
                    "weights": chosen["weights"],
                    "features_version": FEATURES_VERSION,
                    "embedder_version": embedder.version,
                    "tuned_on": {
                        "gallery": str(args.gallery),
                        "catalog_queries": str(args.catalog_queries),
                        "street_queries": str(args.street_queries),
                        "k": args.k,
                        "rule": f"max of min colour agreement with P@{args.k} drop <= {MAX_P10_DROP} on both",
                    },
                    "baseline_embedding": result["baseline"],
                    "look": {key: value for key, value in chosen.items() if key != "weights"},
                    "command": "python -m training.colour.tune "
                    f"--gallery {args.gallery} --catalog-queries {args.catalog_queries} "
                    f"--street-queries {args.street_queries} --write",
                },
                indent=2,
            )
            + "\n"
        )
    Path(args.cache_dir).mkdir(parents=True, exist_ok=True)
    (Path(args.cache_dir) / "tuning-grid.json").write_text(json.dumps(result, indent=1))
    print(json.dumps({"baseline": result["baseline"], "chosen": chosen}), flush=True)


if __name__ == "__main__":
    main()
