"""Retrieval evaluation returns exactly the expected numbers on a tiny synthetic tree."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from recommender.ml.embedding.evaluate import evaluate_retrieval
from recommender.ml.embedding.knn import knn_metrics


class ColourEmbedder:
    """Fake model: the vector is the normalised mean colour, so colour decides the neighbours."""

    def embed(self, images, batch_size=64):
        vectors = np.stack([np.asarray(image, dtype=np.float32).mean(axis=(0, 1)) + 1e-3 for image in images])
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def write_tree(root, spec):
    for label, colours in spec.items():
        (root / label).mkdir(parents=True)
        for i, colour in enumerate(colours):
            Image.new("RGB", (8, 8), colour).save(root / label / f"{i}.png")
    return root


RED, GREEN = (255, 0, 0), (0, 255, 0)


def test_queries_against_a_separate_gallery_give_exact_top1_and_precision(tmp_path):
    gallery = write_tree(tmp_path / "gallery", {"a": [RED, RED], "b": [GREEN, GREEN]})
    queries = write_tree(tmp_path / "queries", {"a": [RED, GREEN], "b": [GREEN]})
    result = evaluate_retrieval(gallery, queries, k=2, embedder=ColourEmbedder())
    assert result == {
        "queries": 3,
        "gallery": 4,
        "k": 2,
        "top1": pytest.approx(2 / 3),
        "precision_at_k": pytest.approx(2 / 3),
    }


def test_a_folder_evaluated_against_itself_never_retrieves_the_query_itself(tmp_path):
    tree = write_tree(tmp_path / "tree", {"a": [RED, (250, 10, 0)], "b": [GREEN, (200, 0, 60)]})
    result = evaluate_retrieval(tree, tree, k=1, embedder=ColourEmbedder())
    assert result == {"queries": 4, "gallery": 4, "k": 1, "top1": 0.5, "precision_at_k": 0.5}


def test_precision_at_k_counts_missing_neighbours_as_misses():
    vectors = np.eye(2, dtype=np.float32)
    result = knn_metrics(vectors, np.array([0, 1]), vectors, np.array([0, 1]), k=10)
    assert result == {"top1": 1.0, "precision_at_k": 0.1}
