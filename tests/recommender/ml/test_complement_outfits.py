"""Outfit photos read as garments in slots: true labels, and the segmenter checked against tags."""

from pathlib import Path

import numpy as np
import pytest

from recommender.ml.complement.outfits import (
    OUTERWEAR_LABELS,
    catalog_garment,
    outfit_from_annotation,
    outfit_from_segmentation,
    relabel_with_tags,
    slot_of,
)
from recommender.ml.datasets.ccp import COARSE_CLASSES, list_samples, read_fine_labels, read_label_mapping, read_sample
from recommender.ml.segmentation.inference import describe_labels

CCP = Path(__file__).parent / "fixtures" / "ccp"


def _photo(photo_id):
    mapping = read_label_mapping(CCP)
    sample = next(s for s in list_samples(CCP) if s.id == photo_id)
    image, coarse = read_sample(sample, mapping)
    return image, read_fine_labels(sample), coarse, mapping


def test_an_annotated_photo_gives_its_top_and_bottom_with_majority_fine_labels():
    image, fine, _, mapping = _photo("0016")
    reading = outfit_from_annotation(image, fine, mapping)
    assert reading.dropped is None
    slots = {g.slot for g in reading.garments}
    assert {"bottom"} <= slots and slots & {"top", "outerwear"}
    for garment in reading.garments:
        x0, y0, x1, y1 = garment.bbox
        assert garment.crop.size == (x1 - x0, y1 - y0)
        assert garment.mask.shape == (y1 - y0, x1 - x0) and garment.mask.dtype == bool
        assert 0 < garment.pixel_share < 1
        assert mapping.fine_names.index(garment.fine_label) in np.unique(fine[y0:y1, x0:x1][garment.mask])
        assert slot_of("top" if garment.slot == "outerwear" else garment.slot, garment.fine_label) == garment.slot


def test_a_dress_photo_has_a_dress_and_no_bottom():
    image, fine, _, mapping = _photo("0029")
    reading = outfit_from_annotation(image, fine, mapping)
    assert "dress" in {g.slot for g in reading.garments}
    assert reading.garment("bottom") is None


def test_jackets_and_coats_are_outerwear_and_shirts_are_tops():
    assert slot_of("top", "jacket") == "outerwear" and slot_of("top", "coat") == "outerwear"
    assert slot_of("top", "t-shirt") == "top" and slot_of("bottom", "jeans") == "bottom"
    assert {"blazer", "cardigan", "coat", "jacket"} <= OUTERWEAR_LABELS


def test_segmenter_garments_that_match_the_tags_are_kept_with_fine_labels_from_the_tags():
    image, _, coarse, _ = _photo("0016")
    segmentation = describe_labels(image, coarse, classes=COARSE_CLASSES)
    reading = outfit_from_segmentation(image, segmentation, ["hair", "coat", "t-shirt", "jeans", "skin"])
    assert reading.dropped is None
    by_slot = {g.slot: g.fine_label for g in reading.garments}
    assert by_slot == {"outerwear": "coat", "bottom": "jeans"}


def test_a_photo_whose_tags_name_a_bottom_the_segmenter_did_not_find_is_dropped_with_the_reason():
    image, _, coarse, _ = _photo("0016")
    no_bottom = np.where(coarse == COARSE_CLASSES.index("bottom"), 0, coarse).astype(np.uint8)
    segmentation = describe_labels(image, no_bottom, classes=COARSE_CLASSES)
    reading = outfit_from_segmentation(image, segmentation, ["t-shirt", "jeans"])
    assert reading.dropped == "tags say bottom; none found"
    assert reading.garments == []


def test_a_garment_found_where_no_tag_names_one_drops_the_photo():
    image, _, coarse, _ = _photo("0016")  # a top and jeans
    segmentation = describe_labels(image, coarse, classes=COARSE_CLASSES)
    reading = outfit_from_segmentation(image, segmentation, ["t-shirt"])
    assert reading.dropped == "found bottom; no tag names it" and not reading.usable


def test_trousers_the_segmenter_calls_a_dress_become_the_bottom_when_the_tags_say_so():
    labels = np.zeros((100, 40), dtype=np.uint8)
    labels[10:45] = COARSE_CLASSES.index("top")
    labels[45:95] = COARSE_CLASSES.index("dress")
    fixed = relabel_with_tags(labels, {"top", "bottom"})
    assert (fixed == COARSE_CLASSES.index("dress")).sum() == 0
    assert (fixed[60:95] == COARSE_CLASSES.index("bottom")).all()
    assert (fixed[10:40] == COARSE_CLASSES.index("top")).all()
    # A dress tagged without a bottom absorbs "bottom" pixels.
    skirt = labels.copy()
    skirt[45:95] = COARSE_CLASSES.index("bottom")
    assert (relabel_with_tags(skirt, {"dress"})[45:95] == COARSE_CLASSES.index("dress")).all()


def test_customer_photos_without_tags_keep_whatever_the_segmenter_found_or_say_why_not():
    image, _, coarse, _ = _photo("0046")
    assert outfit_from_segmentation(image, describe_labels(image, coarse, classes=COARSE_CLASSES)).usable
    empty = describe_labels(image, np.zeros_like(coarse), classes=COARSE_CLASSES)
    assert outfit_from_segmentation(image, empty).dropped == "no garment found"


def test_a_catalog_photo_stands_for_its_garment_or_for_itself_when_nothing_is_found():
    image, _, coarse, _ = _photo("0046")
    segmentation = describe_labels(image, coarse, classes=COARSE_CLASSES)
    crop, mask = catalog_garment(image, segmentation, "bottom")
    assert mask is not None and mask.shape == crop.size[::-1]
    bottom = next(g for g in segmentation.garments if g.kind == "bottom")
    assert crop.size == bottom.crop.size
    crop, mask = catalog_garment(image, describe_labels(image, np.zeros_like(coarse)), "top")
    assert mask is None and crop.size == image.size


@pytest.mark.parametrize("photo_id", ["0016", "0029", "0046"])
def test_annotated_garments_are_cut_exactly_as_describe_labels_cuts_them(photo_id):
    image, fine, coarse, mapping = _photo(photo_id)
    reading = outfit_from_annotation(image, fine, mapping)
    reference = describe_labels(image, coarse, classes=COARSE_CLASSES)
    assert [g.bbox for g in reading.garments] == [g.bbox for g in reference.garments]
