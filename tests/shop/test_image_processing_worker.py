"""The image pipeline end to end: service → on_commit → real broker → real worker → database."""

import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from shop.models import Product
from shop.services.catalog import product_set_image
from tests.conftest import wait_for
from tests.factories import ProductFactory
from tests.images import jpeg_bytes, truncated_jpeg

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _status(product):
    product.refresh_from_db()
    return product.image_status not in (Product.ImageStatus.PENDING, Product.ImageStatus.NONE)


def test_a_worker_makes_the_thumbnail_and_measures_the_colour(celery_worker):
    product = ProductFactory()
    product_set_image(product=product, image=ContentFile(jpeg_bytes((30, 40, 80), size=(900, 1200))), filename="p.jpg")
    wait_for(lambda: _status(product))
    assert product.image_status == Product.ImageStatus.READY
    assert product.colour == "navy" and product.dominant_colour.startswith("#")
    with product.thumbnail.open("rb") as fh:
        from PIL import Image

        assert max(Image.open(fh).size) <= 640


def test_a_damaged_image_is_recorded_as_failed_and_the_product_stays_on_sale(celery_worker):
    product = ProductFactory()
    product_set_image(product=product, image=ContentFile(truncated_jpeg()), filename="broken.jpg")
    wait_for(lambda: _status(product))
    assert product.image_status == Product.ImageStatus.FAILED
    assert "damaged or truncated" in product.image_error
    assert product.is_active


def test_nothing_is_queued_when_the_transaction_rolls_back(celery_worker):
    product = ProductFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        product_set_image(product=product, image=ContentFile(jpeg_bytes()), filename="p.jpg")
        raise RuntimeError("checkout of the curator's form failed")
    product.refresh_from_db()
    assert not product.image
    # Prove the worker is idle on our queue by processing a later, committed change.
    other = ProductFactory()
    product_set_image(product=other, image=ContentFile(jpeg_bytes()), filename="q.jpg")
    wait_for(lambda: _status(other))
    product.refresh_from_db()
    assert product.image_status == Product.ImageStatus.NONE
