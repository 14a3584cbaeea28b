"""Is the street-trained U-Net usable on flat catalog photos? A label-free sanity check.

    python -m training.segmentation.catalog_check --catalog ../shared/datasets/clothing-small

clothing-small has no masks, only a garment class per photo, so this measures what can
be measured without them, on the first ``--per-class`` validation photos of each class
that maps to a coarse garment (t-shirt/shirt/longsleeve/outwear → top; pants/shorts/skirt
→ bottom; dress → dress):

* ``found``: share of photos where the segmenter reports at least one garment;
* ``kind_agrees``: share where its largest garment has the photo's coarse class;
* ``foreground_share``: mean alpha of ``remove_background`` (1 = whole photo kept);
* ``centre_kept`` / ``border_kept``: mean alpha in the central 30 % box / the outer 5 % frame —
  a product photo's garment is centred, its floor or wall is at the border.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
from tqdm import tqdm

from core.images import open_image
from recommender.ml.segmentation.background import active_background_model, remove_background
from recommender.ml.segmentation.inference import Segmenter

CATALOG_TO_COARSE: dict[str, str] = {
    "t-shirt": "top",
    "shirt": "top",
    "longsleeve": "top",
    "outwear": "top",
    "pants": "bottom",
    "shorts": "bottom",
    "skirt": "bottom",
    "dress": "dress",
}


def alpha_regions(alpha: np.ndarray) -> tuple[float, float, float]:
    """Mean alpha overall, in the central box (30 % of each side) and in the 5 % border frame."""
    height, width = alpha.shape
    centre = alpha[int(height * 0.35) : int(height * 0.65), int(width * 0.35) : int(width * 0.65)]
    border = np.ones_like(alpha, dtype=bool)
    border[int(height * 0.05) : int(height * 0.95), int(width * 0.05) : int(width * 0.95)] = False
    return float(alpha.mean()), float(centre.mean()), float(alpha[border].mean())


def catalog_check(
    catalog_dir: str | os.PathLike,
    segmenter: Segmenter,
    *,
    per_class: int = 10,
    progress: bool = True,
    weights_dir: str | os.PathLike | None = None,
) -> dict:
    """The shares above; ``weights_dir`` selects the weights behind the rembg model too."""
    photos = [
        (path, coarse)
        for name, coarse in CATALOG_TO_COARSE.items()
        for path in sorted((Path(catalog_dir) / "validation" / name).glob("*.jpg"))[:per_class]
    ]
    found = agrees = 0
    shares, centres, borders = [], [], []
    for path, coarse in tqdm(photos, desc="catalog", disable=not progress, mininterval=5):
        image = open_image(path)
        garments = segmenter.segment([image])[0].garments
        found += bool(garments)
        agrees += bool(garments) and garments[0].kind == coarse
        alpha = np.asarray(remove_background(image, weights_dir=weights_dir))[..., 3] / 255.0
        share, centre, border = alpha_regions(alpha)
        shares.append(share)
        centres.append(centre)
        borders.append(border)
    count = len(photos)
    return {
        "images": count,
        "background_model": active_background_model(weights_dir=weights_dir)["name"],
        "found": round(found / count, 3),
        "kind_agrees": round(agrees / count, 3),
        "foreground_share": round(float(np.mean(shares)), 3),
        "centre_kept": round(float(np.mean(centres)), 3),
        "border_kept": round(float(np.mean(borders)), 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.segmentation.catalog_check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--catalog", required=True, help="clothing-small folder (validation/<class>/*.jpg)")
    parser.add_argument("--per-class", type=int, default=10)
    parser.add_argument("--device", default=None)
    parser.add_argument("--weights-dir", default=None, help="default: the shipped recommender/ml/weights")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    segmenter = Segmenter.load(args.device, directory=args.weights_dir)
    result = catalog_check(
        args.catalog,
        segmenter,
        per_class=args.per_class,
        progress=not args.no_progress,
        weights_dir=args.weights_dir,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
