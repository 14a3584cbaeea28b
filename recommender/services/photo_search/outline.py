"""The polygon drawn around each garment of a photo: Moore-neighbour contour tracing of its mask."""

from __future__ import annotations

import numpy as np
from PIL import Image

#: The outline is traced on the garment's mask scaled to at most this many pixels a side.
OUTLINE_GRID = 96

# Clockwise neighbours, starting north: Moore-neighbour contour tracing.
_NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def rectangle(bbox) -> list[list[int]]:
    """A box as a closed polygon [[x, y], ...]."""
    x0, y0, x1, y1 = bbox
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def _trace(mask: np.ndarray) -> list[tuple[int, int]]:
    """The outer boundary of the (single) blob in ``mask`` as (row, col) points, clockwise."""
    padded = np.pad(mask, 1)
    rows, cols = np.nonzero(padded)
    if len(rows) == 0:
        return []
    first = np.lexsort((cols, rows))[0]
    start = (int(rows[first]), int(cols[first]))
    contour = [start]
    current, back = start, 6  # entered from the west: the pixel left of the first one is background
    for _ in range(4 * padded.size):
        for turn in range(8):
            direction = (back + 1 + turn) % 8
            dy, dx = _NEIGHBOURS[direction]
            candidate = (current[0] + dy, current[1] + dx)
            if padded[candidate]:
                previous = _NEIGHBOURS[(direction - 1) % 8]
                background = (current[0] + previous[0], current[1] + previous[1])
                back = _NEIGHBOURS.index((background[0] - candidate[0], background[1] - candidate[1]))
                current = candidate
                break
        else:
            return contour  # a single pixel
        if current == start:
            break
        contour.append(current)
    return [(r - 1, c - 1) for r, c in contour]


def garment_outline(mask: np.ndarray | None, bbox) -> list[list[int]]:
    """A closed polygon around the garment's mask, in photo pixels (its box when there is no mask)."""
    if mask is None or not mask.any():
        return rectangle(bbox)
    x0, y0, x1, y1 = bbox
    height, width = mask.shape
    scale = min(1.0, OUTLINE_GRID / max(height, width))
    grid = mask
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        grid = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)) > 0
    points = _trace(grid)
    if len(points) < 3:
        return rectangle(bbox)
    sy, sx = height / grid.shape[0], width / grid.shape[1]
    return [[round(x0 + (c + 0.5) * sx), round(y0 + (r + 0.5) * sy)] for r, c in points]
