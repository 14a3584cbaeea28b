"""What the complement model sees of one garment: its embedding, colours, texture and silhouette.

``complement_features(embedding=..., crop=..., mask=...)`` is the one function that turns a
garment into the model's input, for training, evaluation and serving alike. Layout
(:data:`FEATURE_LAYOUT`): the garment embedder's 512-d unit vector, then colour read from
the mask only (a joint Lab histogram, Lab moments, three dominant colours), then texture,
then the mask's silhouette.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from recommender.ml.colour.histograms import LAB_BINS, dominant_colours, lab_histogram, lab_moments
from recommender.ml.colour.lab import garment_lab_pixels
from recommender.ml.colour.texture import TEXTURE_DIM, texture_features
from recommender.ml.complement.silhouette import SILHOUETTE_DIM, silhouette_features

#: Changes whenever the layout or any computation below changes: the model records it.
FEATURE_VERSION = "cf2"

EMBEDDING_DIM = 512
FEATURE_LAYOUT: dict[str, int] = {
    "embedding": EMBEDDING_DIM,
    "lab_histogram": int(np.prod(LAB_BINS)),
    "lab_moments": 10,
    "dominant_colours": 12,
    "texture": TEXTURE_DIM,
    "silhouette": SILHOUETTE_DIM,
}
FEATURE_DIM = sum(FEATURE_LAYOUT.values())
APPEARANCE_DIM = FEATURE_DIM - EMBEDDING_DIM


def appearance_features(crop: Image.Image, mask: np.ndarray | None) -> np.ndarray:
    """The colour, texture and silhouette part of the features (everything but the embedding), float32."""
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


def complement_features(*, embedding: np.ndarray, crop: Image.Image, mask: np.ndarray | None) -> np.ndarray:
    """float32 [FEATURE_DIM]: the garment's embedding followed by its colour, texture and silhouette.

    ``mask`` None means a white-filled crop: the garment is its non-white pixels."""
    embedding = np.asarray(embedding, dtype=np.float32).reshape(-1)
    if embedding.shape != (EMBEDDING_DIM,):
        raise ValueError(f"the embedding has {embedding.shape[0]} dimensions, not {EMBEDDING_DIM}")
    return np.concatenate([embedding, appearance_features(crop, mask)])


def split_features(features: np.ndarray) -> dict[str, np.ndarray]:
    """The named parts of ``[N, FEATURE_DIM]`` features (views, no copies)."""
    parts, start = {}, 0
    for name, size in FEATURE_LAYOUT.items():
        parts[name] = features[..., start : start + size]
        start += size
    return parts
