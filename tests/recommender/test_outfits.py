"""Outfit photos and garments: stored once, cut from labels, coloured from their own pixels, embedded."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from recommender import inference
from recommender.ml.datasets.ccp import list_samples, read_label_mapping, read_sample
from recommender.ml.segmentation.inference import describe_labels
from recommender.models import Garment, OutfitPhoto
from recommender.services.outfits import garments_embed, garments_replace, street_photo_store

CCP = Path(__file__).parent / "ml" / "fixtures" / "ccp"


def _annotated(sample_index: int = 0):
    mapping = read_label_mapping(CCP)
    sample = list_samples(CCP)[sample_index]
    image, labels = read_sample(sample, mapping)
    return sample, image, labels


@pytest.mark.django_db
def test_a_street_photo_stored_twice_is_one_row_with_one_set_of_garments(embedder_weights_dir):
    sample, image, labels = _annotated()
    cuts = describe_labels(image, labels).garments
    assert len(cuts) >= 2  # the fixture shows an outfit

    for _ in range(2):
        photo = street_photo_store(source=OutfitPhoto.Source.STREET_ANNOTATED, external_id=sample.id, image=image)
        rows = garments_replace(photo=photo, cuts=cuts, origin=Garment.Origin.ANNOTATION)
        garments_embed(garments=rows, crops=[c.crop for c in cuts])

    assert OutfitPhoto.objects.count() == 1
    assert Garment.objects.count() == len(cuts)
    photo.refresh_from_db()
    assert max(photo.width, photo.height) == max(image.size)
    assert max(Image.open(photo.image).size) <= 640
    for garment in Garment.objects.all():
        assert garment.is_street
        assert garment.embedder_version == inference.current_model_version()
        assert np.linalg.norm(np.asarray(garment.embedding)) == pytest.approx(1.0, abs=1e-3)
        assert garment.crop.name.endswith(".jpg")
        assert 0 <= garment.colour["lab_mean"][0] <= 100


@pytest.mark.django_db
def test_garment_colour_comes_from_its_mask_not_its_surroundings():
    pixels = np.zeros((40, 40, 3), dtype=np.uint8)
    pixels[:] = (20, 120, 20)  # green grass around
    pixels[10:30, 10:30] = (200, 10, 10)  # a red top
    labels = np.zeros((40, 40), dtype=np.uint8)
    labels[10:30, 10:30] = 1
    image = Image.fromarray(pixels)
    cut = describe_labels(image, labels).garments[0]
    photo = street_photo_store(source=OutfitPhoto.Source.STREET_ANNOTATED, external_id="synthetic", image=image)
    [row] = garments_replace(photo=photo, cuts=[cut], origin=Garment.Origin.ANNOTATION)

    lightness, a, b = row.colour["lab_mean"]
    assert a > 60 and b > 40  # red, with no green mixed in
    assert row.colour["pixels"] == 400
