"""Is a garment plain, striped, checked or printed? Measured on its own pixels (its mask).

The garment's lightness is band-passed (fine detail minus folds and shading) inside the
eroded mask, so edges and the background never count:

* too little band-pass energy, and one colour holding most of the garment → ``plain``;
* otherwise the gradient orientations (magnitude-weighted, modulo 180°) decide: one narrow
  direction holding most of the energy → ``striped``; two directions about 90° apart →
  ``checked``; anything else (florals, graphics, logos) → ``printed``.

``None`` when the garment is too small to tell. :func:`pattern_features` is the pattern part of
the look-alike vector (a one-hot over :data:`PATTERNS`; zeros when unknown).
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from recommender.ml.colour.lab import rgb_to_lab

PATTERNS: tuple[str, ...] = ("plain", "striped", "checked", "printed")
WORK_SIDE = 160
MIN_PIXELS = 400
#: Mean absolute band-pass lightness (L units) under which a one-colour garment is plain.
PLAIN_ENERGY = 2.2
#: Share of the main colour above which a low-energy garment is plain.
PLAIN_MAIN_SHARE = 0.75
STRIPE_DOMINANCE = 0.5
CHECK_DOMINANCE = 0.3


def garment_pattern(image: Image.Image, mask: np.ndarray, *, main_share: float = 1.0) -> str | None:
    """One of :data:`PATTERNS`, or None when the garment is too small to measure.

    ``main_share`` is the share of the garment's main colour (from the palette naming)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.sum() < MIN_PIXELS:
        return None
    ys, xs = np.nonzero(mask)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    crop = image.convert("RGB").crop(box)
    scale = WORK_SIDE / max(crop.size)
    size = (max(8, int(crop.width * scale)), max(8, int(crop.height * scale)))
    lightness = rgb_to_lab(np.asarray(crop.resize(size, Image.Resampling.BILINEAR)))[..., 0].astype(np.float64)
    small_mask = np.asarray(
        Image.fromarray(mask[box[1] : box[3], box[0] : box[2]]).resize(size, Image.Resampling.NEAREST), dtype=bool
    )
    inner = ndimage.binary_erosion(small_mask, iterations=4)
    if inner.sum() < MIN_PIXELS // 4:
        return None
    band = ndimage.gaussian_filter(lightness, 0.8) - ndimage.gaussian_filter(lightness, 4.0)
    energy = float(np.abs(band[inner]).mean())
    if energy < PLAIN_ENERGY and main_share >= PLAIN_MAIN_SHARE:
        return "plain"
    gy, gx = np.gradient(ndimage.gaussian_filter(lightness, 1.0))
    magnitude = np.hypot(gx, gy)[inner]
    angle = (np.degrees(np.arctan2(gy, gx))[inner]) % 180.0
    histogram, _ = np.histogram(angle, bins=18, range=(0, 180), weights=magnitude)
    total = histogram.sum()
    if total <= 0:
        return "plain"
    share = histogram / total
    windowed = share + np.roll(share, 1) + np.roll(share, -1)  # 30° windows
    first = int(windowed.argmax())
    if windowed[first] >= STRIPE_DOMINANCE:
        return "striped"
    orthogonal = windowed[(first + 9) % 18]
    if windowed[first] >= CHECK_DOMINANCE and orthogonal >= CHECK_DOMINANCE * 0.8:
        return "checked"
    if energy < PLAIN_ENERGY:
        return "plain"
    return "printed"


def pattern_features(pattern: str | None) -> np.ndarray:
    features = np.zeros(len(PATTERNS), dtype=np.float32)
    if pattern in PATTERNS:
        features[PATTERNS.index(pattern)] = 1.0
    return features
