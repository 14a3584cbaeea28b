"""Outfit photos and garments: stored once, cut from labels, coloured from their own pixels, embedded."""

import io
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


def _tagged_folder(root: Path) -> Path:
    """A ccp-tagged-style folder from the committed fixtures: 0016 tagged with what it shows, 0029 also
    tagged with a dress the segmenter will not find there, so that one is dropped."""
    import shutil

    from scipy.io import savemat

    from recommender.ml.datasets.ccp import read_fine_labels

    tagged = root / "ccp-tagged"
    (tagged / "photos").mkdir(parents=True)
    (tagged / "annotations" / "image-level").mkdir(parents=True)
    for name in ("label_list.mat", "coarse_labels.json"):
        shutil.copy(CCP / name, tagged / name)
    mapping = read_label_mapping(CCP)
    samples = {s.id: s for s in list_samples(CCP)}
    true_tags = np.unique(read_fine_labels(samples["0016"]))
    with_a_dress = [mapping.fine_names.index(name) for name in ("t-shirt", "jeans", "dress")]
    for photo_id, tags in (("0016", true_tags[true_tags > 0]), ("0029", with_a_dress)):
        shutil.copy(CCP / "photos" / f"{photo_id}.jpg", tagged / "photos" / f"{photo_id}.jpg")
        savemat(tagged / "annotations" / "image-level" / f"{photo_id}.mat", {"tags": np.asarray([tags], np.uint8)})
    return tagged


@pytest.mark.django_db
def test_ingest_outfits_keeps_and_drops_with_reasons_and_running_it_again_changes_nothing(
    embedder_weights_dir, tmp_path, settings
):
    from django.core.management import call_command

    settings.MEDIA_ROOT = str(tmp_path / "media")
    tagged = _tagged_folder(tmp_path)
    out = io.StringIO()
    call_command("ingest_outfits", ccp=str(CCP), tagged=str(tagged), stdout=out, stderr=io.StringIO())

    report = out.getvalue()
    assert "kept 3 street_annotated photos" in report
    assert "kept 1 street_tagged photos" in report
    assert "dropped 1: tags say dress; none found" in report
    photos = set(OutfitPhoto.objects.values_list("source", "external_id"))
    assert ("street_tagged", "0016") in photos and ("street_tagged", "0029") not in photos
    tagged_photo = OutfitPhoto.objects.get(source="street_tagged")
    assert tagged_photo.segmenter_version and tagged_photo.garments.filter(origin="segmenter").exists()
    rows = sorted(Garment.objects.values_list("pk", "embedder_version"))

    again = io.StringIO()
    call_command("ingest_outfits", ccp=str(CCP), tagged=str(tagged), stdout=again, stderr=io.StringIO())
    assert "already current, left alone: 4" in again.getvalue()
    assert sorted(Garment.objects.values_list("pk", "embedder_version")) == rows


def test_ingest_outfits_needs_a_folder():
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--ccp"):
        call_command("ingest_outfits")
