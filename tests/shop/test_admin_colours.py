"""Curators see the garment mask and the measured colours, and can correct them for good."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from shop.models import Product
from shop.services.catalog import product_image_process
from tests.factories import ProductFactory, UserFactory
from tests.images import jpeg_bytes
from tests.shop.test_admin import _product_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator_client(client):
    client.force_login(UserFactory(username="curator", is_staff=True, is_superuser=True))
    return client


def test_the_product_page_shows_the_mask_overlay_and_the_measured_colours(curator_client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    product = ProductFactory(
        image=ContentFile(jpeg_bytes((30, 40, 75), size=(240, 320), background=(200, 160, 110)), name="n.jpg"),
        image_sha256="d" * 64,
    )
    product_image_process(product_id=product.pk, analyse=True)
    html = curator_client.get(reverse("admin:shop_product_change", args=[product.pk])).content.decode()
    assert 'alt="garment mask"' in html and "d" * 64 + ".png" in html
    assert "navy" in html and "Measured from the garment mask" in html


def test_a_curator_sees_why_a_colour_is_unknown(curator_client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    blank = jpeg_bytes((230, 230, 228), size=(240, 320), background=(230, 230, 228))
    product = ProductFactory(image=ContentFile(blank, name="b.jpg"), image_sha256="e" * 64)
    product_image_process(product_id=product.pk, analyse=True)
    html = curator_client.get(reverse("admin:shop_product_change", args=[product.pk])).content.decode()
    assert "No garment was found in the photo" in html


def test_a_curator_corrects_the_colours_in_the_admin_and_they_are_locked(curator_client):
    product = ProductFactory()
    url = reverse("admin:shop_product_change", args=[product.pk])
    response = curator_client.post(
        url, _product_form(product, colours_text="burgundy 70, sand 30", pattern_choice="striped")
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.colour_names == ["burgundy", "sand"] and product.pattern == "striped"
    assert product.colours_source == Product.ColoursSource.CURATOR and product.colour == "red"


def test_the_admin_refuses_a_colour_outside_the_palette_with_a_form_error(curator_client):
    product = ProductFactory()
    url = reverse("admin:shop_product_change", args=[product.pk])
    response = curator_client.post(url, _product_form(product, colours_text="vermilion 100"))
    assert response.status_code == 200
    assert "is not a palette colour" in response.content.decode()
    product.refresh_from_db()
    assert product.colours_source != Product.ColoursSource.CURATOR
