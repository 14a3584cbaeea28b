"""Reader for Clothing Co-Parsing (CCP) in its original format.

Layout (see ``../shared/datasets/README.md``)::

    DIR/photos/NNNN.jpg
    DIR/annotations/pixel-level/NNNN.mat     # variable ``groundtruth``: HxW uint8 fine labels
    DIR/label_list.mat                       # variable ``label_list``: 1x59 cell of names
    DIR/coarse_labels.json                   # optional: fine label -> background/top/bottom/dress

Fine labels are mapped to the four coarse classes with a lookup table, so a whole
label map converts in one numpy indexing operation.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from core.images import open_image

COARSE_CLASSES: tuple[str, ...] = ("background", "top", "bottom", "dress")
BACKGROUND, TOP, BOTTOM, DRESS = range(4)

# Used when a CCP folder has no coarse_labels.json: the project's mapping, by fine label name.
_DEFAULT_COARSE_BY_NAME: dict[str, str] = {
    **{
        n: "top"
        for n in (
            "blazer",
            "blouse",
            "bodysuit",
            "cape",
            "cardigan",
            "coat",
            "hoodie",
            "jacket",
            "jumper",
            "shirt",
            "suit",
            "sweater",
            "sweatshirt",
            "t-shirt",
            "top",
            "vest",
        )
    },
    **{n: "bottom" for n in ("jeans", "leggings", "pants", "shorts", "skirt")},
    **{n: "dress" for n in ("dress", "romper", "swimwear")},
}


class DatasetError(ValueError):
    """The dataset folder is not laid out as expected."""


@dataclass(frozen=True)
class CCPSample:
    id: str
    photo_path: Path
    annotation_path: Path


@dataclass(frozen=True)
class LabelMapping:
    """Fine CCP labels and their coarse classes."""

    fine_names: tuple[str, ...]
    fine_to_coarse: np.ndarray  # uint8 lookup table, index = fine label

    def coarse(self, fine_map: np.ndarray) -> np.ndarray:
        """Map an HxW array of fine labels to coarse class indices (unknown labels -> background)."""
        table = self.fine_to_coarse
        clipped = np.where(fine_map < len(table), fine_map, 0)
        return table[clipped]

    def fine_name(self, index: int) -> str:
        return self.fine_names[index] if 0 <= index < len(self.fine_names) else "null"


def read_label_names(ccp_dir: str | os.PathLike) -> tuple[str, ...]:
    ccp_dir = Path(ccp_dir)
    mapping_path = ccp_dir / "coarse_labels.json"
    if mapping_path.exists():
        labels = json.loads(mapping_path.read_text())["labels"]
        names = [""] * (max(item["index"] for item in labels) + 1)
        for item in labels:
            names[item["index"]] = item["name"]
        return tuple(names)
    label_path = ccp_dir / "label_list.mat"
    if not label_path.exists():
        raise DatasetError(f"{ccp_dir} has neither coarse_labels.json nor label_list.mat")
    from scipy.io import loadmat

    cells = loadmat(str(label_path))["label_list"].ravel()
    return tuple(str(np.asarray(cell).ravel()[0]) if np.asarray(cell).size else "" for cell in cells)


def read_label_mapping(ccp_dir: str | os.PathLike) -> LabelMapping:
    """The fine→coarse mapping: ``DIR/coarse_labels.json`` when present, else the project default."""
    ccp_dir = Path(ccp_dir)
    mapping_path = ccp_dir / "coarse_labels.json"
    if mapping_path.exists():
        data = json.loads(mapping_path.read_text())
        classes = tuple(data.get("classes", COARSE_CLASSES))
        if classes != COARSE_CLASSES:
            raise DatasetError(f"coarse_labels.json classes {classes} differ from {COARSE_CLASSES}")
        size = max(item["index"] for item in data["labels"]) + 1
        table = np.zeros(max(size, 256), dtype=np.uint8)
        fine_names = [""] * size
        for item in data["labels"]:
            table[item["index"]] = COARSE_CLASSES.index(item["coarse"])
            fine_names[item["index"]] = item["name"]
        return LabelMapping(tuple(fine_names), table)
    names = read_label_names(ccp_dir)
    table = np.zeros(256, dtype=np.uint8)
    for index, name in enumerate(names):
        coarse = _DEFAULT_COARSE_BY_NAME.get(name, "background")
        table[index] = COARSE_CLASSES.index(coarse)
    return LabelMapping(names, table)


def list_samples(ccp_dir: str | os.PathLike) -> list[CCPSample]:
    """Every photo that has a pixel-level annotation, sorted by id."""
    ccp_dir = Path(ccp_dir)
    photos = ccp_dir / "photos"
    annotations = ccp_dir / "annotations" / "pixel-level"
    if not photos.is_dir() or not annotations.is_dir():
        raise DatasetError(f"{ccp_dir} must contain photos/ and annotations/pixel-level/")
    samples = []
    for mat in sorted(annotations.glob("*.mat")):
        photo = photos / f"{mat.stem}.jpg"
        if photo.exists():
            samples.append(CCPSample(mat.stem, photo, mat))
    if not samples:
        raise DatasetError(f"No annotated photos found under {ccp_dir}")
    return samples


def read_fine_labels(sample: CCPSample) -> np.ndarray:
    """The HxW uint8 fine label map of ``sample``."""
    from scipy.io import loadmat

    return np.asarray(loadmat(str(sample.annotation_path))["groundtruth"], dtype=np.uint8)


def read_sample(sample: CCPSample, mapping: LabelMapping) -> tuple[Image.Image, np.ndarray]:
    """The RGB photo and its HxW coarse label map (uint8, values 0..3), same size."""
    image = open_image(sample.photo_path)
    coarse = mapping.coarse(read_fine_labels(sample))
    if coarse.shape != (image.height, image.width):
        # A few photos carry EXIF rotation that the annotation ignores: keep the raw orientation.
        with Image.open(sample.photo_path) as raw:
            image = raw.convert("RGB")
        if coarse.shape != (image.height, image.width):
            raise DatasetError(
                f"Annotation {sample.annotation_path.name} is {coarse.shape[::-1]} but the photo is {image.size}"
            )
    return image, coarse


def split_ids(ids: list[str], *, val_fraction: float = 0.15, seed: int = 0) -> tuple[list[str], list[str]]:
    """A fixed, reproducible train/validation split of sample ids.

    The split depends only on the ids and the seed, so every training and
    evaluation run agrees on which photos are held out.
    """
    rng = np.random.default_rng(seed)
    order = sorted(ids)
    rng.shuffle(order)
    n_val = max(1, int(round(len(order) * val_fraction)))
    val = sorted(order[:n_val])
    train = sorted(order[n_val:])
    return train, val
