"""Foreground masks of catalog product photos: one garment, flat or hanging, on a floor, bed or wall.

Three ways are offered, measured by ``python -m training.segmentation.product_mask_check``:

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
"""

from __future__ import annotations

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
    if method == "border":
        probability = border_foreground_probability(image)
    else:  # "unet" or "blend"
        if unet_alpha is None:
            raise ValueError(f"the {method} method needs the U-Net's alpha")
        alpha = np.asarray(unet_alpha, dtype=np.float64)
        alpha = alpha / 255.0 if alpha.max() > 1.0 else alpha
        unet = _resize_probability(alpha, (WORK_SIZE, WORK_SIZE))
        if method == "unet":
            probability = unet
        else:
            border = border_foreground_probability(image, unet_probability=unet)
            # When one of the two sees no garment at all, it has failed on this photo: trust the other.
            share = 0.5
            if np.mean(unet >= 0.5) < NOTHING_FOUND <= np.mean(border >= 0.5):
                share = 0.0
            elif np.mean(border >= 0.5) < NOTHING_FOUND <= np.mean(unet >= 0.5):
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
