"""Retrieval evaluation returns exactly the expected numbers on a tiny synthetic tree."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from training.embedding.evaluate import evaluate_retrieval
from training.embedding.knn import knn_metrics


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
    result = evaluate_retrieval(gallery, queries, k=2, embedder=ColourEmbedder(), ranking="embedding")
    assert result == {
        "queries": 3,
        "gallery": 4,
        "k": 2,
        "top1": pytest.approx(2 / 3),
        "precision_at_k": pytest.approx(2 / 3),
        "colour_agreement": 0.0,  # 8x8 images: too few pixels to name a colour, so none is counted
        "colour_queries": 0,
        "ranking": "embedding",
    }


def test_a_folder_evaluated_against_itself_never_retrieves_the_query_itself(tmp_path):
    tree = write_tree(tmp_path / "tree", {"a": [RED, (250, 10, 0)], "b": [GREEN, (200, 0, 60)]})
    result = evaluate_retrieval(tree, tree, k=1, embedder=ColourEmbedder(), ranking="embedding")
    assert {key: result[key] for key in ("queries", "gallery", "k", "top1", "precision_at_k")} == {
        "queries": 4,
        "gallery": 4,
        "k": 1,
        "top1": 0.5,
        "precision_at_k": 0.5,
    }


class ShapeOnlyEmbedder:
    """Fake model blind to colour, like the real one: the vector says only which half of the image is filled."""

    def embed(self, images, batch_size=64):
        vectors = []
        for image in images:
            filled = (np.asarray(image.convert("L")) < 250).astype(np.float32)
            top, bottom = filled[: filled.shape[0] // 2].mean(), filled[filled.shape[0] // 2 :].mean()
            vectors.append([top + 1e-3, bottom + 1e-3, 0.3])
        vectors = np.asarray(vectors, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def write_garments(root, spec):
    """White-filled crops (like street queries): a coloured block in the top or bottom half of a 40x40 image."""
    for label, items in spec.items():
        (root / label).mkdir(parents=True)
        for i, (colour, half, offset) in enumerate(items):
            image = Image.new("RGB", (40, 40), (255, 255, 255))
            y = 0 if half == "top" else 20
            image.paste(Image.new("RGB", (40 - offset, 20), colour), (0, y))
            image.save(root / label / f"{i}.png")
    return root


NAVY, CRIMSON = (30, 40, 75), (200, 30, 40)


def test_colour_agreement_counts_neighbours_within_delta_e_20_and_the_look_ranking_raises_it(tmp_path):
    gallery = write_garments(
        tmp_path / "gallery",
        {"tee": [(NAVY, "top", 0), (CRIMSON, "top", 6)], "skirt": [(CRIMSON, "bottom", 0), (NAVY, "bottom", 0)]},
    )
    queries = write_garments(tmp_path / "queries", {"tee": [(CRIMSON, "top", 0)]})
    plain = evaluate_retrieval(gallery, queries, k=1, embedder=ShapeOnlyEmbedder(), ranking="embedding")
    look = evaluate_retrieval(gallery, queries, k=1, embedder=ShapeOnlyEmbedder(), ranking="look")
    # The plain embedding picks the navy tee (same shape, other colour): no colour agreement.
    assert plain["top1"] == 1.0 and plain["colour_agreement"] == 0.0 and plain["colour_queries"] == 1
    # The look vector picks the crimson tee: same category and the same colour.
    assert look["top1"] == 1.0 and look["colour_agreement"] == 1.0 and look["ranking"] == "look"


def test_precision_at_k_counts_missing_neighbours_as_misses():
    vectors = np.eye(2, dtype=np.float32)
    result = knn_metrics(vectors, np.array([0, 1]), vectors, np.array([0, 1]), k=10)
    assert result == {"top1": 1.0, "precision_at_k": 0.1}
