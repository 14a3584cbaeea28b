"""Serving: photo in, garment masks, boxes and white-filled crops out.

``get_segmenter().segment([image])`` is the whole API for callers. The model runs at
its fixed input size; class probabilities are upsampled (bilinear) to the photo's own
size before the argmax, so masks line up with the original pixels.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import ndimage
from torch import nn

from core.images import to_rgb
from recommender.ml.loading import LoadOnce
from recommender.ml.segmentation.garment_shape import bottom_shape
from recommender.ml.segmentation.model import UNetConfig, load_unet
from recommender.ml.segmentation.transforms import preprocess
from recommender.ml.weights import pick_device

GARMENT_CLASSES: tuple[str, ...] = ("top", "bottom", "dress")

#: Overlay colours per garment class (RGB); background is left as the photo.
CLASS_COLOURS: dict[str, tuple[int, int, int]] = {
    "top": (230, 25, 75),
    "bottom": (0, 130, 200),
    "dress": (145, 30, 180),
}

#: A garment must cover at least 2 % of the photo: smaller blobs are handbags, shadows or noise.
MIN_PIXEL_SHARE = 0.02

#: Probabilities are upsampled at most to this long side, then labels are enlarged with
#: nearest-neighbour: a 40-megapixel upload must not allocate gigabytes of float maps.
MAX_PROBABILITY_SIDE = 2048

#: A blob of one class is part of the garment around it (not a garment of its own) when at least
#: this share of the pixels just outside it belong to that garment ...
ENCLOSED_BORDER = 0.4
#: ... and it is smaller than this share of that garment.
ENCLOSED_SIZE = 0.35

WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Garment:
    """One garment found in a photo. ``bbox`` is (x0, y0, x1, y1) in pixels, x1/y1 exclusive (PIL's crop box)."""

    kind: str
    bbox: tuple[int, int, int, int]
    pixel_share: float
    confidence: float
    crop: Image.Image = field(repr=False)
    #: The garment's pixels inside ``bbox`` (crop-sized bool array): colour statistics read only these.
    mask: np.ndarray | None = field(repr=False, default=None)
    #: What kind of garment it is, as a CCP fine label: a bottom's ``pants``, ``shorts`` or
    #: ``skirt`` from its shape (``garment_shape``); empty when the segmenter cannot tell.
    fine_label: str = ""


@dataclass(frozen=True)
class Segmentation:
    """Per-pixel classes at the photo's size; ``garments`` is empty when nothing was found."""

    label_map: np.ndarray = field(repr=False)
    masks: dict[str, np.ndarray] = field(repr=False)
    garments: list[Garment]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), like ``PIL.Image.size``."""
        return self.label_map.shape[1], self.label_map.shape[0]


def _probability_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, MAX_PROBABILITY_SIDE / max(width, height))
    return max(1, round(height * scale)), max(1, round(width * scale))


def _largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected blob with its holes filled: one garment per class, no speckles."""
    labelled, count = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return mask
    sizes = np.bincount(labelled.ravel())[1:]
    return ndimage.binary_fill_holes(labelled == (int(sizes.argmax()) + 1))


def absorb_enclosed(labels: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """``labels`` with each small blob of one garment class that lies inside another garment given to
    that garment: a patch of "dress" inside a top, a "top" fringe inside a dress.

    A class's pixels are absorbed when at least :data:`ENCLOSED_BORDER` of the ring just outside its
    largest blob is one other garment class, and the class covers less than :data:`ENCLOSED_SIZE` of
    that garment's largest blob. Smallest classes are looked at first; one class is absorbed at a time."""
    labels = labels.copy()
    indices = [classes.index(kind) for kind in GARMENT_CLASSES if kind in classes]
    # A bottom is never a blob inside another garment: it meets the top or dress above it along the
    # waist, so its ring is mostly that garment however large it is.
    bottom = classes.index("bottom") if "bottom" in classes else None
    for _ in indices:
        blobs = {i: _largest_component(labels == i) for i in indices if (labels == i).any()}
        absorbed = False
        for i, blob in sorted(blobs.items(), key=lambda item: int(item[1].sum())):
            if i == bottom:
                continue
            ring = labels[ndimage.binary_dilation(blob, iterations=3) & ~blob]
            size = int((labels == i).sum())
            for j, other in blobs.items():
                if j != i and (ring == j).mean() >= ENCLOSED_BORDER and size < ENCLOSED_SIZE * other.sum():
                    labels[labels == i] = j
                    absorbed = True
                    break
            if absorbed:
                break
        if not absorbed:
            break
    return labels


def _white_filled_crop(image: Image.Image, mask: np.ndarray, bbox: tuple[int, int, int, int]) -> Image.Image:
    x0, y0, x1, y1 = bbox
    pixels = np.asarray(image)[y0:y1, x0:x1].copy()
    pixels[~mask[y0:y1, x0:x1]] = WHITE
    return Image.fromarray(pixels)


class Segmenter:
    """A loaded segmentation network (either architecture of ``model.py``) ready to segment batches on CPU or CUDA."""

    def __init__(
        self,
        model: nn.Module,
        config: UNetConfig,
        *,
        device: torch.device,
        meta: dict[str, Any] | None = None,
        tta_flip: bool = False,
        min_pixel_share: float = MIN_PIXEL_SHARE,
    ) -> None:
        self.model = model.to(device).eval()
        self.config = config
        self.device = device
        self.meta = meta or {}
        self.tta_flip = tta_flip
        self.min_pixel_share = min_pixel_share

    @classmethod
    def load(
        cls,
        device: str | torch.device | None = None,
        name: str = "unet-ccp",
        directory: str | os.PathLike | None = None,
        *,
        tta_flip: bool = False,
    ) -> Segmenter:
        """The shipped weights (hash-checked); raises ``WeightsError`` if they are missing or corrupt."""
        device = pick_device(device)
        model, config, meta = load_unet(name, directory=directory, device=device)
        return cls(model, config, device=device, meta=meta, tta_flip=tta_flip)

    @property
    def version(self) -> str:
        """First 12 hex digits of the weights' sha256 (``"untracked"`` for an in-memory model)."""
        return str(self.meta.get("sha256", "untracked"))[:12]

    @torch.inference_mode()
    def _input_probabilities(self, batch: torch.Tensor) -> torch.Tensor:
        """Class probabilities at the model's input size, averaged with the mirrored photo if ``tta_flip``."""
        probs = self.model(batch.to(self.device)).float().softmax(dim=1)
        if self.tta_flip:
            flipped = self.model(batch.flip(-1).to(self.device)).float().softmax(dim=1)
            probs = (probs + flipped.flip(-1)) / 2
        return probs

    @torch.inference_mode()
    def predict(self, images: Sequence[Image.Image], batch_size: int = 8) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per image: (HxW uint8 class map, HxW float32 max-softmax probability) at the image's size."""
        images = [to_rgb(image) for image in images]
        results: list[tuple[np.ndarray, np.ndarray]] = []
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            probs = self._input_probabilities(torch.stack([preprocess(image, self.config) for image in chunk]))
            for image, image_probs in zip(chunk, probs, strict=True):
                results.append(self._at_image_size(image_probs, image.width, image.height))
        return results

    def _at_image_size(self, probs: torch.Tensor, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        size = _probability_size(width, height)
        upsampled = F.interpolate(probs[None], size=size, mode="bilinear", align_corners=False)[0]
        confidence, labels = upsampled.max(dim=0)
        labels_np = labels.to(torch.uint8).cpu().numpy()
        confidence_np = confidence.cpu().numpy().astype(np.float32)
        if size != (height, width):
            labels_np = np.asarray(Image.fromarray(labels_np).resize((width, height), Image.Resampling.NEAREST))
            confidence_np = np.asarray(Image.fromarray(confidence_np).resize((width, height), Image.Resampling.NEAREST))
        return labels_np, confidence_np

    def segment(self, images: Sequence[Image.Image], batch_size: int = 8) -> list[Segmentation]:
        """Segment each photo; any PIL image (any mode, any size) is accepted."""
        images = [to_rgb(image) for image in images]
        return [
            self._describe(image, labels, confidence)
            for image, (labels, confidence) in zip(images, self.predict(images, batch_size), strict=True)
        ]

    def _describe(self, image: Image.Image, labels: np.ndarray, confidence: np.ndarray) -> Segmentation:
        return describe_labels(
            image, labels, confidence, classes=self.config.classes, min_pixel_share=self.min_pixel_share
        )


def describe_labels(
    image: Image.Image,
    labels: np.ndarray,
    confidence: np.ndarray | None = None,
    *,
    classes: Sequence[str] = ("background", *GARMENT_CLASSES),
    min_pixel_share: float = MIN_PIXEL_SHARE,
) -> Segmentation:
    """Garments in a photo from its per-pixel class map: the U-Net's, or a true annotation's.

    One garment per class (its largest blob, holes filled) covering at least ``min_pixel_share``
    of the photo, with its box, white-filled crop and mask. A small blob of one class inside another
    garment is part of that garment (:func:`absorb_enclosed`). A bottom's kind (trousers, shorts,
    skirt) is read from its shape, its mask extended down where the trouser leg carries on in the
    garment's colour (:mod:`garment_shape`). Serving and outfit ingestion both cut garments here, so
    a street photo's crops look the same whichever labels made them."""
    image = to_rgb(image)
    if confidence is None:
        confidence = np.ones(labels.shape, dtype=np.float32)
    labels = absorb_enclosed(labels, classes)
    masks = {kind: labels == classes.index(kind) for kind in GARMENT_CLASSES}
    garments = []
    for kind, mask in masks.items():
        garment = _garment(image, kind, mask, confidence, min_pixel_share, free=labels == classes.index("background"))
        if garment is not None:
            garments.append(garment)
    garments.sort(key=lambda g: g.pixel_share, reverse=True)
    return Segmentation(label_map=labels, masks=masks, garments=garments)


def _garment(
    image: Image.Image,
    kind: str,
    mask: np.ndarray,
    confidence: np.ndarray,
    min_pixel_share: float,
    *,
    free: np.ndarray,
) -> Garment | None:
    if mask.mean() < min_pixel_share:
        return None
    cleaned = _largest_component(mask)
    share = float(cleaned.mean())
    if share < min_pixel_share:
        return None
    fine_label = "dress" if kind == "dress" else ""
    if kind == "bottom":
        shape = bottom_shape(np.asarray(image), cleaned, free)
        fine_label, cleaned = shape.kind, shape.mask
    rows, cols = np.nonzero(cleaned)
    bbox = (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)
    x0, y0, x1, y1 = bbox
    return Garment(
        kind=kind,
        bbox=bbox,
        pixel_share=round(share, 4),
        confidence=round(float(confidence[cleaned].mean()), 4),
        crop=_white_filled_crop(image, cleaned, bbox),
        mask=cleaned[y0:y1, x0:x1].copy(),
        fine_label=fine_label,
    )


def overlay(image: Image.Image, segmentation: Segmentation, alpha: float = 0.45) -> Image.Image:
    """The photo with each garment class tinted in ``CLASS_COLOURS`` and outlined at full strength."""
    photo = np.asarray(to_rgb(image).resize(segmentation.size), dtype=np.float32)
    result = photo.copy()
    for kind, mask in segmentation.masks.items():
        colour = np.asarray(CLASS_COLOURS[kind], dtype=np.float32)
        result[mask] = (1 - alpha) * photo[mask] + alpha * colour
        outline = mask & ~ndimage.binary_erosion(mask, iterations=2)
        result[outline] = colour
    return Image.fromarray(result.round().astype(np.uint8))


#: The process-wide :class:`Segmenter`: ``get_segmenter()`` for the shipped weights, or with
#: ``Segmenter.load`` keyword arguments (``device``, ``tta_flip``, …); each configuration loaded once.
get_segmenter: LoadOnce[Segmenter] = LoadOnce(lambda **kwargs: Segmenter.load(**kwargs))
