"""Texture of a garment from its own pixels: how patterned, striped or plain it is.

Computed on the lightness channel at a fixed scale (the garment's box resized to
:data:`TEXTURE_SIDE` on its long side), with the mask eroded so that the border between the
garment and the white fill is never read as an edge.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

TEXTURE_SIDE = 128
ORIENTATION_BINS = 8
TEXTURE_DIM = 6 + ORIENTATION_BINS


def _lightness(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114) / 255.0


def texture_features(crop: Image.Image, mask: np.ndarray | None = None) -> np.ndarray:
    """``TEXTURE_DIM`` float32 numbers: gradient strength (mean, std, share of strong edges), fine and
    coarse lightness variation, pattern anisotropy, and an orientation histogram weighted by strength.

    ``mask`` None: the garment is every pixel that is not near-white fill."""
    rgb = np.asarray(crop.convert("RGB"))
    if mask is None:
        mask = ~(rgb.min(axis=-1) >= 250)
    mask = np.asarray(mask, dtype=bool)
    scale = TEXTURE_SIDE / max(rgb.shape[0], rgb.shape[1])
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    grey = _lightness(np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR), dtype=np.float32))
    small_mask = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)) > 0
    inner = ndimage.binary_erosion(small_mask, iterations=2)
    if inner.sum() < 16:
        inner = small_mask
    if inner.sum() < 4:
        return np.zeros(TEXTURE_DIM, dtype=np.float32)
    gy, gx = np.gradient(grey)
    magnitude = np.hypot(gx, gy)[inner]
    angle = (np.arctan2(gy, gx)[inner] % np.pi) / np.pi
    blurred = ndimage.gaussian_filter(grey, 2.0)
    fine = (grey - blurred)[inner].std()
    coarse = blurred[inner].std()
    orientation = np.bincount(
        np.minimum((angle * ORIENTATION_BINS).astype(np.int64), ORIENTATION_BINS - 1),
        weights=magnitude,
        minlength=ORIENTATION_BINS,
    )
    total = orientation.sum()
    orientation = orientation / total if total > 0 else np.full(ORIENTATION_BINS, 1 / ORIENTATION_BINS)
    anisotropy = float(orientation.max() - orientation.min())
    stats = [magnitude.mean() * 10, magnitude.std() * 10, (magnitude > 0.05).mean(), fine * 10, coarse * 5, anisotropy]
    return np.concatenate([np.asarray(stats), orientation]).astype(np.float32)
