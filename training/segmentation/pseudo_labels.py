"""Pseudo-labels for CCP's tagged photos: the segmenter's prediction, minus what the tags rule out.

    python -m training.segmentation.pseudo_labels --tagged ../shared/datasets/ccp-tagged \\
        --out runs/pseudo/ccp-tagged.npz [--name unet-ccp] [--tta] [--min-confidence 0.5]
    # how much the filters clean predictions where the truth is known (CCP validation):
    python -m training.segmentation.pseudo_labels --check-ccp ../shared/datasets/ccp --tta

``ccp-tagged`` has 1,094 street photos whose image-level tags list the fine CCP labels
present, but no pixel labels. For each photo the best segmenter predicts a class map; every
pixel predicted as a garment class that the tags do not contain (a "dress" in a photo
tagged only with a blouse and jeans) is set to :data:`IGNORE`, as are pixels below
``--min-confidence``. Ignored pixels count in no loss term (see ``train.segmentation_loss``):
the model is never taught something the tags contradict, and never taught that such a
pixel is background either.

The output is one ``.npz``: ``images`` (N, H, W, 3) uint8 photos at ``cache_scale`` times the
training size (room for the crop augmentation), ``labels`` (N, H, W) uint8 with 255 = ignored,
``ids``, and ``meta`` (JSON: the model version, thresholds, how many pixels were removed).
``train.py --pseudo FILE`` adds it to the training set.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from tqdm import tqdm

from core.images import open_image
from recommender.ml.datasets.ccp import COARSE_CLASSES, DatasetError, LabelMapping, read_label_mapping
from recommender.ml.segmentation.model import UNetConfig
from recommender.ml.segmentation.transforms import TrainAugment

#: Label value of pixels that no loss term sees.
IGNORE = 255


@dataclass(frozen=True)
class TaggedPhoto:
    id: str
    photo_path: Path
    tags_path: Path


def list_tagged(tagged_dir: str | os.PathLike) -> list[TaggedPhoto]:
    """Every photo of a ccp-tagged folder that has an image-level tag file, sorted by id."""
    tagged_dir = Path(tagged_dir)
    photos, tags = tagged_dir / "photos", tagged_dir / "annotations" / "image-level"
    if not photos.is_dir() or not tags.is_dir():
        raise DatasetError(f"{tagged_dir} must contain photos/ and annotations/image-level/")
    found = [
        TaggedPhoto(mat.stem, photos / f"{mat.stem}.jpg", mat)
        for mat in sorted(tags.glob("*.mat"))
        if (photos / f"{mat.stem}.jpg").exists()
    ]
    if not found:
        raise DatasetError(f"No tagged photos found under {tagged_dir}")
    return found


def read_tags(photo: TaggedPhoto) -> np.ndarray:
    """The fine label indices tagged in the photo (``tags``, a 1xK uint8 array in the .mat file)."""
    from scipy.io import loadmat

    return np.asarray(loadmat(str(photo.tags_path))["tags"], dtype=np.int64).ravel()


def allowed_classes(fine_tags: Iterable[int], mapping: LabelMapping) -> set[int]:
    """Coarse class indices the tags allow: background always, plus each tagged garment's class."""
    table = mapping.fine_to_coarse
    return {0} | {int(table[tag]) for tag in fine_tags if 0 <= int(tag) < len(table)}


def filter_by_tags(
    labels: np.ndarray,
    allowed: set[int],
    confidence: np.ndarray | None = None,
    *,
    min_confidence: float = 0.0,
) -> np.ndarray:
    """A copy of ``labels`` with pixels of classes outside ``allowed`` (and unsure pixels) set to IGNORE."""
    filtered = labels.astype(np.uint8, copy=True)
    ruled_out = ~np.isin(filtered, sorted(allowed))
    if confidence is not None and min_confidence > 0:
        ruled_out |= confidence < min_confidence
    filtered[ruled_out] = IGNORE
    return filtered


def make_pseudo_labels(
    tagged_dir: str | os.PathLike,
    segmenter,
    config: UNetConfig,
    *,
    min_confidence: float = 0.5,
    cache_scale: float = 1.25,
    limit: int | None = None,
    progress: bool = True,
) -> dict[str, np.ndarray | str]:
    """Predict, filter by tags and shrink every tagged photo; returns the arrays ``save_npz`` writes."""
    mapping = read_label_mapping(tagged_dir)
    photos = list_tagged(tagged_dir)[:limit]
    height, width = (round(side * cache_scale) for side in config.input_size)
    images, labels, ids = [], [], []
    removed = total = 0
    for photo in tqdm(photos, desc="pseudo-labelling", disable=not progress, mininterval=5):
        image = open_image(photo.photo_path)
        small = image.resize((width, height), Image.Resampling.BILINEAR)
        # Predict on the shrunk photo: its labels come back at exactly the stored size.
        ((predicted, confidence),) = segmenter.predict([small])
        allowed = allowed_classes(read_tags(photo), mapping)
        filtered = filter_by_tags(predicted, allowed, confidence, min_confidence=min_confidence)
        removed += int((filtered == IGNORE).sum())
        total += filtered.size
        images.append(np.asarray(small, dtype=np.uint8))
        labels.append(filtered)
        ids.append(photo.id)
    meta = {
        "source": str(tagged_dir),
        "model": getattr(segmenter, "version", "untracked"),
        "tta_flip": bool(getattr(segmenter, "tta_flip", False)),
        "min_confidence": min_confidence,
        "classes": list(COARSE_CLASSES),
        "photos": len(ids),
        "ignored_pixel_share": round(removed / max(1, total), 4),
    }
    return {
        "images": np.stack(images),
        "labels": np.stack(labels),
        "ids": np.asarray(ids),
        "meta": json.dumps(meta),
    }


def filter_check(ccp_dir: str | os.PathLike, segmenter, *, min_confidence: float = 0.5) -> dict[str, float | int]:
    """How much the filters clean predictions where the truth is known: CCP's validation photos.

    Each photo's "tags" are the fine labels of its true annotation, so a pixel the tag filter
    removes is always an error; the figures say how many of the model's errors that is, and
    what error rate remains on the pixels that stay (tags alone, then tags + confidence).
    """
    from recommender.ml.datasets.ccp import read_fine_labels, read_sample
    from training.segmentation.data import train_val_samples

    mapping = read_label_mapping(ccp_dir)
    _, samples = train_val_samples(ccp_dir)
    pixels = wrong = removed = removed_wrong = removed_both = removed_both_wrong = 0
    for sample in samples:
        image, truth = read_sample(sample, mapping)
        ((predicted, confidence),) = segmenter.predict([image])
        allowed = allowed_classes(np.unique(read_fine_labels(sample)), mapping)
        errors = predicted != truth
        by_tags = filter_by_tags(predicted, allowed) == IGNORE
        by_both = filter_by_tags(predicted, allowed, confidence, min_confidence=min_confidence) == IGNORE
        pixels += predicted.size
        wrong += int(errors.sum())
        removed += int(by_tags.sum())
        removed_wrong += int((by_tags & errors).sum())
        removed_both += int(by_both.sum())
        removed_both_wrong += int((by_both & errors).sum())
    return {
        "photos": len(samples),
        "pixel_error": round(wrong / pixels, 4),
        "tags_removed_share": round(removed / pixels, 4),
        "pixel_error_after_tags": round((wrong - removed_wrong) / (pixels - removed), 4),
        "tags_and_confidence_removed_share": round(removed_both / pixels, 4),
        "pixel_error_after_tags_and_confidence": round((wrong - removed_both_wrong) / (pixels - removed_both), 4),
    }


class PseudoLabelled(Dataset):
    """Training pairs from a pseudo-label ``.npz``, augmented like CCP (255 stays 255 through every resize)."""

    def __init__(self, path: str | os.PathLike, config: UNetConfig, *, seed: int = 0) -> None:
        with np.load(path) as data:
            self.images = data["images"]
            self.labels = data["labels"]
            self.ids = [str(i) for i in data["ids"]]
        self.augment = TrainAugment(config)
        self.config = config
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        # A separate stream from CCPSegmentation's (which uses [seed, epoch, index]).
        rng = np.random.default_rng([self.seed, self.epoch, index, 1])
        image, labels = self.augment(Image.fromarray(self.images[index]), self.labels[index], rng)
        return image, torch.from_numpy(labels.astype(np.int64))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.segmentation.pseudo_labels",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--tagged", help="ccp-tagged folder (photos/, annotations/image-level/)")
    parser.add_argument("--out", help="the .npz to write")
    parser.add_argument(
        "--check-ccp", default=None, metavar="CCP", help="instead: measure the filters on CCP's validation photos"
    )
    parser.add_argument("--name", default="unet-ccp", help="segmenter weights that label the photos")
    parser.add_argument("--weights-dir", default=None)
    parser.add_argument("--tta", action="store_true", help="average with the mirrored photo")
    parser.add_argument("--min-confidence", type=float, default=0.5, help="pixels below this max-softmax: ignored")
    parser.add_argument("--cache-scale", type=float, default=1.25, help="stored size / the segmenter's input size")
    parser.add_argument("--size", default=None, help="training HxW to store for (default: the segmenter's)")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from recommender.ml.segmentation.inference import Segmenter

    segmenter = Segmenter.load(None, args.name, args.weights_dir, tta_flip=args.tta)
    if args.check_ccp:
        print(json.dumps(filter_check(args.check_ccp, segmenter, min_confidence=args.min_confidence)))
        return
    if not args.tagged or not args.out:
        parser.error("--tagged and --out are required (or --check-ccp)")
    config = segmenter.config
    if args.size:
        height, width = (int(side) for side in args.size.lower().split("x"))
        config = UNetConfig.from_dict({**config.to_dict(), "input_size": [height, width]})
    arrays = make_pseudo_labels(
        args.tagged,
        segmenter,
        config,
        min_confidence=args.min_confidence,
        cache_scale=args.cache_scale,
        limit=args.limit,
        progress=not args.no_progress,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    print(json.dumps({"out": str(out), "bytes": out.stat().st_size, **json.loads(str(arrays["meta"]))}))


if __name__ == "__main__":
    main()
