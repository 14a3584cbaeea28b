"""Outfit photos and their garments: street outfits the recommender learns from, and customers' photos.

Every outfit photo, whoever took it, goes through the same steps: its garments are cut out
(from pixel labels, our segmenter, or a box the customer drew), each stored with its
white-filled crop and the colour statistics of its own pixels, then embedded in one batch
by the garment embedder in service.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image

from recommender import inference
from recommender.ml.colour.lab import garment_lab_pixels
from recommender.models import Garment, OutfitPhoto
from shop.errors import ApplicationError

#: Street photos are kept small: they are shown as thumbnails that back a pairing.
STREET_PHOTO_SIDE = 640


class GarmentCut(Protocol):
    """A garment cut out of a photo (``recommender.ml`` segmentation or outfit readers produce these)."""

    bbox: tuple[int, int, int, int]
    pixel_share: float
    confidence: float
    crop: Image.Image
    mask: np.ndarray | None


def _jpeg(image: Image.Image, *, side: int | None = None, quality: int = 88) -> tuple[bytes, str]:
    """JPEG bytes of ``image`` and a storage name made from their hash (never from a client's name)."""
    image = image.convert("RGB")
    if side is not None and max(image.size) > side:
        image = image.copy()
        image.thumbnail((side, side))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    data = buffer.getvalue()
    return data, f"{hashlib.sha256(data).hexdigest()[:32]}.jpg"


def colour_statistics(crop: Image.Image, mask: np.ndarray | None) -> dict:
    """CIELAB statistics of the garment's own pixels (never the background)."""
    lab = garment_lab_pixels(crop, mask)
    if len(lab) == 0:
        return {}
    return {
        "lab_mean": [round(float(v), 2) for v in lab.mean(axis=0)],
        "lab_std": [round(float(v), 2) for v in lab.std(axis=0)],
        "pixels": int(len(lab)),
    }


@transaction.atomic
def street_photo_store(
    *, source: str, external_id: str, image: Image.Image, segmenter_version: str = ""
) -> OutfitPhoto:
    """The street photo ``(source, external_id)``, created or refreshed: ingesting twice gives one row."""
    if source not in OutfitPhoto.STREET_SOURCES:
        raise ApplicationError(f"{source!r} is not a street photo source.")
    data, name = _jpeg(image, side=STREET_PHOTO_SIDE)
    photo, _ = OutfitPhoto.objects.select_for_update().get_or_create(source=source, external_id=external_id)
    digest = hashlib.sha256(data).hexdigest()
    if photo.image_sha256 != digest or not photo.image:
        old = photo.image.name if photo.image else None
        photo.image.save(name, ContentFile(data), save=False)
        if old and old != photo.image.name:
            transaction.on_commit(lambda: photo.image.storage.delete(old))
    photo.image_sha256 = digest
    photo.width, photo.height = image.size
    photo.segmenter_version = segmenter_version
    photo.save()
    return photo


@transaction.atomic
def garments_replace(*, photo: OutfitPhoto, cuts: Sequence[GarmentCut], origin: str) -> list[Garment]:
    """Store ``cuts`` as the photo's garments found by ``origin``, replacing earlier ones (idempotent).

    A cut's slot is its ``slot`` (outfit readers: top, bottom, dress, outerwear) or else its
    ``kind`` (the segmenter's top, bottom, dress)."""
    old = list(photo.garments.filter(origin=origin))
    photo.garments.filter(origin=origin).delete()
    for garment in old:
        if garment.crop:
            name = garment.crop.name
            transaction.on_commit(lambda name=name, storage=garment.crop.storage: storage.delete(name))
    rows = []
    for cut in cuts:
        slot = getattr(cut, "slot", None) or cut.kind
        if slot not in Garment.SLOTS:
            raise ApplicationError(f"{slot!r} is not a garment slot.")
        data, name = _jpeg(cut.crop)
        row = Garment(
            photo=photo,
            slot=slot,
            fine_label=getattr(cut, "fine_label", "") or "",
            origin=origin,
            is_street=photo.source in OutfitPhoto.STREET_SOURCES,
            bbox=[int(v) for v in cut.bbox],
            pixel_share=float(cut.pixel_share),
            confidence=float(cut.confidence),
            colour=colour_statistics(cut.crop, getattr(cut, "mask", None)),
        )
        row.crop.save(name, ContentFile(data), save=False)
        row.save()
        rows.append(row)
    return rows


def garments_embed(*, garments: Sequence[Garment], crops: Sequence[Image.Image] | None = None) -> None:
    """Embed the garments' crops in one batch with the embedder in service and store the vectors.

    ``crops`` (in memory, same order) saves re-reading the stored crops."""
    if not garments:
        return
    model = inference.embedder()
    if crops is None:
        crops = []
        for garment in garments:
            with garment.crop.open("rb") as fh:
                crops.append(Image.open(fh).convert("RGB"))
    vectors = model.embed(list(crops), batch_size=settings.RECOMMENDER_BATCH_SIZE)
    with transaction.atomic():
        for garment, vector in zip(garments, vectors, strict=True):
            garment.embedding = np.asarray(vector, dtype=np.float32).tolist()
            garment.embedder_version = model.version
            garment.save(update_fields=["embedding", "embedder_version"])
