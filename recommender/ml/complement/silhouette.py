"""The garment's silhouette: what its mask looks like inside its own box, as it is worn.

Street photos show a garment on a body: how far the sleeves or legs reach, a cropped or a
long top, a flared skirt or straight trousers. :func:`silhouette_features` reads that from
the mask alone: an :data:`SILHOUETTE_GRID` × :data:`SILHOUETTE_GRID` grid of how much of each
cell the garment covers (the mask letterboxed into its bounding square, so the grid keeps the
garment's proportions), the box's log aspect ratio (height / width) and the share of the box
the garment covers. Every number is scale-free: the photo's resolution is not a cue.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

SILHOUETTE_GRID = 8
SILHOUETTE_DIM = SILHOUETTE_GRID**2 + 2


def garment_mask(crop: Image.Image, mask: np.ndarray | None) -> np.ndarray:
    """``mask`` as booleans; without one (a white-filled crop), the non-white pixels with their holes
    filled (a white print inside a garment is still the garment), or the whole crop when nothing is left."""
    if mask is not None:
        return np.asarray(mask, dtype=bool)
    rgb = np.asarray(crop.convert("RGB"))
    found = ndimage.binary_fill_holes(rgb.min(axis=-1) < 250)
    return found if found.mean() >= 0.01 else np.ones(rgb.shape[:2], dtype=bool)


def silhouette_features(crop: Image.Image, mask: np.ndarray | None = None) -> np.ndarray:
    """``SILHOUETTE_DIM`` float32 numbers: the coverage grid (row by row, top first), log(height / width)
    of the garment's box, and the share of the box it covers."""
    garment = garment_mask(crop, mask)
    rows, cols = np.nonzero(garment)
    if len(rows) == 0:
        return np.zeros(SILHOUETTE_DIM, dtype=np.float32)
    box = garment[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    height, width = box.shape
    side = max(height, width)
    square = Image.new("L", (side, side), 0)
    square.paste(Image.fromarray(box.astype(np.uint8) * 255), ((side - width) // 2, (side - height) // 2))
    grid = np.asarray(square.resize((SILHOUETTE_GRID, SILHOUETTE_GRID), Image.Resampling.BOX), dtype=np.float32)
    return np.concatenate([grid.ravel() / 255.0, [np.log(height / width), box.mean()]]).astype(np.float32)
