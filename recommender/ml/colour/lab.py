"""A garment's own pixels in CIELAB, and the exposure correction of dim catalog photos.

The conversions and CIEDE2000 live in :mod:`core.colour.lab` (re-exported here).

Colour is always read from a garment's own pixels (its mask), never from the whole photo:
floors, walls and skin are not the garment's colour.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.colour.lab import delta_e_2000, lab_to_rgb, rgb_to_lab

__all__ = [
    "colour_statistics",
    "delta_e_2000",
    "exposed_lab_pixels",
    "exposure_gain",
    "garment_lab_pixels",
    "lab_to_rgb",
    "rgb_to_lab",
]


def garment_lab_pixels(image: Image.Image, mask: np.ndarray | None = None, *, max_pixels: int = 20_000) -> np.ndarray:
    """The garment's pixels as an (N, 3) Lab array, evenly subsampled to at most ``max_pixels``.

    Without a mask (a crop already white-filled around the garment), near-white pixels are
    taken as the fill and left out; a garment that is itself white keeps its pixels when
    nothing else is left."""
    rgb = np.asarray(image.convert("RGB"))
    if mask is None:
        mask = ~(rgb.min(axis=-1) >= 250)
        if mask.mean() < 0.01:
            mask = np.ones(rgb.shape[:2], dtype=bool)
    pixels = rgb[np.asarray(mask, dtype=bool)]
    if len(pixels) > max_pixels:
        pixels = pixels[np.linspace(0, len(pixels) - 1, max_pixels).astype(np.int64)]
    return rgb_to_lab(pixels)


#: Catalog photos taken indoors are often under-exposed: a white shirt measures light grey.
#: :func:`exposure_gain` brightens such a photo so its brightest pixels reach this level.
WHITE_LEVEL = 245.0
MAX_EXPOSURE_GAIN = 1.35


def exposure_gain(image: Image.Image) -> float:
    """One brightness gain (≥ 1, at most :data:`MAX_EXPOSURE_GAIN`) that brings the photo's bright end
    (the 99th percentile of max(R, G, B)) to :data:`WHITE_LEVEL`. Never darkens, never shifts hue."""
    small = image.convert("RGB")
    small.thumbnail((160, 160))
    bright = float(np.percentile(np.asarray(small).max(axis=-1), 99))
    return float(np.clip(WHITE_LEVEL / max(bright, 1.0), 1.0, MAX_EXPOSURE_GAIN))


def exposed_lab_pixels(image: Image.Image, mask: np.ndarray | None = None, *, max_pixels: int = 20_000) -> np.ndarray:
    """:func:`garment_lab_pixels` after :func:`exposure_gain`: the garment as it would look in a
    well-exposed photo (a white-filled crop keeps gain 1: its fill is already white)."""
    gain = exposure_gain(image)
    pixels = lab_to_rgb(garment_lab_pixels(image, mask, max_pixels=max_pixels)).astype(np.float64)
    return rgb_to_lab(np.clip(pixels * gain, 0, 255))


def colour_statistics(crop: Image.Image, mask: np.ndarray | None) -> dict:
    """CIELAB statistics of the garment's own pixels (never the background)."""
    lab = garment_lab_pixels(crop, mask)
    if len(lab) == 0:
        return {}
    return {
        "lab_mean": [round(float(v), 2) for v in lab.mean(axis=0)],
        "lab_std": [round(float(v), 2) for v in lab.std(axis=0)],
        "pixels": int(len(lab)),
    }
