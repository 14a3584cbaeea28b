"""Cosine k-nearest-neighbour retrieval metrics, shared by training validation and the evaluate CLI."""

from __future__ import annotations

import numpy as np


def knn_metrics(
    queries: np.ndarray,
    query_labels: np.ndarray,
    gallery: np.ndarray,
    gallery_labels: np.ndarray,
    *,
    k: int = 10,
    exclude_self: bool = False,
) -> dict[str, float]:
    """Top-1 accuracy and precision@k of class labels under cosine kNN.

    Vectors must already be L2-normalised (so a dot product is the cosine).
    ``exclude_self`` is for a gallery that *is* the query set: row i never retrieves
    item i. Ties are broken by gallery order, so results are deterministic.
    """
    query_labels = np.asarray(query_labels)
    gallery_labels = np.asarray(gallery_labels)
    sims = np.asarray(queries, dtype=np.float32) @ np.asarray(gallery, dtype=np.float32).T
    if exclude_self:
        np.fill_diagonal(sims, -np.inf)
    available = gallery.shape[0] - (1 if exclude_self else 0)
    k_eff = min(k, available)
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k_eff]
    hits = gallery_labels[order] == query_labels[:, None]
    return {
        "top1": float(hits[:, 0].mean()) if len(hits) else 0.0,
        "precision_at_k": float(hits.sum(axis=1).mean() / k) if len(hits) else 0.0,
    }
