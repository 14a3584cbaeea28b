"""Street garment crops: true-mask cut-outs on white, mapped to catalog classes, tiny ones skipped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from recommender.ml.datasets.ccp import LabelMapping
from training.embedding.data import (
    CATALOG_CLASS_BY_FINE,
    CATALOG_CLASSES,
    cut_out,
    fine_to_catalog_table,
    garment_crops,
    list_image_tree,
)

FIXTURES = Path(__file__).parent / "fixtures" / "clothing"
NAMES = ("null", "jeans", "t-shirt", "jacket", "blazer", "sneakers", "skin")


def mapping() -> LabelMapping:
    return LabelMapping(NAMES, np.zeros(256, dtype=np.uint8))


def test_a_cut_out_is_the_mask_bounding_box_with_everything_else_white():
    image = Image.new("RGB", (10, 8), (0, 0, 200))
    mask = np.zeros((8, 10), dtype=bool)
    mask[2:6, 3:5] = True
    mask[2, 6] = True
    crop = np.asarray(cut_out(image, mask))
    assert crop.shape == (4, 4, 3)
    assert (crop[:, :2] == (0, 0, 200)).all()
    assert (crop[0, 3] == (0, 0, 200)).all()
    assert (crop[1:, 2:] == 255).all()


def test_fine_labels_of_one_catalog_class_merge_into_one_crop_and_others_are_dropped():
    labels = np.zeros((100, 100), dtype=np.uint8)
    labels[10:40, 20:60] = NAMES.index("jacket")
    labels[40:50, 20:60] = NAMES.index("blazer")
    labels[55:95, 30:65] = NAMES.index("jeans")
    labels[95:100, 30:50] = NAMES.index("sneakers")
    image = Image.new("RGB", (100, 100), (50, 60, 70))
    crops = garment_crops("0001", image, labels, fine_to_catalog_table(mapping()))
    assert sorted((c.label, c.image.size) for c in crops) == [("outwear", (40, 40)), ("pants", (35, 40))]


def test_tiny_garments_are_skipped():
    labels = np.zeros((200, 200), dtype=np.uint8)
    labels[0:10, 0:10] = NAMES.index("t-shirt")
    crops = garment_crops("0001", Image.new("RGB", (200, 200)), labels, fine_to_catalog_table(mapping()))
    assert crops == []


def test_every_mapped_street_label_names_a_catalog_class():
    assert set(CATALOG_CLASS_BY_FINE.values()) <= set(CATALOG_CLASSES)


def test_a_folder_per_class_tree_lists_images_with_their_class():
    items = list_image_tree(FIXTURES)
    assert len(items) == 6
    assert {label for _, label in items} == {"dress", "pants", "t-shirt"}
    assert all(path.parent.name == label for path, label in items)
