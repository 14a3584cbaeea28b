"""Colour statistics of a set of Lab pixels: a joint Lab histogram, moments and dominant colours.

Read from a garment's own pixels (see :func:`recommender.ml.colour.lab.garment_lab_pixels`),
never from the photo around it.
"""

from __future__ import annotations

import numpy as np

#: Bins of the joint histogram along L (0..100), a and b (-60..60, clipped).
LAB_BINS: tuple[int, int, int] = (4, 5, 5)
_AB_RANGE = 60.0


def lab_histogram(lab: np.ndarray, bins: tuple[int, int, int] = LAB_BINS) -> np.ndarray:
    """Joint L×a×b histogram of (N, 3) Lab pixels, flattened, summing to 1 (float32; zeros if N == 0)."""
    lab = np.asarray(lab, dtype=np.float32).reshape(-1, 3)
    size = int(np.prod(bins))
    if len(lab) == 0:
        return np.zeros(size, dtype=np.float32)
    li = np.clip((lab[:, 0] / 100.0 * bins[0]).astype(np.int64), 0, bins[0] - 1)
    ai = np.clip(((lab[:, 1] + _AB_RANGE) / (2 * _AB_RANGE) * bins[1]).astype(np.int64), 0, bins[1] - 1)
    bi = np.clip(((lab[:, 2] + _AB_RANGE) / (2 * _AB_RANGE) * bins[2]).astype(np.int64), 0, bins[2] - 1)
    counts = np.bincount((li * bins[1] + ai) * bins[2] + bi, minlength=size).astype(np.float32)
    return counts / counts.sum()


def lab_moments(lab: np.ndarray) -> np.ndarray:
    """10 numbers: mean L, a, b; their standard deviations; mean chroma; L at the 10th, 50th, 90th percentile.

    Scaled to roughly unit range (L / 100, a and b / 100)."""
    lab = np.asarray(lab, dtype=np.float32).reshape(-1, 3)
    if len(lab) == 0:
        return np.zeros(10, dtype=np.float32)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    values = np.concatenate(
        [lab.mean(axis=0), lab.std(axis=0), [chroma.mean()], np.percentile(lab[:, 0], [10, 50, 90])]
    )
    return (values / 100.0).astype(np.float32)


def dominant_colours(lab: np.ndarray, k: int = 3, iterations: int = 6, seed: int = 0) -> np.ndarray:
    """The ``k`` main colours (k-means in Lab), heaviest first: k × (L, a, b, weight), scaled like the moments.

    Deterministic (seeded farthest-point start); clusters that stay empty repeat the heaviest one."""
    lab = np.asarray(lab, dtype=np.float32).reshape(-1, 3)
    if len(lab) == 0:
        return np.zeros(4 * k, dtype=np.float32)
    if len(lab) > 2000:
        lab = lab[np.linspace(0, len(lab) - 1, 2000).astype(np.int64)]
    rng = np.random.default_rng(seed)
    seeds = [lab[rng.integers(len(lab))]]
    for _ in range(1, k):
        distance = np.min([((lab - c) ** 2).sum(axis=1) for c in seeds], axis=0)
        seeds.append(lab[int(distance.argmax())])
    centres = np.stack(seeds)
    for _ in range(iterations):
        assign = ((lab[:, None, :] - centres[None]) ** 2).sum(axis=-1).argmin(axis=1)
        for j in range(k):
            members = lab[assign == j]
            if len(members):
                centres[j] = members.mean(axis=0)
    assign = ((lab[:, None, :] - centres[None]) ** 2).sum(axis=-1).argmin(axis=1)
    weights = np.bincount(assign, minlength=k).astype(np.float32) / len(lab)
    order = np.argsort(-weights, kind="stable")
    out = np.concatenate([centres[order] / 100.0, weights[order, None]], axis=1)
    return out.reshape(-1).astype(np.float32)
