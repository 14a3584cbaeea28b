"""Retrieval evaluation on folder-per-class trees, exactly as the catalog embeds images.

::

    python -m recommender.ml.embedding.evaluate --gallery DIR --queries DIR [--k 10]

Every image goes ``open_image`` → ``embedder.embed``; each query retrieves its k
nearest gallery images by cosine similarity, and a retrieved image is relevant
when it has the query's class. When gallery and queries are the same folder, a
query never retrieves itself. The last line printed is the JSON result.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from recommender.ml.embedding.data import list_image_tree
from recommender.ml.embedding.knn import knn_metrics
from recommender.ml.images import open_image

#: Images decoded per chunk: bounds memory on large galleries.
CHUNK = 256


class SupportsEmbed(Protocol):
    def embed(self, images: Sequence[Image.Image], batch_size: int = 64) -> np.ndarray: ...


def embed_tree(root: str | os.PathLike, embedder: SupportsEmbed) -> tuple[np.ndarray, np.ndarray]:
    """Vectors and class names of every image under ``root``, in :func:`list_image_tree` order."""
    return embed_items(list_image_tree(root), embedder)


def embed_items(items: Sequence[tuple[Path, str]], embedder: SupportsEmbed) -> tuple[np.ndarray, np.ndarray]:
    """Vectors and class names of ``(path, class)`` items, decoded in chunks as the catalog import does."""
    chunks = []
    for start in range(0, len(items), CHUNK):
        images = [open_image(path) for path, _ in items[start : start + CHUNK]]
        chunks.append(np.asarray(embedder.embed(images), dtype=np.float32))
    return np.concatenate(chunks), np.asarray([label for _, label in items])


def evaluate_retrieval(
    gallery_dir: str | os.PathLike, queries_dir: str | os.PathLike, *, k: int = 10, embedder: SupportsEmbed
) -> dict[str, float | int]:
    """``{"queries", "gallery", "k", "top1", "precision_at_k"}`` for cosine kNN of queries in the gallery."""
    same = Path(gallery_dir).resolve() == Path(queries_dir).resolve()
    gallery, gallery_labels = embed_tree(gallery_dir, embedder)
    if same:
        queries, query_labels = gallery, gallery_labels
    else:
        queries, query_labels = embed_tree(queries_dir, embedder)
    metrics = knn_metrics(queries, query_labels, gallery, gallery_labels, k=k, exclude_self=same)
    return {
        "queries": len(queries),
        "gallery": len(gallery),
        "k": k,
        "top1": metrics["top1"],
        "precision_at_k": metrics["precision_at_k"],
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gallery", required=True, help="folder-per-class tree of gallery images")
    parser.add_argument("--queries", required=True, help="folder-per-class tree of query images")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--weights-dir", default=None, help="weights folder (default: the shipped one)")
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    from recommender.ml.embedding.inference import Embedder

    embedder = Embedder.load(device=args.device, directory=args.weights_dir)
    print(f"model {embedder.version}", flush=True)
    result = evaluate_retrieval(args.gallery, args.queries, k=args.k, embedder=embedder)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
