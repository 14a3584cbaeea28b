"""Outfit photos and their garments: street outfits the recommender learns from, and customers' photos.

Every outfit photo, whoever took it, goes through the same steps: its garments are cut out
(from pixel labels, our segmenter, or a box the customer drew), each stored with its
white-filled crop and the colour statistics of its own pixels, then embedded in one batch
by the garment embedder in service.
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image

from core.errors import ApplicationError
from recommender import inference
from recommender.inference import annotated_outfits, colour_statistics, list_samples, tagged_outfits
from recommender.models import Garment, OutfitPhoto
from recommender.services.complements import street_support_refresh
from recommender.services.indexing import vectors_changed

#: Street photos are kept small: they are shown as thumbnails that back a pairing.
STREET_PHOTO_SIDE = 640


class GarmentCut(Protocol):
    """A garment cut out of a photo (``recommender.ml`` segmentation or outfit readers produce these)."""

    bbox: tuple[int, int, int, int]
    pixel_share: float
    confidence: float
    crop: Image.Image
    mask: np.ndarray | None


class SegmentedCut(GarmentCut, Protocol):
    """A segmenter's cut: its slot is its ``kind``."""

    kind: str


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
def garments_replace(
    *, photo: OutfitPhoto, cuts: Sequence[GarmentCut], origin: str, stored: list[str] | None = None
) -> list[Garment]:
    """Store ``cuts`` as the photo's garments found by ``origin``, replacing earlier ones (idempotent).

    A cut's slot is its ``slot`` (outfit readers: top, bottom, dress, outerwear) or else its
    ``kind`` (the segmenter's top, bottom, dress). Each crop's storage name is appended to ``stored``
    as soon as the file is written, so a caller whose transaction rolls back can delete them."""
    old = list(photo.garments.filter(origin=origin))
    photo.garments.filter(origin=origin).delete()
    for garment in old:
        if garment.crop:
            name = garment.crop.name
            transaction.on_commit(functools.partial(garment.crop.storage.delete, name))
    rows = []
    for cut in cuts:
        slot = getattr(cut, "slot", None) or cast(SegmentedCut, cut).kind
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
        if stored is not None:
            stored.append(row.crop.name)
        row.save()
        rows.append(row)
    return rows


def garments_embed(*, garments: Sequence[Garment], crops: Sequence[Image.Image] | None = None) -> None:
    """Embed the garments' crops in one batch with the embedder in service and store the vectors.

    ``crops`` (in memory, same order) saves re-reading the stored crops."""
    vectors = garment_vectors(garments=garments, crops=crops)
    with transaction.atomic():
        garment_vectors_store(vectors)


@dataclass
class GarmentVectors:
    """Vectors computed for garments, not stored yet (``garment_vectors_store`` writes them)."""

    garments: list[Garment]
    vectors: list[list[float]]
    version: str


def garment_vectors(*, garments: Sequence[Garment], crops: Sequence[Image.Image] | None = None) -> GarmentVectors:
    """The garments' vectors from the embedder in service, in one batch; nothing is written."""
    if not garments:
        return GarmentVectors(garments=[], vectors=[], version="")
    model = inference.embedder()
    if crops is None:
        crops = []
        for garment in garments:
            with garment.crop.open("rb") as fh:
                crops.append(Image.open(fh).convert("RGB"))
    vectors = model.embed(list(crops), batch_size=settings.RECOMMENDER_BATCH_SIZE)
    return GarmentVectors(
        garments=list(garments),
        vectors=[np.asarray(v, dtype=np.float32).tolist() for v in vectors],
        version=model.version,
    )


def garment_vectors_store(computed: GarmentVectors) -> int:
    """Write computed vectors onto their garments; returns how many garments still existed to take one.

    Guarded updates, not ``save()``: a garment deleted meanwhile is skipped, never re-created or an error."""
    updated = 0
    for garment, vector in zip(computed.garments, computed.vectors, strict=True):
        updated += Garment.objects.filter(pk=garment.pk).update(embedding=vector, embedder_version=computed.version)
        garment.embedding, garment.embedder_version = vector, computed.version
    return updated


@transaction.atomic
def outfit_photo_delete(*, photo: OutfitPhoto) -> None:
    """Delete an outfit photo, its garments and their files (the files once the delete is committed)."""
    names = [(photo.image.storage, photo.image.name)] if photo.image else []
    names += [(g.crop.storage, g.crop.name) for g in photo.garments.all() if g.crop]
    photo.delete()
    for storage, name in names:
        transaction.on_commit(functools.partial(storage.delete, name))


def street_outfit_store(
    *, source: str, external_id: str, image: Image.Image, reading, segmenter_version: str = ""
) -> OutfitPhoto | None:
    """Store one street outfit read by ``recommender.ml.complement.outfits`` (or forget it, if it was dropped).

    Running it twice gives the same rows; a photo that is now dropped leaves nothing behind."""
    if reading.dropped or not reading.garments:
        for stale in OutfitPhoto.objects.filter(source=source, external_id=external_id):
            outfit_photo_delete(photo=stale)
        return None
    photo = street_photo_store(source=source, external_id=external_id, image=image, segmenter_version=segmenter_version)
    origin = Garment.Origin.ANNOTATION if source == OutfitPhoto.Source.STREET_ANNOTATED else Garment.Origin.SEGMENTER
    rows = garments_replace(photo=photo, cuts=reading.garments, origin=origin)
    garments_embed(garments=rows, crops=[g.crop for g in reading.garments])
    return photo


@dataclass
class IngestReport:
    kept: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)
    current: int = 0

    def lines(self) -> list[str]:
        out = [f"kept {n} {source} photos" for source, n in sorted(self.kept.items())]
        out += [f"already current, left alone: {self.current}"] if self.current else []
        out += [f"dropped {n}: {reason}" for reason, n in self.dropped.most_common()]
        return out


def _current_ids(source: str, *, embedder_version: str, segmenter_version: str = "") -> set[str]:
    """Street photos of ``source`` whose garments were all made by these model versions."""
    photos = OutfitPhoto.objects.filter(source=source, segmenter_version=segmenter_version)
    stale = Garment.objects.filter(photo__in=photos).exclude(embedder_version=embedder_version)
    return set(photos.exclude(pk__in=stale.values("photo_id")).values_list("external_id", flat=True))


def outfits_ingest(
    *, ccp_dir: str | None = None, tagged_dir: str | None = None, force: bool = False, progress=None
) -> IngestReport:
    """Read street outfits into the database: annotated CCP photos cut with their true labels, tagged
    ones cut by the segmenter in service and dropped where it disagrees with their tags.

    Idempotent: photos already made by the models in service are left alone (``force`` redoes them)."""

    progress = progress or (lambda iterable, **kwargs: iterable)
    report = IngestReport()
    embedder_version = inference.current_model_version()
    if ccp_dir:
        source = OutfitPhoto.Source.STREET_ANNOTATED
        done = set() if force else _current_ids(source, embedder_version=embedder_version)
        ids = [s.id for s in list_samples(ccp_dir) if s.id not in done]
        report.current += len(done)
        for outfit in progress(annotated_outfits(ccp_dir, ids), total=len(ids), desc="annotated"):
            _store(report, source, outfit, segmenter_version="")
    if tagged_dir:
        from pathlib import Path

        source = OutfitPhoto.Source.STREET_TAGGED
        segmenter = inference.segmenter()
        version = segmenter.version
        done = set() if force else _current_ids(source, embedder_version=embedder_version, segmenter_version=version)
        total = len(list((Path(tagged_dir) / "photos").glob("*.jpg")))
        for outfit in progress(tagged_outfits(tagged_dir, segmenter), total=total, desc="tagged"):
            if outfit.photo_id in done and not outfit.reading.dropped:
                report.current += 1
                continue
            _store(report, source, outfit, segmenter_version=version)

    # The street outfits that back each pairing may have changed: every product's are looked up again
    # (one statement; also fills in products indexed before any outfit was ingested).
    street_support_refresh()
    vectors_changed()
    return report


def _store(report: IngestReport, source: str, outfit, *, segmenter_version: str) -> None:
    photo = street_outfit_store(
        source=source,
        external_id=outfit.photo_id,
        image=outfit.image,
        reading=outfit.reading,
        segmenter_version=segmenter_version,
    )
    if photo is None:
        report.dropped[outfit.reading.dropped or "no garment found"] += 1
    else:
        report.kept[source] += 1
