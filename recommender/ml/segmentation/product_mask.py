"""Foreground masks of catalog product photos: one garment, flat or hanging, on a floor, bed or wall.

Three ways are offered and measured (``python -m recommender.ml.segmentation.product_mask``):

* ``unet``: the project's street-trained U-Net through rembg (its alpha ≥ 0.5);
* ``border``: a background model read from the photo itself. The outer frame of a product photo
  is background; its colours are clustered in Lab and every pixel whose ΔE to the nearest
  background colour is large is foreground;
* ``blend`` (served): the mean of the two foreground probabilities (or the one that finds a garment
  when the other finds none), refined by one GrabCut-like step: colour models of the confident
  garment and background pixels re-score every pixel. All three are then cleaned the same way: the connected regions touching the centre or larger than 20 % of the largest are
  kept, holes are filled.

A mask with less than :data:`MIN_FOREGROUND` of the photo is no mask: the photo is all
background (or blank) and the caller must say so, never guess a colour.

The measurement pastes real CCP garments, cut out with their true masks, on catalog-like
backgrounds (the border strips of clothing-small photos, stretched to a full frame) and scores
each method's mask IoU against the true mask.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from recommender.ml.colour.lab import rgb_to_lab

#: Side of the square the background model works at (masks are resized back to the photo).
WORK_SIZE = 160
BORDER = 0.06
MIN_FOREGROUND = 0.01
#: Below this share of the photo, a method has found no garment.
NOTHING_FOUND = 0.03
METHODS = ("unet", "border", "blend")


def _work_lab(image: Image.Image) -> np.ndarray:
    small = image.convert("RGB").resize((WORK_SIZE, WORK_SIZE), Image.Resampling.BILINEAR)
    return rgb_to_lab(np.asarray(small)).astype(np.float64)


def _frame(n: int) -> np.ndarray:
    b = max(2, int(n * BORDER))
    frame = np.zeros((n, n), dtype=bool)
    frame[:b], frame[-b:], frame[:, :b], frame[:, -b:] = True, True, True, True
    return frame


def _nearest_distance(flat: np.ndarray, centres: np.ndarray) -> np.ndarray:
    # Weighted Euclidean Lab distance: lightness changes (shadows, folds) count half.
    diff = flat[:, None, :] - centres[None]
    diff[..., 0] *= 0.5
    return np.sqrt((diff**2).sum(-1)).min(axis=1)


def border_foreground_probability(
    image: Image.Image, *, clusters: int = 6, unet_probability: np.ndarray | None = None
) -> np.ndarray:
    """Foreground probability (WORK_SIZE², float) from the distance to the photo frame's colours.

    Frame pixels the U-Net calls garment (a garment that fills the photo) are not background."""
    from recommender.ml.colour.palette import _kmeans

    lab = _work_lab(image)
    n = WORK_SIZE
    frame_mask = _frame(n)
    if unet_probability is not None and (frame_mask & (unet_probability < 0.5)).sum() >= 0.25 * frame_mask.sum():
        frame_mask &= unet_probability < 0.5
    frame = lab[frame_mask]
    centres, labels = _kmeans(frame, clusters)
    # Tiny frame clusters are garment that touches the edge, not background.
    counts = np.bincount(labels, minlength=len(centres))
    centres = centres[counts >= 0.05 * len(frame)]
    distance = _nearest_distance(lab.reshape(-1, 3), centres).reshape(n, n)
    distance = ndimage.uniform_filter(distance, size=3)
    return np.clip((distance - 6.0) / 12.0, 0.0, 1.0)


def refine_with_colour_models(image: Image.Image, probability: np.ndarray, *, clusters: int = 5) -> np.ndarray:
    """One GrabCut-like step: colour models of the confident garment and background pixels, and
    each pixel's probability from its distance to the nearer of the two (smoothed)."""
    from recommender.ml.colour.palette import _kmeans

    lab = _work_lab(image)
    flat = lab.reshape(-1, 3)
    sure_fg = ndimage.binary_erosion(probability > 0.65, iterations=2).reshape(-1)
    sure_bg = ((probability < 0.25) | _frame(WORK_SIZE) & (probability < 0.5)).reshape(-1)
    if sure_fg.sum() < 50 or sure_bg.sum() < 50:
        return probability
    step_f = max(1, int(sure_fg.sum() // 3000))
    step_b = max(1, int(sure_bg.sum() // 3000))
    fg_centres, _ = _kmeans(flat[sure_fg][::step_f], clusters)
    bg_centres, _ = _kmeans(flat[sure_bg][::step_b], clusters)
    d_fg = _nearest_distance(flat, fg_centres)
    d_bg = _nearest_distance(flat, bg_centres)
    colour = (1.0 / (1.0 + np.exp(-(d_bg - d_fg) / 4.0))).reshape(probability.shape)
    return ndimage.uniform_filter(0.5 * colour + 0.5 * probability, size=5)


def _clean(probability: np.ndarray) -> np.ndarray:
    mask = probability >= 0.5
    mask = ndimage.binary_opening(mask, iterations=1)
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    sizes = ndimage.sum(mask, labels, index=np.arange(1, count + 1))
    n = mask.shape[0]
    centre_labels = set(np.unique(labels[int(n * 0.3) : int(n * 0.7), int(n * 0.3) : int(n * 0.7)])) - {0}
    keep = [i + 1 for i, size in enumerate(sizes) if size >= 0.2 * sizes.max() or (i + 1) in centre_labels]
    mask = np.isin(labels, keep)
    return ndimage.binary_fill_holes(mask)


def _resize_probability(probability: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return (
        np.asarray(
            Image.fromarray((np.clip(probability, 0, 1) * 255).astype(np.uint8)).resize(
                size, Image.Resampling.BILINEAR
            ),
            dtype=np.float64,
        )
        / 255.0
    )


def product_mask(image: Image.Image, unet_alpha: np.ndarray | None, *, method: str = "blend") -> np.ndarray:
    """The photo-sized bool foreground mask; all False when no foreground is found.

    ``unet_alpha`` is the U-Net's foreground alpha at the photo's size (0..1 or 0..255); the
    ``border`` method does not need it."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    unet = None
    if method in ("unet", "blend"):
        if unet_alpha is None:
            raise ValueError(f"the {method} method needs the U-Net's alpha")
        alpha = np.asarray(unet_alpha, dtype=np.float64)
        alpha = alpha / 255.0 if alpha.max() > 1.0 else alpha
        unet = _resize_probability(alpha, (WORK_SIZE, WORK_SIZE))
    if method == "unet":
        probability = unet
    elif method == "border":
        probability = border_foreground_probability(image)
    else:
        border = border_foreground_probability(image, unet_probability=unet)
        # When one of the two sees no garment at all, it has failed on this photo: trust the other.
        share = 0.5
        if (unet >= 0.5).mean() < NOTHING_FOUND <= (border >= 0.5).mean():
            share = 0.0
        elif (border >= 0.5).mean() < NOTHING_FOUND <= (unet >= 0.5).mean():
            share = 1.0
        probability = refine_with_colour_models(image, share * unet + (1 - share) * border)
    mask = _clean(probability)
    if mask.mean() < MIN_FOREGROUND:
        return np.zeros((image.height, image.width), dtype=bool)
    return _resize_probability(mask.astype(np.float64), image.size) >= 0.5


def mask_png(mask: np.ndarray) -> bytes:
    """The mask as a 1-bit PNG (what is stored for curators and reused by indexing)."""
    import io

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(mask, dtype=bool)).convert("1").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def read_mask_png(data) -> np.ndarray:
    with Image.open(data) as image:
        return np.asarray(image.convert("L")) >= 128


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
    from recommender.ml.segmentation.catalog_check import alpha_regions

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
    from recommender.ml.segmentation.catalog_check import CATALOG_TO_COARSE, alpha_regions

    paths = [
        p for name in CATALOG_TO_COARSE for p in sorted(Path(catalog_dir, "validation", name).glob("*.jpg"))[:per_class]
    ]
    regions: dict[str, list] = {m: [] for m in METHODS}
    from recommender.ml.images import open_image

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
