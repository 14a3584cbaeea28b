"""Measure a segmenter on a CCP folder: IoU per coarse class at the annotations' own resolution.

    python -m training.segmentation.evaluate --ccp ../shared/datasets/ccp --split val

Predictions are made by the same :class:`Segmenter` that serves the shop (so what is
measured is what runs), upsampled to each label map's size, and IoU is accumulated over
the whole set. The last line printed is the result as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch
from tqdm import tqdm

from recommender.ml.datasets.ccp import (
    COARSE_CLASSES,
    list_samples,
    read_label_mapping,
    read_sample,
    split_ids,
)
from recommender.ml.segmentation.inference import Segmenter
from training.segmentation.data import SPLIT_SEED, VAL_FRACTION
from training.segmentation.metrics import confusion, iou_report

SPLITS = ("all", "train", "val")


def evaluate_ccp(
    ccp_dir: str | os.PathLike,
    segmenter: Segmenter,
    *,
    ids: list[str] | None = None,
    progress: bool = True,
    batch_size: int = 8,
) -> dict:
    """``{"images": N, "iou": {class: x}, "miou": x}`` over every annotated photo (or just ``ids``)."""
    mapping = read_label_mapping(ccp_dir)
    samples = list_samples(ccp_dir)
    if ids is not None:
        wanted = set(ids)
        samples = [s for s in samples if s.id in wanted]
    matrix = np.zeros((len(COARSE_CLASSES), len(COARSE_CLASSES)), dtype=np.int64)
    bar = tqdm(total=len(samples), desc="evaluating", disable=not progress, mininterval=5)
    for start in range(0, len(samples), batch_size):
        pairs = [read_sample(sample, mapping) for sample in samples[start : start + batch_size]]
        predictions = segmenter.predict([image for image, _ in pairs], batch_size=batch_size)
        for (_, truth), (predicted, _) in zip(pairs, predictions, strict=True):
            matrix += confusion(predicted, truth, len(COARSE_CLASSES))
        bar.update(len(pairs))
    bar.close()
    return {"images": len(samples), **iou_report(matrix, COARSE_CLASSES)}


def split_of(ccp_dir: str | os.PathLike, split: str) -> list[str] | None:
    """Ids of the project's fixed split (seed 0, 15 % validation); ``None`` means every photo."""
    if split == "all":
        return None
    train, val = split_ids([s.id for s in list_samples(ccp_dir)], val_fraction=VAL_FRACTION, seed=SPLIT_SEED)
    return val if split == "val" else train


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.segmentation.evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--ccp", required=True, help="CCP folder (photos/, annotations/pixel-level/)")
    parser.add_argument("--split", choices=SPLITS, default="all", help="all photos, or the fixed train/val split")
    parser.add_argument("--name", default="unet-ccp", help="weights name")
    parser.add_argument("--weights-dir", default=None, help="default: the shipped recommender/ml/weights")
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--tta", action="store_true", help="average with the horizontally flipped photo")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    segmenter = Segmenter.load(args.device, args.name, args.weights_dir, tta_flip=args.tta)
    result = evaluate_ccp(
        args.ccp,
        segmenter,
        ids=split_of(args.ccp, args.split),
        progress=not args.no_progress,
        batch_size=args.batch_size,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
