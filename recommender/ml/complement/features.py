"""What the complement model sees of a garment: its embedding, colours, texture, silhouette and fabric.

``complement_features(embeddings=..., crops=..., masks=..., embedder=...)`` is the one function
that turns garments into the model's input, for training, evaluation and serving alike.
Layout (:data:`FEATURE_LAYOUT`): the garment embedder's 512-d unit vector, then colour read
from the mask only (a joint Lab histogram, Lab moments, three dominant colours), then
texture, then the mask's silhouette, then the embedder's middle-layer maps pooled under the
mask (:mod:`recommender.ml.embedding.maps`: fabric, print, finish).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from PIL import Image

from recommender.ml.colour.histograms import LAB_BINS, dominant_colours, lab_histogram, lab_moments
from recommender.ml.colour.lab import garment_lab_pixels
from recommender.ml.colour.texture import TEXTURE_DIM, texture_features
from recommender.ml.complement.silhouette import SILHOUETTE_DIM, garment_mask, silhouette_features
from recommender.ml.embedding.maps import MAPS_DIM

#: Changes whenever the layout or any computation below changes: the model records it.
FEATURE_VERSION = "cf3"

EMBEDDING_DIM = 512
FEATURE_LAYOUT: dict[str, int] = {
    "embedding": EMBEDDING_DIM,
    "lab_histogram": int(np.prod(LAB_BINS)),
    "lab_moments": 10,
    "dominant_colours": 12,
    "texture": TEXTURE_DIM,
    "silhouette": SILHOUETTE_DIM,
    "maps": MAPS_DIM,
}
FEATURE_DIM = sum(FEATURE_LAYOUT.values())
APPEARANCE_DIM = FEATURE_DIM - EMBEDDING_DIM


class MapsSource(Protocol):
    """What reads the middle-layer maps: the embedder in service (:class:`~recommender.ml.embedding.inference.Embedder`)."""

    def pooled_maps(self, crops: Sequence[Image.Image], masks: Sequence[np.ndarray]) -> np.ndarray: ...


def pixel_features(crop: Image.Image, mask: np.ndarray | None) -> np.ndarray:
    """The colour, texture and silhouette part of one garment's features, float32 (no network involved)."""
    lab = garment_lab_pixels(crop, mask, max_pixels=8000)
    return np.concatenate(
        [
            np.sqrt(lab_histogram(lab)),  # Hellinger: inner products of square roots compare histograms
            lab_moments(lab),
            dominant_colours(lab),
            texture_features(crop, mask),
            silhouette_features(crop, mask),
        ]
    ).astype(np.float32)


def appearance_features(
    crops: Sequence[Image.Image], masks: Sequence[np.ndarray | None], *, embedder: MapsSource
) -> np.ndarray:
    """float32 [N, APPEARANCE_DIM]: everything but the embedding, for each garment.

    A ``None`` mask means a white-filled crop: the garment is its non-white pixels."""
    if len(crops) != len(masks):
        raise ValueError(f"{len(crops)} crops but {len(masks)} masks")
    if not crops:
        return np.zeros((0, APPEARANCE_DIM), dtype=np.float32)
    pixels = np.stack([pixel_features(crop, mask) for crop, mask in zip(crops, masks, strict=True)])
    maps = embedder.pooled_maps(crops, [garment_mask(crop, mask) for crop, mask in zip(crops, masks, strict=True)])
    return np.concatenate([pixels, maps], axis=1).astype(np.float32)


def complement_features(
    *,
    embeddings: np.ndarray,
    crops: Sequence[Image.Image],
    masks: Sequence[np.ndarray | None],
    embedder: MapsSource,
) -> np.ndarray:
    """float32 [N, FEATURE_DIM]: each garment's embedding followed by its appearance features.

    ``embeddings`` are the garments' vectors from ``embedder`` ([N, 512]); a ``None`` mask means a
    white-filled crop."""
    embeddings = np.asarray(embeddings, dtype=np.float32).reshape(len(crops), -1)
    if embeddings.shape[1] != EMBEDDING_DIM:
        raise ValueError(f"the embeddings have {embeddings.shape[1]} dimensions, not {EMBEDDING_DIM}")
    return np.concatenate([embeddings, appearance_features(crops, masks, embedder=embedder)], axis=1)


def split_features(features: np.ndarray) -> dict[str, np.ndarray]:
    """The named parts of ``[N, FEATURE_DIM]`` features (views, no copies)."""
    parts, start = {}, 0
    for name, size in FEATURE_LAYOUT.items():
        parts[name] = features[..., start : start + size]
        start += size
    return parts
