"""Intersection-over-union accumulated over a whole set, the way the project reports it.

IoU is computed from one confusion matrix summed over all images (not averaged per
image), so a small image with a tiny garment cannot swing the result.
"""

from __future__ import annotations

import numpy as np


def confusion(predicted: np.ndarray, target: np.ndarray, num_classes: int) -> np.ndarray:
    """num_classes x num_classes counts, rows = true class, columns = predicted class."""
    index = target.astype(np.int64).ravel() * num_classes + predicted.astype(np.int64).ravel()
    return np.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def iou_per_class(matrix: np.ndarray) -> np.ndarray:
    """IoU per class; a class absent from both prediction and truth counts as 1.0 (nothing to get wrong)."""
    intersection = np.diag(matrix).astype(np.float64)
    union = matrix.sum(axis=0) + matrix.sum(axis=1) - intersection
    return np.where(union > 0, intersection / np.maximum(union, 1), 1.0)


def iou_report(matrix: np.ndarray, classes: tuple[str, ...]) -> dict[str, object]:
    """``{"iou": {class: x}, "miou": x}`` rounded to 4 decimals."""
    ious = iou_per_class(matrix)
    return {
        "iou": {name: round(float(value), 4) for name, value in zip(classes, ious, strict=True)},
        "miou": round(float(ious.mean()), 4),
    }
