"""Measures the catalog product masks (``recommender.ml.segmentation.product_mask``) of each method.

``python -m training.segmentation.product_mask_check --ccp DIR --catalog DIR`` pastes real CCP garments,
cut out with their true masks, on catalog-like backgrounds (the border strips of clothing-small
photos, stretched to a full frame) and scores each method's mask IoU against the true mask; it also
reports ``catalog_check``'s label-free figures on real clothing-small validation photos.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from recommender.ml.segmentation.product_mask import METHODS, product_mask

# --- Measurement on synthetic composites --------------------------------------------------------


def catalog_backgrounds(catalog_dir: str | os.PathLike, *, split: str = "validation", limit: int = 60) -> list:
    """Catalog-like backgrounds: the top and bottom border strips of clothing-small photos (floor,
    bed or wall, no garment), each stretched to a 400x530 frame."""
    paths = sorted(Path(catalog_dir, split).glob("*/*.jpg"))
    step = max(1, len(paths) // limit)
    backgrounds = []
    for i, path in enumerate(paths[::step][:limit]):
        with Image.open(path) as photo:
            photo = photo.convert("RGB")
            w, h = photo.size
            strip = photo.crop((0, 0, w, int(h * 0.12))) if i % 2 == 0 else photo.crop((0, int(h * 0.88), w, h))
            backgrounds.append(strip.resize((400, 530), Image.Resampling.BICUBIC))
    return backgrounds


def ccp_composites(ccp_dir: str | os.PathLike, backgrounds: list, *, limit: int | None = None, seed: int = 0):
    """``(image, true_mask)`` pairs: the largest garment of each held-out CCP photo (seed-0 split),
    cut out with its true mask, scaled to 55–80 % of the frame height and pasted near the centre."""
    from recommender.ml.datasets.ccp import list_samples, read_label_mapping, read_sample, split_ids

    mapping = read_label_mapping(ccp_dir)
    samples = {s.id: s for s in list_samples(ccp_dir)}
    _, val_ids = split_ids(list(samples))
    rng = np.random.default_rng(seed)
    out = []
    for index, sample_id in enumerate(val_ids[:limit] if limit else val_ids):
        image, coarse = read_sample(samples[sample_id], mapping)
        garment_classes = [c for c in (1, 2, 3) if (coarse == c).sum() > 2000]
        if not garment_classes:
            continue
        target = max(garment_classes, key=lambda c: (coarse == c).sum())
        mask = coarse == target
        ys, xs = np.nonzero(mask)
        box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        crop = image.crop(box)
        crop_mask = Image.fromarray(mask[box[1] : box[3], box[0] : box[2]])
        background = backgrounds[index % len(backgrounds)].copy()
        scale = rng.uniform(0.55, 0.8) * background.height / crop.height
        size = (max(1, int(crop.width * scale)), max(1, int(crop.height * scale)))
        if size[0] > background.width * 0.9:
            ratio = background.width * 0.9 / size[0]
            size = (int(size[0] * ratio), int(size[1] * ratio))
        crop = crop.resize(size, Image.Resampling.BILINEAR)
        crop_mask = crop_mask.resize(size, Image.Resampling.NEAREST)
        x = int((background.width - size[0]) / 2 + rng.uniform(-0.08, 0.08) * background.width)
        y = int((background.height - size[1]) / 2 + rng.uniform(-0.05, 0.05) * background.height)
        x, y = max(0, min(x, background.width - size[0])), max(0, min(y, background.height - size[1]))
        background.paste(crop, (x, y), crop_mask)
        truth = np.zeros((background.height, background.width), dtype=bool)
        truth[y : y + size[1], x : x + size[0]] = np.asarray(crop_mask, dtype=bool)
        out.append((background, truth))
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def evaluate_masks(
    composites: Sequence[tuple[Image.Image, np.ndarray]], unet_alpha: Callable[[Image.Image], np.ndarray]
) -> dict[str, dict[str, float]]:
    """Mean IoU of each method on the composites, and each method's mean mask share at the photo's
    centre (30 % box) and border (5 % frame), as ``catalog_check`` reports them."""
    from training.segmentation.catalog_check import alpha_regions

    scores: dict[str, list] = {m: [] for m in METHODS}
    for image, truth in composites:
        alpha = unet_alpha(image)
        for method in METHODS:
            scores[method].append(iou(product_mask(image, alpha, method=method), truth))
    return {m: {"mask_iou": round(float(np.mean(v)), 4), "images": len(v)} for m, v in scores.items()} | {
        "truth": dict(
            zip(
                ("foreground_share", "centre_kept", "border_kept"),
                (round(float(x), 4) for x in np.mean([alpha_regions(t.astype(float)) for _, t in composites], axis=0)),
                strict=True,
            )
        )
    }


def catalog_regions(
    catalog_dir: str | os.PathLike, unet_alpha: Callable[[Image.Image], np.ndarray], *, per_class: int = 10
) -> dict[str, dict[str, float]]:
    """``catalog_check``'s label-free figures for each method on real clothing-small validation photos."""
    from training.segmentation.catalog_check import CATALOG_TO_COARSE, alpha_regions

    paths = [
        p for name in CATALOG_TO_COARSE for p in sorted(Path(catalog_dir, "validation", name).glob("*.jpg"))[:per_class]
    ]
    regions: dict[str, list] = {m: [] for m in METHODS}
    from core.images import open_image

    for path in paths:
        image = open_image(path)
        alpha = unet_alpha(image)
        for method in METHODS:
            regions[method].append(alpha_regions(product_mask(image, alpha, method=method).astype(float)))
    return {
        m: dict(
            zip(
                ("foreground_share", "centre_kept", "border_kept"),
                (round(float(x), 4) for x in np.mean(v, axis=0)),
                strict=True,
            )
        )
        | {"images": len(v)}
        for m, v in regions.items()
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ccp", required=True)
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--limit", type=int, default=None, help="held-out CCP photos to composite (default all)")
    parser.add_argument("--per-class", type=int, default=10)
    args = parser.parse_args(argv)
    from recommender.ml.segmentation.background import remove_background

    def unet_alpha(image: Image.Image) -> np.ndarray:
        return np.asarray(remove_background(image))[..., 3]

    composites = ccp_composites(args.ccp, catalog_backgrounds(args.catalog), limit=args.limit)
    result = {
        "composites": evaluate_masks(composites, unet_alpha),
        "catalog": catalog_regions(args.catalog, unet_alpha, per_class=args.per_class),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
