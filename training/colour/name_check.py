"""The colour names of catalog photos, one row per photo, for checking by eye.

The photos are clothing-small validation photos 6–10 (by file name) of each class: 50 photos the
palette was never fitted on. Each goes through the served path: the catalog mask
(``blend``: the U-Net through rembg, the frame's background model, the colour-model refinement)
and :func:`recommender.ml.colour.look.measure_garment` (exposure gain, Lab clustering, naming).
The table in ``docs/LOOKALIKES.md`` is this command's output with a by-eye verdict per row::

    python -m training.colour.name_check --catalog ../shared/datasets/clothing-small

Masks are cached as PNGs (``--cache-dir``) keyed by the photo's sha256 and the U-Net's weights,
so a change to the naming alone re-runs in seconds. The last line is JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

FIRST, LAST = 5, 10  # photos 6–10 of each class, 0-based slice


def check_paths(catalog_dir: str | Path, *, split: str = "validation") -> list[Path]:
    """The checked photos: 6th to 10th by file name of each class folder, classes by name."""
    root = Path(catalog_dir, split)
    classes = sorted(p for p in root.iterdir() if p.is_dir())
    return [p for c in classes for p in sorted(c.glob("*.jpg"))[FIRST:LAST]]


def _mask(path: Path, image, cache_dir: Path | None) -> np.ndarray:
    from recommender.ml.segmentation.background import remove_background
    from recommender.ml.segmentation.product_mask import mask_png, product_mask, read_mask_png
    from recommender.ml.weights import read_manifest

    cached = None
    if cache_dir is not None:
        key = hashlib.sha256(path.read_bytes()).hexdigest()[:20]
        cached = cache_dir / f"{key}-{read_manifest('unet-ccp')['sha256'][:12]}.png"
        if cached.is_file():
            return read_mask_png(cached)
    alpha = np.asarray(remove_background(image).getchannel("A"))
    mask = product_mask(image, alpha, method="blend")
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(mask_png(mask))
    return mask


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", required=True, help="the clothing-small folder")
    parser.add_argument("--cache-dir", default="var/cache/name_check", help="mask cache ('' for none)")
    args = parser.parse_args(argv)
    from core.images import open_image
    from recommender.ml.colour.look import measure_garment

    cache_dir = Path(args.cache_dir) if args.cache_dir else None
    rows = []
    for index, path in enumerate(check_paths(args.catalog)):
        image = open_image(path)
        mask = _mask(path, image, cache_dir)
        look = measure_garment(image, mask)
        colours = [(c.name, round(100 * c.share)) for c in look.colours]
        text = ", ".join(f"{name} {share} %" for name, share in colours) or "unknown"
        print(f"{index:2d}  {path.parent.name}/{path.name}  mask {mask.mean():.0%}  {text}", flush=True)
        rows.append(
            {"photo": f"{path.parent.name}/{path.name}", "mask_share": round(float(mask.mean()), 4), "colours": colours}
        )
    print(json.dumps({"photos": len(rows), "rows": rows}), flush=True)


if __name__ == "__main__":
    main()
