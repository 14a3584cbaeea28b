"""Curators' model page: what serves, what it measured, and a segmentation preview of a photo."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recommender.ml.weights import read_manifest
from tests.factories import UserFactory
from tests.images import truncated_jpeg

pytestmark = pytest.mark.django_db
CCP_PHOTOS = Path(__file__).parent / "ml" / "fixtures" / "ccp" / "photos"


@pytest.fixture
def curator(client):
    client.force_login(UserFactory(username="curator", is_staff=True, is_superuser=True))
    return client


def test_the_models_page_names_each_model_and_the_active_background_remover(curator, embedder_weights_dir):
    html = curator.get(reverse("admin:recommender-models")).content.decode()
    assert "Segmentation (U-Net)" in html and "Garment vectors (ResNet34)" in html
    assert "Background removal for product photos" in html
    assert "val mIoU" in html  # the shipped U-Net's measured validation IoU, from its manifest


def test_a_street_photo_is_segmented_with_an_overlay_and_garment_crops(curator, embedder_weights_dir):
    photo = sorted(CCP_PHOTOS.glob("*.jpg"))[0]
    upload = SimpleUploadedFile(photo.name, photo.read_bytes(), content_type="image/jpeg")
    html = curator.post(reverse("admin:recommender-models"), {"photo": upload}).content.decode()
    assert 'alt="Segmentation overlay"' in html
    assert "of the photo · confidence" in html  # at least one garment found in a real outfit photo


def test_a_broken_upload_is_a_form_error_and_nothing_is_analysed(curator, embedder_weights_dir):
    upload = SimpleUploadedFile("x.jpg", truncated_jpeg(), content_type="image/jpeg")
    html = curator.post(reverse("admin:recommender-models"), {"photo": upload}).content.decode()
    assert "damaged or truncated" in html and "Segmentation overlay" not in html


def test_customers_cannot_open_the_models_page(client):
    client.force_login(UserFactory(username="shopper"))
    assert client.get(reverse("admin:recommender-models")).status_code == 302


@pytest.mark.parametrize("tta", [True, False])
def test_the_models_page_shows_the_segmentation_iou_of_the_configuration_in_service(
    curator, embedder_weights_dir, settings, tta
):
    settings.RECOMMENDER_SEGMENTATION_TTA = tta
    meta = read_manifest("unet-ccp")
    served, other = ("val_metrics_tta_flip", "val_metrics") if tta else ("val_metrics", "val_metrics_tta_flip")
    assert meta[served]["miou"] != meta[other]["miou"]
    html = curator.get(reverse("admin:recommender-models")).content.decode()
    assert f"val mIoU: {meta[served]['miou']:.3f}" in html
    assert f"val mIoU: {meta[other]['miou']:.3f}" not in html


def test_the_models_page_shows_the_look_alike_weights_in_service(curator, embedder_weights_dir):
    from recommender import inference

    weights = inference.look_weights()
    html = curator.get(reverse("admin:recommender-models")).content.decode()
    assert "Look-alikes (shape + colour + pattern)" in html
    assert f"weight colour: {weights.colour:.3f}" in html and f"weight shape: {weights.shape:.3f}" in html
