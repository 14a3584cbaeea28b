"""Shop by photo keeps a garment's category and colour in its look-alikes, and reports whole garments only."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from recommender import inference
from recommender.ml.segmentation.inference import describe_labels
from recommender.models import PhotoSearch
from recommender.services.indexing import products_embed
from recommender.services.photo_search import photo_search_add_box, photo_search_create, photo_search_run
from shop.models import Product
from shop.services.catalog import product_set_image
from tests.factories import CategoryFactory, ProductFactory
from tests.images import jpeg_bytes

BACKGROUND = (150, 160, 150)
NAVY, BLACK, WHITE, RED, CAMEL = (25, 30, 70), (20, 20, 22), (240, 240, 240), (190, 30, 40), (190, 150, 100)
PINK, GREEN, BLUE = (240, 130, 180), (40, 140, 60), (40, 90, 200)


def photo(draw) -> tuple[Image.Image, np.ndarray]:
    """A 200x400 street-like photo and an all-background label map, for ``draw(pixels, labels)`` to fill."""
    pixels = np.full((400, 200, 3), BACKGROUND, dtype=np.uint8)
    labels = np.zeros((400, 200), dtype=np.uint8)
    draw(pixels, labels)
    return Image.fromarray(pixels), labels


def upload(image: Image.Image) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


class LabelsSegmenter:
    """The U-Net swapped for fixed labels (scaled to the stored photo), cut by the served post-processing."""

    version = "fixed-labels"

    def __init__(self, labels: np.ndarray):
        self.labels = labels

    def segment(self, images):
        image = images[0]
        labels = np.asarray(Image.fromarray(self.labels).resize(image.size, Image.Resampling.NEAREST))
        return [describe_labels(image, labels)]


def catalog(slot: str, items: dict[str, list[tuple[int, int, int]]]) -> dict[str, list[Product]]:
    """Indexed products per category slug, one per colour listed."""
    products = {}
    for slug, colours in items.items():
        category = CategoryFactory(slug=slug, slot=slot)
        products[slug] = []
        for colour in colours:
            product = ProductFactory(category=category, price=30)
            image = ContentFile(jpeg_bytes(colour, size=(120, 160)))
            product_set_image(product=product, image=image, filename="p.jpg", process_now=True)
            products[slug].append(product)
    products_embed(product_ids=[p.pk for ps in products.values() for p in ps])
    return products


def search_with(labels: np.ndarray, image: Image.Image, monkeypatch) -> PhotoSearch:
    monkeypatch.setattr(inference, "segmenter", lambda: LabelsSegmenter(labels))
    search = photo_search_create(upload=upload(image))
    photo_search_run(search_id=search.pk)
    return PhotoSearch.objects.get(pk=search.pk)


def trousers_seen_to_the_knee(pixels, labels):
    """Navy trousers from the waist (y 180) to the ankles (y 380), two legs; labelled only to the knee."""
    pixels[80:180, 60:140] = WHITE  # a top
    labels[80:180, 60:140] = 1
    for x0 in (62, 102):  # two legs with a gap between them
        pixels[180:380, x0 : x0 + 36] = NAVY
    pixels[180:230, 62:138] = NAVY  # the seat joins the legs
    knee = slice(180, 280)
    labels[knee][(pixels[knee] == NAVY).all(axis=-1)] = 2


def test_a_bottom_found_to_the_knee_whose_leg_continues_is_trousers():
    image, labels = photo(trousers_seen_to_the_knee)
    bottom = next(g for g in describe_labels(image, labels).garments if g.kind == "bottom")
    assert bottom.fine_label == "pants"
    assert bottom.bbox[3] >= 370  # the mask follows the leg down, so the crop shows the whole trousers


def test_a_small_blob_of_another_class_inside_a_garment_is_not_reported():
    def top_with_a_patch(pixels, labels):
        pixels[60:260, 30:170] = BLUE
        labels[60:260, 30:170] = 1
        labels[150:180, 80:120] = 3  # the U-Net's "dress" on a fold of the top (4 % of the top)

    image, labels = photo(top_with_a_patch)
    segmentation = describe_labels(image, labels)
    assert [g.kind for g in segmentation.garments] == ["top"]
    assert segmentation.garments[0].mask.all()  # the patch is part of the top


def test_a_dress_beside_a_top_is_still_reported():
    def top_and_dress(pixels, labels):
        labels[40:120, 50:150] = 1
        labels[120:330, 40:160] = 3

    image, labels = photo(top_and_dress)
    assert {g.kind for g in describe_labels(image, labels).garments} == {"top", "dress"}


@pytest.mark.django_db(transaction=True)
def test_trousers_found_to_the_knee_get_trousers_first(embedder_weights_dir, unconsumed_queue, monkeypatch):
    products = catalog("bottom", {"pants": [NAVY, BLACK, CAMEL], "shorts": [NAVY, NAVY, BLACK, CAMEL, RED]})
    search = search_with(*reversed(photo(trousers_seen_to_the_knee)), monkeypatch=monkeypatch)

    bottom = search.photo.garments.get(slot="bottom")
    assert bottom.fine_label == "pants"
    similar = bottom.search_match.similar
    assert set(similar[:3]) == {p.pk for p in products["pants"]}
    assert set(similar[3:]) <= {p.pk for p in products["shorts"]}


@pytest.mark.django_db(transaction=True)
def test_a_black_dress_gets_black_dresses_first(embedder_weights_dir, unconsumed_queue, monkeypatch):
    products = catalog("dress", {"dress": [WHITE, CAMEL, RED, BLACK, WHITE, BLACK, RED, CAMEL, BLACK]})
    black = set(
        Product.objects.filter(pk__in=[p.pk for p in products["dress"]], colour="black").values_list("pk", flat=True)
    )
    assert len(black) == 3

    def black_dress(pixels, labels):
        pixels[60:340, 50:150] = BLACK
        labels[60:340, 50:150] = 3

    search = search_with(*reversed(photo(black_dress)), monkeypatch=monkeypatch)
    similar = search.photo.garments.get(slot="dress").search_match.similar
    assert len(similar) == 8 and set(similar[:3]) == black


@pytest.mark.django_db(transaction=True)
def test_a_pink_top_boxed_by_hand_gets_pink_tops(embedder_weights_dir, unconsumed_queue, monkeypatch):
    products = catalog("top", {"t-shirt": [PINK, GREEN, BLUE, PINK, WHITE, BLACK, PINK, CAMEL, BLUE, GREEN]})
    pink = set(
        Product.objects.filter(pk__in=[p.pk for p in products["t-shirt"]], colour="pink").values_list("pk", flat=True)
    )
    assert len(pink) == 3

    def pink_top(pixels, labels):
        pixels[100:200, 60:140] = PINK  # the segmenter misses it: nothing labelled

    image, labels = photo(pink_top)
    search = search_with(labels, image, monkeypatch=monkeypatch)
    search = photo_search_add_box(search=search, box=[30, 70, 170, 230], slot="top")  # with street around it
    photo_search_run(search_id=search.pk)

    similar = search.photo.garments.get(slot="top").search_match.similar
    assert set(similar[:3]) == pink
