"""A garment the customer boxed by hand: its pixels inside the box, white-filled like a segmented one.

A hand-drawn box holds the garment and, around it, whatever else was in the way (the street, skin,
other clothes). The box's own frame is mostly that background, so the background model read from
the frame (``product_mask``'s ``border`` method) separates the garment:
its colour and look are then measured on the garment alone, and its crop looks like the crops the
segmenter cuts. A box drawn tight around the garment has no background frame to read; it is kept
whole.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from recommender.ml.segmentation.product_mask import product_mask

#: A garment mask covering less than this share of the box is not trusted: the whole box is kept.
MIN_BOX_SHARE = 0.15
WHITE = (255, 255, 255)


def box_garment(crop: Image.Image) -> tuple[Image.Image, np.ndarray]:
    """The box's crop white-filled outside the garment, and the garment's mask (crop-sized bool)."""
    crop = crop.convert("RGB")
    mask = product_mask(crop, None, method="border")
    if mask.mean() < MIN_BOX_SHARE:
        return crop, np.ones((crop.height, crop.width), dtype=bool)
    pixels = np.asarray(crop).copy()
    pixels[~mask] = WHITE
    return Image.fromarray(pixels), mask
