"""CPU speed and accuracy of the serving configurations, against a plain baseline in the same run.

::

    python -m training.embedding.benchmark --catalog ../shared/datasets/clothing-small --threads 2

For each configuration it prints one JSON line with:

* ``model_img_s`` — network only, on ready tensors (batch ``--batch-size``);
* ``end_to_end_img_s`` — JPEG decode (``open_image``) + preprocessing + network, over
  the validation photos, i.e. what an import job sees;
* ``top1`` / ``precision_at_10`` — cosine kNN of catalog validation photos against
  the catalog train gallery, so speed is compared at measured accuracy;
* ``speedup`` — ratio of ``model_img_s`` to the baseline's, from this very run.

Configurations: ``baseline`` (fp32, NCHW, 224 px — the reference setting), the
shipped input size in NCHW, the shipped size channels-last, and ONNX Runtime at
the shipped size without and with test-time flip (two network passes per image).
``production`` marks what `Embedder` runs on CPU for the shipped manifest.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from recommender.ml.embedding.inference import Embedder, Runner, onnx_runner, torch_runner
from recommender.ml.embedding.model import GarmentEmbedder, load_embedder
from recommender.ml.embedding.preprocess import PreprocessConfig
from training.embedding.data import list_image_tree
from training.embedding.evaluate import embed_items, embed_tree
from training.embedding.knn import knn_metrics


def plain_runner(model: GarmentEmbedder) -> Runner:
    """The reference way to run a ResNet: fp32, default (NCHW) memory layout."""
    model = model.eval()

    def run(batch: torch.Tensor) -> np.ndarray:
        with torch.inference_mode():
            return model(batch).numpy()

    return run


def plain_embedder(weights_dir: str | Path | None = None, size: int = 224) -> Embedder:
    """The same weights run the reference way: fp32 torch, NCHW, ``size`` px, no test-time flip."""
    model, weights = load_embedder(directory=weights_dir)
    shipped = PreprocessConfig.from_meta(weights.meta)
    config = PreprocessConfig(size, shipped.mean, shipped.std)
    return Embedder(plain_runner(model), config, weights.sha256, weights.meta, test_time_flip=False)


def served_versus_plain(
    items: Sequence[tuple[Path, str]],
    *,
    weights_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    baseline_size: int = 224,
    k: int = 10,
) -> dict[str, dict[str, float]]:
    """Leave-one-out cosine kNN over ``items`` with the served :class:`Embedder` and with the plain one.

    Same weights, same images, same run: ``served`` is exactly what ``Embedder.load`` gives on CPU
    (the manifest's input size and test-time flip, ONNX Runtime), ``plain`` is fp32 torch at
    ``baseline_size`` without the flip.
    """
    served = Embedder.load(device="cpu", directory=weights_dir, cache_dir=cache_dir)
    results = {}
    for name, embedder in (("served", served), ("plain", plain_embedder(weights_dir, baseline_size))):
        vectors, labels = embed_items(items, embedder)
        metrics = knn_metrics(vectors, labels, vectors, labels, k=k, exclude_self=True)
        results[name] = {"input_size": embedder.preprocess.size, "test_time_flip": embedder.test_time_flip, **metrics}
    return results


def model_throughput(runner: Runner, size: int, batch_size: int, batches: int) -> float:
    """Images per second of the network alone, after one warm-up batch."""
    batch = torch.randn(batch_size, 3, size, size)
    runner(batch)
    started = time.perf_counter()
    for _ in range(batches):
        runner(batch)
    return batch_size * batches / (time.perf_counter() - started)


def measure(name: str, embedder: Embedder, catalog: Path, args: argparse.Namespace) -> dict[str, float | str]:
    """Speed (network alone and end to end) and catalog kNN accuracy of one configuration."""
    speed = model_throughput(embedder._forward, embedder.preprocess.size, args.batch_size, args.batches)
    started = time.perf_counter()
    queries, query_labels = embed_tree(catalog / "validation", embedder)
    end_to_end = len(queries) / (time.perf_counter() - started)
    gallery_items = list_image_tree(catalog / "train")
    if args.max_gallery:
        gallery_items = gallery_items[:: max(1, len(gallery_items) // args.max_gallery)]
    metrics = knn_metrics(queries, query_labels, *embed_items(gallery_items, embedder), k=10)
    return {
        "config": name,
        "input_size": embedder.preprocess.size,
        "model_img_s": round(speed, 1),
        "end_to_end_img_s": round(end_to_end, 1),
        "gallery": len(gallery_items),
        "top1": round(metrics["top1"], 4),
        "precision_at_10": round(metrics["precision_at_k"], 4),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", required=True, help="clothing-small root with train/ and validation/")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--weights-dir", default=None)
    parser.add_argument("--baseline-size", type=int, default=224)
    parser.add_argument("--max-gallery", type=int, default=0, help="subsample the train gallery (0: all)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    catalog = Path(args.catalog)
    model, weights = load_embedder(directory=args.weights_dir)
    shipped = PreprocessConfig.from_meta(weights.meta)
    baseline_config = PreprocessConfig(args.baseline_size, shipped.mean, shipped.std)
    flip = bool(weights.meta.get("test_time_flip", False))
    with tempfile.TemporaryDirectory() as cache:
        onnx = onnx_runner(load_embedder(directory=args.weights_dir)[0], shipped.size, weights.sha256, Path(cache))
        configs = {
            f"baseline_fp32_nchw_{args.baseline_size}": (plain_runner(model), baseline_config, False),
            f"fp32_nchw_{shipped.size}": (plain_runner(model), shipped, False),
            f"torch_fp32_channels_last_{shipped.size}": (
                torch_runner(load_embedder(directory=args.weights_dir)[0], torch.device("cpu")),
                shipped,
                False,
            ),
            f"onnxruntime_fp32_{shipped.size}": (onnx, shipped, False),
            f"onnxruntime_fp32_{shipped.size}_flip": (onnx, shipped, True),
        }
        results = []
        for name, (runner, config, test_time_flip) in configs.items():
            embedder = Embedder(runner, config, weights.sha256, weights.meta, test_time_flip=test_time_flip)
            result = measure(name, embedder, catalog, args)
            result["production"] = runner is onnx and test_time_flip == flip
            result["speedup"] = round(
                result["model_img_s"] / (results[0]["model_img_s"] if results else result["model_img_s"]), 2
            )
            results.append(result)
            print(json.dumps(result), flush=True)
    print(json.dumps({"threads": args.threads, "model": weights.sha256, "results": results}), flush=True)


if __name__ == "__main__":
    main()
