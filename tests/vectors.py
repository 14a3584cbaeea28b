"""Unit vectors with known angles between them, for nearest-neighbour tests."""

from __future__ import annotations

import numpy as np


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def near(base, angle: float, rng: np.random.Generator) -> np.ndarray:
    """A unit vector at exactly ``angle`` radians from ``base`` (cosine similarity cos(angle))."""
    other = rng.normal(size=base.shape)
    other = unit(other - other.dot(base) * base)
    return unit(np.cos(angle) * base + np.sin(angle) * other)
