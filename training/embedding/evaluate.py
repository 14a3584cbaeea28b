"""Retrieval evaluation on folder-per-class trees, exactly as the catalog embeds images.

::

    python -m training.embedding.evaluate --gallery DIR --queries DIR [--k 10] [--ranking embedding|look]

Every image goes ``open_image`` → ``embedder.embed``; each query retrieves its k
nearest gallery images by cosine similarity, and a retrieved image is relevant
when it has the query's class (the folder name). When gallery and queries are the same
folder, a query never retrieves itself. The last line printed is the JSON result:
``{"top1", "precision_at_k", "colour_agreement", "ranking", ...}``.

``--ranking look`` (the default, the one that serves) ranks by the look vector
(:mod:`recommender.ml.colour.look`: the embedding blended with colour and pattern);
``embedding`` by the plain embedding. Either way ``colour_agreement`` is the mean, over
queries whose garment colour is known, of the share of their top-k whose garment colour
lies within ΔE2000 < 20 of the query's (a gallery image of unknown colour does not agree).
A garment's colour is the Lab of its main named colour, read from its pixels: a white-filled
crop (a street garment cut out by its mask) through its non-white pixels, any other photo
through the catalog mask (``mask_fn``; the command passes the served one).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image
from tqdm import tqdm

from core.images import open_image
from recommender.ml.colour.lab import delta_e_2000
from recommender.ml.colour.look import FEATURES_VERSION, LookWeights, load_weights, look_vector, measure_garment
from recommender.ml.colour.pattern import pattern_features
from training.embedding.data import list_image_tree
from training.embedding.knn import knn_metrics

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


RANKINGS = ("embedding", "look")
#: Two garments "share a colour" below this CIEDE2000 difference of their main colours.
COLOUR_AGREEMENT_DELTA_E = 20.0
#: A photo whose outer frame is at least this share near-white is a white-filled crop.
WHITE_FILLED_FRAME = 0.9


def is_white_filled(image: Image.Image) -> bool:
    """A garment crop already cut out on white (street queries), rather than a photo with a background."""
    rgb = np.asarray(image.convert("RGB"))
    frame = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    return bool((frame.min(axis=-1) >= 245).mean() >= WHITE_FILLED_FRAME)


@dataclass(frozen=True)
class TreeLooks:
    """Everything retrieval needs of one folder-per-class tree, measured once."""

    embeddings: np.ndarray  # (N, 512), unit norm
    labels: np.ndarray  # class names
    colour_features: np.ndarray  # (N, len(PALETTE))
    patterns: np.ndarray  # (N, len(PATTERNS)) one-hot (zeros: unknown)
    main_lab: np.ndarray  # (N, 3), NaN where the colour is unknown

    def look(self, weights: LookWeights) -> np.ndarray:
        return np.stack(
            [
                look_vector(e, c, p, weights)
                for e, c, p in zip(self.embeddings, self.colour_features, self.patterns, strict=True)
            ]
        )


MaskFn = Callable[[Image.Image], np.ndarray]


def measure_tree(
    root: str | os.PathLike,
    embedder: SupportsEmbed,
    *,
    mask_fn: MaskFn | None = None,
    cache_dir: str | os.PathLike | None = None,
    cache_key: str = "",
    progress: bool = False,
) -> TreeLooks:
    """Embeddings and garment looks of every image under ``root`` (cached in ``cache_dir`` when given,
    keyed by the tree's files, ``cache_key`` and the embedder's version)."""
    items = list_image_tree(root)
    cache_path = None
    if cache_dir is not None:
        digest = hashlib.sha256(
            "|".join(
                [cache_key, str(getattr(embedder, "version", "")), FEATURES_VERSION]
                + [f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p, _ in items]
            ).encode()
        ).hexdigest()[:24]
        cache_path = Path(cache_dir) / f"looks-{digest}.npz"
        if cache_path.exists():
            data = np.load(cache_path, allow_pickle=False)
            return TreeLooks(**{name: data[name] for name in data.files})
    embeddings, labels = embed_items(items, embedder)
    embeddings = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    colours, patterns, labs = [], [], []
    for path, _ in tqdm(items, desc=f"looks {Path(root).name}", disable=not progress, mininterval=10):
        image = open_image(path)
        mask = None if (mask_fn is None or is_white_filled(image)) else mask_fn(image)
        look = measure_garment(image, mask)
        colours.append(look.colour_features)
        patterns.append(pattern_features(look.pattern))
        labs.append(look.colours[0].lab if look.colours else (np.nan, np.nan, np.nan))
    result = TreeLooks(
        embeddings.astype(np.float32),
        np.asarray(labels, dtype=str),
        np.asarray(colours, dtype=np.float32),
        np.asarray(patterns, dtype=np.float32),
        np.asarray(labs, dtype=np.float32),
    )
    if cache_path is not None:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_suffix(".tmp.npz")
        np.savez(tmp, **{f.name: getattr(result, f.name) for f in fields(result)})
        tmp.replace(cache_path)
    return result


def _top_k(queries: np.ndarray, gallery: np.ndarray, *, k: int, exclude_self: bool) -> np.ndarray:
    sims = np.asarray(queries, dtype=np.float32) @ np.asarray(gallery, dtype=np.float32).T
    if exclude_self:
        np.fill_diagonal(sims, -np.inf)
    k_eff = min(k, gallery.shape[0] - (1 if exclude_self else 0))
    return np.argsort(-sims, axis=1, kind="stable")[:, :k_eff]


def colour_agreement(query_lab: np.ndarray, gallery_lab: np.ndarray, order: np.ndarray, *, k: int) -> tuple[float, int]:
    """Mean share of each known-colour query's top-k within ΔE2000 < 20 of it, and how many queries counted."""
    known = ~np.isnan(query_lab).any(axis=1)
    if not known.any():
        return 0.0, 0
    neighbours = gallery_lab[order[known]]  # (Q, k, 3)
    distance = delta_e_2000(query_lab[known][:, None, :], neighbours)
    agree = np.where(np.isnan(distance), False, distance < COLOUR_AGREEMENT_DELTA_E)
    return float(agree.sum(axis=1).mean() / k), int(known.sum())


def score_rankings(
    gallery: TreeLooks, queries: TreeLooks, *, k: int, same: bool, ranking: str, weights: LookWeights
) -> dict[str, float | int | str]:
    if ranking not in RANKINGS:
        raise ValueError(f"ranking must be one of {RANKINGS}")
    if ranking == "look":
        gallery_vectors, query_vectors = gallery.look(weights), (queries.look(weights) if not same else None)
        query_vectors = gallery_vectors if same else query_vectors
    else:
        gallery_vectors, query_vectors = gallery.embeddings, queries.embeddings
    metrics = knn_metrics(query_vectors, queries.labels, gallery_vectors, gallery.labels, k=k, exclude_self=same)
    order = _top_k(query_vectors, gallery_vectors, k=k, exclude_self=same)
    agreement, counted = colour_agreement(queries.main_lab, gallery.main_lab, order, k=k)
    result: dict[str, float | int | str] = {
        "queries": len(queries.labels),
        "gallery": len(gallery.labels),
        "k": k,
        "top1": metrics["top1"],
        "precision_at_k": metrics["precision_at_k"],
        "colour_agreement": agreement,
        "ranking": ranking,
        "colour_queries": counted,
    }
    if ranking == "look":
        result["weights"] = asdict(weights)
    return result


def evaluate_retrieval(
    gallery_dir: str | os.PathLike,
    queries_dir: str | os.PathLike,
    *,
    k: int = 10,
    embedder: SupportsEmbed,
    ranking: str = "look",
    mask_fn: MaskFn | None = None,
    weights: LookWeights | None = None,
    cache_dir: str | os.PathLike | None = None,
    cache_key: str = "",
    progress: bool = False,
) -> dict[str, float | int | str]:
    """``{"queries", "gallery", "k", "top1", "precision_at_k", "colour_agreement", "ranking", ...}`` for
    cosine kNN of the queries in the gallery, ranked by look vector or by plain embedding."""
    if ranking not in RANKINGS:
        raise ValueError(f"ranking must be one of {RANKINGS}")
    same = Path(gallery_dir).resolve() == Path(queries_dir).resolve()
    options = {"mask_fn": mask_fn, "cache_dir": cache_dir, "cache_key": cache_key, "progress": progress}
    gallery = measure_tree(gallery_dir, embedder, **options)
    queries = gallery if same else measure_tree(queries_dir, embedder, **options)
    return score_rankings(gallery, queries, k=k, same=same, ranking=ranking, weights=weights or load_weights())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gallery", required=True, help="folder-per-class tree of gallery images")
    parser.add_argument("--queries", required=True, help="folder-per-class tree of query images")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--ranking", choices=RANKINGS, default="look")
    parser.add_argument("--cache-dir", default=None, help="keep measured looks here between runs")
    parser.add_argument("--weights-dir", default=None, help="weights folder (default: the shipped one)")
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    from recommender.ml.embedding.inference import Embedder

    embedder = Embedder.load(device=args.device, directory=args.weights_dir)
    print(f"model {embedder.version}", flush=True)
    from recommender.ml.segmentation.background import remove_background
    from recommender.ml.segmentation.product_mask import product_mask

    def mask_fn(image: Image.Image) -> np.ndarray:
        return product_mask(image, np.asarray(remove_background(image).getchannel("A")))

    result = evaluate_retrieval(
        args.gallery,
        args.queries,
        k=args.k,
        embedder=embedder,
        ranking=args.ranking,
        mask_fn=mask_fn,
        cache_dir=args.cache_dir,
        cache_key="blend",
        progress=True,
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
