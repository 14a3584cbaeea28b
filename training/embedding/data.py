"""Training and evaluation data: catalog folder trees and garments cut out of CCP street photos.

Street crops use the *true* CCP mask: the garment's pixels are kept, everything
else turns white (the padding colour of :mod:`.preprocess`), and the crop is the
mask's bounding box. Fine CCP labels map onto the ten catalog classes with
:data:`CATALOG_CLASS_BY_FINE`; labels with no catalog counterpart (footwear, bags,
swimwear, jewellery, skin…) are skipped. Footwear is skipped even though the
catalog has ``shoes``: the two feet are separate blobs whose bounding box is
mostly background, nothing like a product photo of a pair.

The CCP train/validation split is :func:`recommender.ml.datasets.ccp.split_ids`
with seed 0 and 15 % validation, so validation street crops are never trained on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from core.images import open_image
from recommender.ml.datasets import ccp

CATALOG_CLASSES: tuple[str, ...] = (
    "dress",
    "hat",
    "longsleeve",
    "outwear",
    "pants",
    "shirt",
    "shoes",
    "shorts",
    "skirt",
    "t-shirt",
)

CATALOG_CLASS_BY_FINE: dict[str, str] = {
    **dict.fromkeys(("jeans", "pants", "leggings"), "pants"),
    "shorts": "shorts",
    "skirt": "skirt",
    **dict.fromkeys(("dress", "romper"), "dress"),
    **dict.fromkeys(("t-shirt", "top", "bodysuit"), "t-shirt"),
    **dict.fromkeys(("shirt", "blouse"), "shirt"),
    **dict.fromkeys(("coat", "jacket", "blazer", "cape", "vest", "suit"), "outwear"),
    **dict.fromkeys(("sweater", "cardigan", "jumper", "hoodie", "sweatshirt"), "longsleeve"),
    "hat": "hat",
}

CCP_SPLIT_SEED = 0
CCP_VAL_FRACTION = 0.15
#: A crop whose mask covers less of the photo than this is a sliver (a collar, a strap): skipped.
MIN_MASK_FRACTION = 0.005
#: Crops narrower or shorter than this (pixels) carry too little to identify the garment.
MIN_CROP_SIDE = 32
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


@dataclass(frozen=True)
class GarmentCrop:
    """One garment cut out of a street photo, on white."""

    sample_id: str
    label: str
    image: Image.Image


def list_image_tree(root: str | os.PathLike) -> list[tuple[Path, str]]:
    """``(path, class)`` for every image of a folder-per-class tree, sorted for reproducibility."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    items = [
        (path, class_dir.name)
        for class_dir in sorted(p for p in root.iterdir() if p.is_dir())
        for path in sorted(class_dir.iterdir())
        if path.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not items:
        raise FileNotFoundError(f"{root} holds no images in class folders")
    return items


def cut_out(image: Image.Image, mask: np.ndarray) -> Image.Image:
    """The bounding box of ``mask`` with every pixel outside the mask set to white."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    pixels = np.asarray(image.convert("RGB"))[top:bottom, left:right].copy()
    pixels[~mask[top:bottom, left:right]] = 255
    return Image.fromarray(pixels)


def fine_to_catalog_table(mapping: ccp.LabelMapping) -> np.ndarray:
    """Lookup table fine label index → catalog class index, −1 where the label is skipped."""
    table = np.full(256, -1, dtype=np.int16)
    for index, name in enumerate(mapping.fine_names):
        if name in CATALOG_CLASS_BY_FINE:
            table[index] = CATALOG_CLASSES.index(CATALOG_CLASS_BY_FINE[name])
    return table


def garment_crops(sample_id: str, image: Image.Image, fine_labels: np.ndarray, table: np.ndarray) -> list[GarmentCrop]:
    """One crop per catalog class worn in the photo (its fine labels' masks merged), tiny ones skipped."""
    classes = table[fine_labels]
    crops = []
    for class_index in np.unique(classes[classes >= 0]):
        mask = classes == class_index
        if mask.sum() < MIN_MASK_FRACTION * mask.size:
            continue
        crop = cut_out(image, mask)
        if min(crop.size) < MIN_CROP_SIDE:
            continue
        crops.append(GarmentCrop(sample_id, CATALOG_CLASSES[class_index], crop))
    return crops


def ccp_split(ccp_dir: str | os.PathLike, split: str) -> list[ccp.CCPSample]:
    """The CCP samples of ``split`` (``train``, ``val`` or ``all``), using the project's fixed split."""
    samples = ccp.list_samples(ccp_dir)
    if split == "all":
        return samples
    if split not in ("train", "val"):
        raise ValueError(f"split must be train, val or all, not {split!r}")
    train_ids, val_ids = ccp.split_ids([s.id for s in samples], val_fraction=CCP_VAL_FRACTION, seed=CCP_SPLIT_SEED)
    keep = set(train_ids if split == "train" else val_ids)
    return [s for s in samples if s.id in keep]


def street_crops(ccp_dir: str | os.PathLike, split: str) -> Iterator[GarmentCrop]:
    """Every garment crop of the CCP ``split``, photo by photo."""
    mapping = ccp.read_label_mapping(ccp_dir)
    table = fine_to_catalog_table(mapping)
    for sample in ccp_split(ccp_dir, split):
        image, _ = ccp.read_sample(sample, mapping)  # handles photos whose EXIF rotation the labels ignore
        yield from garment_crops(sample.id, image, ccp.read_fine_labels(sample), table)


def shrink(image: Image.Image, longest: int) -> Image.Image:
    """A copy no longer than ``longest`` on its long side: keeps an in-memory training cache small."""
    scale = longest / max(image.size)
    if scale >= 1:
        return image.copy()
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR)


class ImageDataset(Dataset):
    """In-memory PIL images with class indices, each passed through ``transform`` on access."""

    def __init__(
        self,
        images: Sequence[Image.Image],
        labels: Sequence[int],
        transform: Callable[[Image.Image], torch.Tensor],
        domains: Sequence[int] | None = None,
    ) -> None:
        self.images = list(images)
        self.labels = torch.as_tensor(list(labels), dtype=torch.long)
        self.domains = torch.as_tensor(list(domains) if domains is not None else [0] * len(self.images))
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.transform(self.images[index]), self.labels[index], self.domains[index]


def load_catalog(root: str | os.PathLike, longest: int) -> tuple[list[Image.Image], list[int]]:
    """A catalog tree decoded once, shrunk to ``longest`` px, for training epochs."""
    images, labels = [], []
    for path, name in list_image_tree(root):
        images.append(shrink(open_image(path), longest))
        labels.append(CATALOG_CLASSES.index(name))
    return images, labels
