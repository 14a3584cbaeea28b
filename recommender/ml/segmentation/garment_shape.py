"""What kind of garment a mask is, from its shape: trousers, shorts or a skirt.

The U-Net tells top, bottom and dress apart, not a skirt from trousers. Look-alikes must keep the
garment's category (trousers get trousers), so a bottom's kind is read from its mask:

* **where it stops** — the segmenter often loses a trouser leg below the knee (shadows, a bent
  knee, boots over the hem). When the pixels straight below the hem carry on in the garment's own
  colour, the leg continues: the mask is extended down over them before anything is measured;
* **how long it is** against its own hip width (a shape ratio, independent of the photo's scale
  and of how much of the person is in the picture);
* **whether it has legs** — a gap between two legs in its lower part (trousers, shorts) or one
  piece of cloth (a skirt).

The names are CCP's fine labels (``pants``, ``shorts``, ``skirt``), which are also the shop's
category slugs for bottoms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.ml.colour.lab import rgb_to_lab

PANTS, SHORTS, SKIRT = "pants", "shorts", "skirt"

#: A bottom is long (trousers, a long skirt) when its length is at least this many hip widths ...
LONG_RATIO = 1.7
#: ... or when it covers at least this share of the height from its waist to the photo's lower edge
#: (the legs, in a full-length photo).
LONG_LEG_SHARE = 0.55
#: A long bottom without a visible leg gap is a skirt unless it is longer still (legs held together).
TROUSERS_WITHOUT_GAP = (2.0, 0.7)
#: A bottom "has legs" when this share of its lower rows shows two separate runs.
LEG_GAP_ROWS = 0.3
#: The leg continues when at least this share of the hem's columns matches the garment's colour.
CONTINUES_SHARE = 0.5


@dataclass(frozen=True)
class BottomShape:
    kind: str
    #: Length (waist to hem, after extension) over hip width.
    ratio: float
    leg_gap: float
    #: Rows added below the segmenter's hem because the garment's colour continues there.
    extended_rows: int
    mask: np.ndarray


def _runs(row: np.ndarray, min_length: int) -> int:
    padded = np.concatenate(([False], row, [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    lengths = edges[1::2] - edges[::2]
    return int((lengths >= min_length).sum())


def _lab_distance(lab: np.ndarray, centre: np.ndarray) -> np.ndarray:
    diff = lab - centre
    diff[..., 0] *= 0.5  # lightness changes (shadows, folds) count half
    return np.sqrt((diff**2).sum(-1))


def extend_down(image: np.ndarray, mask: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, int]:
    """``mask`` extended below its hem over the rows where the garment's colour carries on, and the
    number of rows added. ``image``: HxWx3 uint8; ``free``: pixels no other garment claims."""
    rows = np.flatnonzero(mask.any(axis=1))
    if len(rows) < 8:
        return mask, 0
    top, hem = int(rows[0]), int(rows[-1])
    length = hem - top + 1
    start, stop = top + length // 2, min(mask.shape[0], hem + 1 + length)
    lab = np.zeros(image.shape, dtype=np.float64)
    lab[start:stop] = rgb_to_lab(image[start:stop].astype(np.float64))
    pixels = lab[start : hem + 1][mask[start : hem + 1]]
    if len(pixels) < 20:
        return mask, 0
    centre = np.median(pixels, axis=0)
    tolerance = float(np.clip(np.percentile(_lab_distance(pixels, centre), 80), 8.0, 20.0))
    band = mask[max(top, hem - max(2, length // 10)) : hem + 1].any(axis=0)
    if band.sum() < 3:
        return mask, 0
    extended = mask.copy()
    added = 0
    for y in range(hem + 1, stop):
        matches = (_lab_distance(lab[y, band], centre) <= tolerance) & free[y, band]
        if matches.mean() < CONTINUES_SHARE:
            break
        extended[y, np.flatnonzero(band)[matches]] = True
        added += 1
    return extended, added


def bottom_shape(image: np.ndarray, mask: np.ndarray, free: np.ndarray | None = None) -> BottomShape:
    """The kind of a bottom garment from its mask (HxW bool) in ``image`` (HxWx3 uint8)."""
    free = ~mask if free is None else free | mask
    extended, added = extend_down(image, mask, free)
    rows = np.flatnonzero(extended.any(axis=1))
    if len(rows) < 4:
        return BottomShape(SKIRT, 0.0, 0.0, 0, mask)
    top, hem = int(rows[0]), int(rows[-1])
    length = hem - top + 1
    widths = extended[top : hem + 1].sum(axis=1)
    hips = float(np.percentile(widths, 95))
    ratio = length / max(hips, 1.0)
    leg_share = length / max(1, mask.shape[0] - top)
    lower = extended[top + int(0.6 * length) : hem + 1]
    min_run = max(2, int(0.06 * hips))
    gap = float(np.mean([_runs(row, min_run) >= 2 for row in lower])) if len(lower) else 0.0
    legs = gap >= LEG_GAP_ROWS
    if ratio >= LONG_RATIO or leg_share >= LONG_LEG_SHARE:
        very_long = ratio >= TROUSERS_WITHOUT_GAP[0] and leg_share >= TROUSERS_WITHOUT_GAP[1]
        kind = PANTS if legs or very_long else SKIRT
    else:
        kind = SHORTS if legs else SKIRT
    return BottomShape(kind, round(ratio, 3), round(gap, 3), added, extended)
