"""The look-alike vector: what a garment looks like to a shopper, in one pgvector column.

It is the weighted concatenation of three unit-length parts,

    look = [√w_shape · e/‖e‖,  √w_colour · c,  √w_pattern · p] / ‖…‖

where ``e`` is the embedder's vector (its sense of shape and kind), ``c`` the colour signature
over the palette (:func:`recommender.ml.colour.palette.colour_features`) and ``p`` the pattern
one-hot (:func:`recommender.ml.colour.pattern.pattern_features`). When all three parts are
known, the cosine similarity of two look vectors is the weighted mean of the three cosines,
so one HNSW cosine query ranks by shape, colour and pattern at once.

The weights are tuned on the validation split (``docs/LOOKALIKES.md`` says how) and stored in
``look_weights.json`` next to this file; photo search computes the same vector for a
customer's garment crop with :func:`look_vector`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from recommender.ml.colour.lab import exposed_lab_pixels
from recommender.ml.colour.palette import PALETTE, PALETTE_LAB, colour_features, garment_colours
from recommender.ml.colour.pattern import PATTERNS, garment_pattern, pattern_features

EMBEDDING_DIM = 512
LOOK_DIM = EMBEDDING_DIM + len(PALETTE) + len(PATTERNS)
WEIGHTS_PATH = Path(__file__).with_name("look_weights.json")
#: Bump when the colour or pattern features change meaning: look vectors made before are stale.
FEATURES_VERSION = "palette30-sigma10-pattern4-exposure"


@dataclass(frozen=True)
class LookWeights:
    shape: float = 1.0
    colour: float = 0.3  # the tuned values (look_weights.json), used when that file is missing
    pattern: float = 0.0

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


def load_weights(path: Path = WEIGHTS_PATH) -> LookWeights:
    """The tuned weights (the defaults when the file is missing); read once per file version."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return LookWeights()
    return _read_weights(path, stamp)


@functools.lru_cache(maxsize=8)
def _read_weights(path: Path, stamp: int) -> LookWeights:
    data = json.loads(path.read_text())
    return LookWeights(**{k: float(v) for k, v in data["weights"].items()})


@functools.lru_cache(maxsize=32)
def look_version(embedder_version: str, weights: LookWeights) -> str:
    """Identifies the look vectors of one embedder, one set of weights and one feature definition."""
    return hashlib.sha256(f"{embedder_version}:{weights.digest()}:{FEATURES_VERSION}".encode()).hexdigest()


def look_vector(
    embedding: np.ndarray,
    colour: np.ndarray,
    pattern: np.ndarray,
    weights: LookWeights,
) -> np.ndarray:
    """float32 of length :data:`LOOK_DIM`, unit norm. Unknown colour or pattern parts are zeros."""
    e = np.asarray(embedding, dtype=np.float64).reshape(-1)
    e = e / max(float(np.linalg.norm(e)), 1e-12)
    parts = [np.sqrt(weights.shape) * e]
    for part, weight in ((colour, weights.colour), (pattern, weights.pattern)):
        part = np.asarray(part, dtype=np.float64).reshape(-1)
        norm = np.linalg.norm(part)
        parts.append(np.sqrt(weight) * (part / norm if norm > 0 else part))
    vector = np.concatenate(parts)
    return (vector / max(np.linalg.norm(vector), 1e-12)).astype(np.float32)


@dataclass(frozen=True)
class GarmentLook:
    """What the look vector needs from a garment's pixels, measured once."""

    colours: list  # NamedColour, main first; empty when unknown
    colour_features: np.ndarray
    pattern: str | None


def measure_garment(image: Image.Image, mask: np.ndarray | None) -> GarmentLook:
    """Colours, colour signature and pattern of the garment in ``image``.

    ``mask`` selects the garment's pixels; None means a white-filled crop (the non-white pixels
    are the garment). An all-False mask gives an unknown colour and pattern."""
    if mask is not None and not np.asarray(mask).any():
        return GarmentLook([], np.zeros(len(PALETTE), dtype=np.float32), None)
    pixels = exposed_lab_pixels(image, mask)
    colours = garment_colours(pixels)
    if mask is None:
        rgb = np.asarray(image.convert("RGB"))
        mask = ~(rgb.min(axis=-1) >= 250)
    pattern = garment_pattern(image, mask, main_share=colours[0].share if colours else 1.0) if colours else None
    return GarmentLook(colours, colour_features(pixels), pattern)


def named_colour_features(colours: list[dict]) -> np.ndarray:
    """The colour signature of named colours with shares (a curator's edit), as if measured."""
    if not colours:
        return np.zeros(len(PALETTE), dtype=np.float32)
    names = [entry for entry in colours if entry.get("name") in _INDEX]
    if not names:
        return np.zeros(len(PALETTE), dtype=np.float32)
    pixels = np.concatenate(
        [
            np.repeat(PALETTE_LAB[_INDEX[entry["name"]]][None], max(1, int(1000 * float(entry.get("share", 1.0)))), 0)
            for entry in names
        ]
    )
    return colour_features(pixels)


_INDEX = {name: i for i, (name, _, _) in enumerate(PALETTE)}
__all__ = [
    "LOOK_DIM",
    "GarmentLook",
    "LookWeights",
    "load_weights",
    "look_vector",
    "look_version",
    "measure_garment",
    "named_colour_features",
    "pattern_features",
]
