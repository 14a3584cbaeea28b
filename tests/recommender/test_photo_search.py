"""Shop by photo: the pipeline (service, task, worker), bad input, boxes, retention and ``analyze_photo``."""

from __future__ import annotations

import io
import json
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from recommender import inference
from recommender.ml.segmentation.inference import describe_labels
from recommender.models import Garment, OutfitPhoto, PhotoSearch, PhotoSearchMatch
from recommender.selectors.photo_search import NO_GARMENT_MESSAGE, photo_search_view
from recommender.services.indexing import products_embed
from recommender.services.photo_search import (
    garment_outline,
    photo_search_add_box,
    photo_search_create,
    photo_search_retry,
    photo_search_run,
    photo_searches_expire,
)
from shop.errors import ApplicationError
from shop.services.catalog import product_set_image
from tests.conftest import WorkerProcess, wait_for
from tests.factories import CategoryFactory, ProductFactory
from tests.images import bomb_png, jpeg_bytes, png_bytes, truncated_jpeg

CCP_PHOTOS = Path(__file__).parent / "ml" / "fixtures" / "ccp" / "photos"
OUTFIT = CCP_PHOTOS / "0016.jpg"  # a top and a bottom


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def outfit_upload(path: Path = OUTFIT) -> SimpleUploadedFile:
    return upload(path.read_bytes(), name=path.name)


def indexed_catalog(per_slot: int = 3) -> dict[str, list]:
    """Products with photos and current vectors in the top, bottom and dress slots."""
    catalog = {}
    for n, slot in enumerate(("top", "bottom", "dress")):
        category = CategoryFactory(slug=f"{slot}s", slot=slot)
        products = []
        for i in range(per_slot):
            product = ProductFactory(category=category, price=20 + 10 * i)
            colour = (40 * i + 30, 60 * n + 20, 120)
            product_set_image(
                product=product, image=ContentFile(jpeg_bytes(colour)), filename="p.jpg", process_now=True
            )
            products.append(product)
        catalog[slot] = products
    products_embed(product_ids=[p.pk for ps in catalog.values() for p in ps])
    return catalog


def stored_photos() -> set[str]:
    return set(default_storage.listdir("outfits")[1]) if default_storage.exists("outfits") else set()


def files_of(search: PhotoSearch) -> list[str]:
    names = [search.photo.image.name]
    names += [g.crop.name for g in search.photo.garments.all() if g.crop]
    return names


@pytest.mark.django_db(transaction=True)
def test_a_search_finds_the_garments_and_their_look_alikes_in_the_same_slot(embedder_weights_dir, unconsumed_queue):
    catalog = indexed_catalog()
    search = photo_search_create(upload=outfit_upload(), visitor_key="v" * 32)
    assert search.status == PhotoSearch.Status.QUEUED and search.progress == 0
    assert search.photo.source == OutfitPhoto.Source.CUSTOMER

    photo_search_run(search_id=search.pk)
    search.refresh_from_db()

    assert search.status == PhotoSearch.Status.DONE and search.progress == 100
    assert set(search.timings) == {"decode", "segment", "embed", "match", "total"}
    garments = list(search.photo.garments.all())
    assert {g.slot for g in garments} == {"top", "bottom"}
    for garment in garments:
        assert garment.origin == Garment.Origin.SEGMENTER and not garment.is_street
        assert garment.embedder_version == inference.current_model_version()
        assert np.linalg.norm(garment.embedding) == pytest.approx(1.0, abs=1e-3)
        assert default_storage.exists(garment.crop.name)
        match = garment.search_match
        assert match.similar and set(match.similar) <= {p.pk for p in catalog[garment.slot]}
        cheapest_nearest = min(p.price for p in catalog[garment.slot] if p.pk == match.similar[0])
        prices = {p.pk: p.price for p in catalog[garment.slot]}
        assert all(prices[pk] < cheapest_nearest for pk in match.similar_cheaper)
        assert match.complements == []
        x0, y0, x1, y1 = garment.bbox
        assert len(match.outline) >= 8
        assert all(x0 - 2 <= x <= x1 + 2 and y0 - 2 <= y <= y1 + 2 for x, y in match.outline)
    # The stored photo is named from its content, never from the client's file name.
    assert search.photo.image.name.startswith("outfits/") and "0016" not in search.photo.image.name
    assert search.photo.image.name.endswith(".jpg") and len(search.photo.image_sha256) == 64


@pytest.mark.django_db(transaction=True)
def test_running_a_finished_search_again_changes_nothing(embedder_weights_dir, unconsumed_queue):
    search = photo_search_create(upload=outfit_upload())
    photo_search_run(search_id=search.pk)
    first = PhotoSearch.objects.get(pk=search.pk)
    garments = list(Garment.objects.values_list("pk", "crop"))

    photo_search_run(search_id=search.pk)

    again = PhotoSearch.objects.get(pk=search.pk)
    assert (again.status, again.attempts, again.timings) == (first.status, first.attempts, first.timings)
    assert list(Garment.objects.values_list("pk", "crop")) == garments


@pytest.mark.django_db(transaction=True)
def test_a_search_interrupted_after_segmenting_resumes_without_segmenting_again(embedder_weights_dir, unconsumed_queue):
    search = photo_search_create(upload=outfit_upload())
    photo_search_run(search_id=search.pk)
    garment_ids = set(Garment.objects.values_list("pk", flat=True))
    # As if the worker died after the segmenting step committed.
    Garment.objects.update(embedding=None, embedder_version="")
    PhotoSearch.objects.filter(pk=search.pk).update(status=PhotoSearch.Status.EMBEDDING, timings={"decode": 1})

    photo_search_run(search_id=search.pk)

    search.refresh_from_db()
    assert search.status == PhotoSearch.Status.DONE and "segment" not in search.timings
    assert set(Garment.objects.values_list("pk", flat=True)) == garment_ids
    assert not Garment.objects.filter(embedding__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_photo_without_garments_finishes_and_asks_for_a_box(embedder_weights_dir, unconsumed_queue):
    blank = Image.new("RGB", (400, 600), (250, 250, 250))
    buffer = io.BytesIO()
    blank.save(buffer, format="PNG")
    search = photo_search_create(upload=upload(buffer.getvalue(), "empty.png", "image/png"))
    photo_search_run(search_id=search.pk)
    search.refresh_from_db()

    assert search.status == PhotoSearch.Status.DONE
    view = photo_search_view(search=search)
    assert view.garments == [] and view.notice == NO_GARMENT_MESSAGE == "We found no garment: draw a box around it."


@pytest.mark.django_db(transaction=True)
def test_a_photo_with_only_a_top_gets_look_alikes_for_the_top_alone(
    embedder_weights_dir, unconsumed_queue, monkeypatch
):
    """The segmenter is swapped for one that sees a single top, as on a photo of a shirt alone."""
    catalog = indexed_catalog(per_slot=2)

    class OnlyATop:
        version = "only-a-top"

        def segment(self, images):
            image = images[0]
            labels = np.zeros((image.height, image.width), dtype=np.uint8)
            labels[image.height // 5 : image.height // 2, image.width // 4 : 3 * image.width // 4] = 1
            return [describe_labels(image, labels)]

    monkeypatch.setattr(inference, "segmenter", lambda: OnlyATop())
    search = photo_search_create(upload=outfit_upload())
    photo_search_run(search_id=search.pk)

    view = photo_search_view(search=PhotoSearch.objects.get(pk=search.pk))
    assert view.search.status == PhotoSearch.Status.DONE and view.notice == ""
    [top] = view.garments
    assert top.garment.slot == "top" and set(top.similar) <= set(catalog["top"]) and top.similar


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"%PDF-1.4 not a photo", "outfit.pdf", "not an image format we can read"),
        (b"just some text, called a JPEG", "outfit.jpg", "not an image format we can read"),
        (truncated_jpeg(), "outfit.jpg", "damaged or truncated"),
        (bomb_png(), "bomb.png", "too large"),
        (b"", "empty.jpg", "not an image format we can read"),
    ],
    ids=["non-image", "wrong-extension", "truncated-jpeg", "decompression-bomb", "zero-bytes"],
)
@pytest.mark.django_db(transaction=True)
def test_a_bad_upload_is_refused_with_a_clear_message_and_leaves_nothing_saved(data, name, message, unconsumed_queue):
    before = stored_photos()
    with pytest.raises(ApplicationError) as refused:
        photo_search_create(upload=upload(data, name))
    assert message in refused.value.message
    assert not PhotoSearch.objects.exists() and not OutfitPhoto.objects.exists()
    assert stored_photos() == before


@pytest.mark.django_db(transaction=True)
def test_a_file_over_the_size_limit_is_refused(settings, unconsumed_queue):
    settings.MAX_UPLOAD_BYTES = 10_000
    with pytest.raises(ApplicationError) as refused:
        photo_search_create(upload=outfit_upload())
    assert refused.value.code == "file_too_large" and "limit" in refused.value.message
    assert not PhotoSearch.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_png_with_a_jpeg_name_is_stored_by_what_it_is_not_by_its_name(unconsumed_queue):
    search = photo_search_create(upload=upload(png_bytes(size=(64, 96), mode="RGB"), "holiday.jpeg"))
    assert search.photo.image.name.endswith(".jpg") and "holiday" not in search.photo.image.name
    with default_storage.open(search.photo.image.name) as fh:
        assert Image.open(fh).format == "JPEG"


@pytest.mark.django_db(transaction=True)
def test_a_box_the_customer_draws_is_searched_as_a_garment_of_the_chosen_slot(embedder_weights_dir, unconsumed_queue):
    catalog = indexed_catalog(per_slot=2)
    search = photo_search_create(upload=outfit_upload())
    photo_search_run(search_id=search.pk)
    found = Garment.objects.filter(origin=Garment.Origin.SEGMENTER).count()

    search = photo_search_add_box(search=PhotoSearch.objects.get(pk=search.pk), box=[20, 200, 180, 400], slot="dress")
    assert search.status == PhotoSearch.Status.EMBEDDING
    photo_search_run(search_id=search.pk)
    search = photo_search_add_box(search=PhotoSearch.objects.get(pk=search.pk), box=[10, 10, 90, 90], slot="top")
    photo_search_run(search_id=search.pk)

    search.refresh_from_db()
    assert search.status == PhotoSearch.Status.DONE
    boxes = list(Garment.objects.filter(origin=Garment.Origin.BOX).order_by("pk"))
    assert [(g.slot, g.bbox) for g in boxes] == [("dress", [20, 200, 180, 400]), ("top", [10, 10, 90, 90])]
    assert Garment.objects.filter(origin=Garment.Origin.SEGMENTER).count() == found
    dress = boxes[0].search_match
    assert set(dress.similar) <= {p.pk for p in catalog["dress"]} and dress.similar
    assert dress.outline == [[20, 200], [180, 200], [180, 400], [20, 400]]
    with default_storage.open(boxes[0].crop.name) as fh:
        assert Image.open(fh).size == (160, 200)


@pytest.mark.parametrize(
    ("box", "code"),
    [
        ([-10, 0, 100, 100], "box_outside_photo"),
        ([0, 0, 5000, 100], "box_outside_photo"),
        ([50, 50, 50, 120], "empty_box"),
        ([80, 80, 40, 120], "empty_box"),
        (["a", 1, 2, 3], "invalid_box"),
        ([10, 10, 12, 12], "box_too_small"),
    ],
)
@pytest.mark.django_db(transaction=True)
def test_a_box_outside_the_photo_or_without_area_is_refused(box, code, embedder_weights_dir, unconsumed_queue):
    search = photo_search_create(upload=outfit_upload())
    photo_search_run(search_id=search.pk)
    with pytest.raises(ApplicationError) as refused:
        photo_search_add_box(search=search, box=box, slot="top")
    assert refused.value.code == code
    assert not Garment.objects.filter(origin=Garment.Origin.BOX).exists()
    assert PhotoSearch.objects.get(pk=search.pk).status == PhotoSearch.Status.DONE


@pytest.mark.django_db(transaction=True)
def test_a_failed_search_shows_its_reason_and_can_be_retried(embedder_weights_dir, unconsumed_queue):
    search = photo_search_create(upload=outfit_upload())
    name = search.photo.image.name
    with default_storage.open(name) as fh:
        data = fh.read()
    default_storage.delete(name)

    photo_search_run(search_id=search.pk)
    search.refresh_from_db()
    assert search.status == PhotoSearch.Status.FAILED and search.error_code == "photo_missing"
    assert "deleted" in search.error

    default_storage.save(name, ContentFile(data))
    photo_search_retry(search=search)
    photo_search_run(search_id=search.pk)
    search.refresh_from_db()
    assert search.status == PhotoSearch.Status.DONE and search.error == "" and search.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_retention_deletes_old_searches_with_their_files_and_keeps_recent_ones(
    embedder_weights_dir, unconsumed_queue, settings
):
    settings.PHOTO_SEARCH_RETENTION_DAYS = 7
    old = photo_search_create(upload=outfit_upload())
    photo_search_run(search_id=old.pk)
    recent = photo_search_create(upload=outfit_upload(CCP_PHOTOS / "0029.jpg"))
    PhotoSearch.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    old_files = files_of(PhotoSearch.objects.get(pk=old.pk))
    assert len(old_files) >= 3 and all(default_storage.exists(n) for n in old_files)

    out = io.StringIO()
    call_command("expire_photo_searches", stdout=out)

    assert "Deleted 1 photo search" in out.getvalue()
    assert list(PhotoSearch.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not any(default_storage.exists(n) for n in old_files)
    assert OutfitPhoto.objects.count() == 1 and not Garment.objects.exists()
    assert not PhotoSearchMatch.objects.exists()
    assert default_storage.exists(recent.photo.image.name)
    assert photo_searches_expire() == 0


def test_a_garment_outline_follows_its_mask_inside_its_box():
    yy, xx = np.mgrid[0:200, 0:120]
    mask = (yy - 100) ** 2 / 90**2 + (xx - 60) ** 2 / 50**2 <= 1  # an ellipse
    outline = garment_outline(mask, (300, 400, 420, 600))
    points = np.asarray(outline)
    assert len(points) > 20
    assert points[:, 0].min() <= 315 and points[:, 0].max() >= 405  # reaches both sides
    assert points[:, 1].min() <= 415 and points[:, 1].max() >= 585  # and top and bottom
    centre = np.asarray([360, 500])
    assert np.linalg.norm(points - centre, axis=1).min() > 40  # the boundary, not the inside


@pytest.mark.django_db(transaction=True)
def test_analyze_photo_prints_a_summary_then_one_json_line_per_photo(embedder_weights_dir, tmp_path):
    catalog = indexed_catalog(per_slot=2)
    not_a_photo = tmp_path / "notes.jpg"
    not_a_photo.write_text("not a photo")
    out = io.StringIO()
    call_command("analyze_photo", str(OUTFIT), str(not_a_photo), stdout=out)

    lines = out.getvalue().strip().splitlines()
    assert "0016.jpg: top" in lines[0] and "notes.jpg: invalid_image" in lines[1]
    good, bad = (json.loads(line) for line in lines[-2:])
    assert good["photo"] == str(OUTFIT)
    assert {g["slot"] for g in good["garments"]} == {"top", "bottom"}
    for garment in good["garments"]:
        assert set(garment) == {"slot", "bbox", "pixel_share", "confidence", "similar", "complements"}
        assert garment["pixel_share"] >= 0.02 and 0 < garment["confidence"] <= 1
        assert set(garment["similar"]) <= {p.pk for p in catalog[garment["slot"]]}
        x0, y0, x1, y1 = garment["bbox"]
        assert 0 <= x0 < x1 <= 275 and 0 <= y0 < y1 <= 412
    assert set(good["timings_ms"]) == {"decode", "segment", "embed", "match", "total"}
    assert good["timings_ms"]["total"] >= good["timings_ms"]["segment"] > 0
    assert bad == {"photo": str(not_a_photo), "error": {"code": "invalid_image", "message": bad["error"]["message"]}}
    # Nothing is left behind by the operator's runs.
    assert not PhotoSearch.objects.exists() and not OutfitPhoto.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_an_upload_is_analysed_end_to_end_by_a_real_worker(celery_worker):
    catalog = indexed_catalog(per_slot=2)
    search = photo_search_create(upload=outfit_upload(CCP_PHOTOS / "0046.jpg"), visitor_key="k" * 32)
    done = wait_for(
        lambda: PhotoSearch.objects.filter(pk=search.pk, status__in=["done", "failed"]).first(), timeout=120
    )
    assert done.status == PhotoSearch.Status.DONE, done.error
    assert done.attempts == 1
    view = photo_search_view(search=done)
    assert {g.garment.slot for g in view.garments} >= {"top"}
    for result in view.garments:
        assert result.similar and set(result.similar) <= set(catalog[result.garment.slot])


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_worker_killed_mid_job_loses_nothing_and_the_job_finishes(celery_worker, embedder_weights_dir):
    queue = f"kill-photo-{uuid.uuid4().hex[:6]}"
    env = {"CELERY_VISIBILITY_TIMEOUT": "3"}
    from config.celery import app

    doomed = WorkerProcess(queue, embedder_weights_dir, extra_env=env)
    previous, app.conf.task_default_queue = app.conf.task_default_queue, queue
    try:
        search = photo_search_create(upload=outfit_upload())
    finally:
        app.conf.task_default_queue = previous
    wait_for(lambda: PhotoSearch.objects.filter(pk=search.pk, attempts__gt=0).exists(), timeout=60, interval=0.02)
    doomed.kill()
    assert PhotoSearch.objects.get(pk=search.pk).status != PhotoSearch.Status.DONE

    survivor = WorkerProcess(queue, embedder_weights_dir, extra_env=env)
    try:
        done = wait_for(lambda: PhotoSearch.objects.filter(pk=search.pk, status="done").first(), timeout=120)
    finally:
        survivor.stop()
    assert done.attempts == 2
    assert PhotoSearch.objects.count() == 1 and OutfitPhoto.objects.count() == 1
    assert Garment.objects.filter(photo=done.photo).count() == done.matches.count() >= 2


@pytest.mark.django_db(transaction=True)
def test_celery_beat_runs_the_retention_task_which_deletes_expired_searches(settings, unconsumed_queue):
    from config.celery import app
    from recommender.tasks import expire_photo_searches

    entry = settings.CELERY_BEAT_SCHEDULE["expire-photo-searches"]
    assert entry["task"] == expire_photo_searches.name and entry["task"] in app.tasks
    assert entry["schedule"] <= 24 * 3600
    old = photo_search_create(upload=outfit_upload())
    PhotoSearch.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=settings.PHOTO_SEARCH_RETENTION_DAYS + 1)
    )
    expire_photo_searches.apply()
    assert not PhotoSearch.objects.exists() and not default_storage.exists(old.photo.image.name)


@pytest.mark.django_db(transaction=True)
def test_analyze_photo_gives_boxes_in_the_pixels_of_the_photo_as_given_when_it_is_stored_smaller(
    embedder_weights_dir, settings
):
    out = io.StringIO()
    call_command("analyze_photo", str(OUTFIT), stdout=out)
    full = {g["slot"]: g["bbox"] for g in json.loads(out.getvalue().splitlines()[-1])["garments"]}

    settings.PHOTO_SEARCH_MAX_SIDE = 206  # the 275x412 photo is stored at half its size
    out = io.StringIO()
    call_command("analyze_photo", str(OUTFIT), stdout=out)
    small = {g["slot"]: g["bbox"] for g in json.loads(out.getvalue().splitlines()[-1])["garments"]}

    assert set(small) == set(full) == {"top", "bottom"}
    for slot, bbox in small.items():
        assert np.abs(np.asarray(bbox) - np.asarray(full[slot])).max() <= 12, (slot, bbox, full[slot])
