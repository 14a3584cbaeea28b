"""A box the customer draws over the photo, searched as a garment of the slot they choose
(when the segmenter missed it): validated, cut out, and run through the search's last steps."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from PIL import Image

from core.errors import ApplicationError
from recommender import inference
from recommender.models import Garment, PhotoSearch, PhotoSearchMatch
from recommender.services.outfits import garments_replace
from recommender.services.photo_search.outline import rectangle
from recommender.services.photo_search.run import CATALOG_SLOT
from recommender.services.photo_search.steps import (
    SearchConflict,
    Status,
    delete_crops,
    photo_image,
    queue_run,
    search_photo,
    set_status,
)

#: Slots a customer can give a box they drew.
BOX_SLOTS = tuple(CATALOG_SLOT)
MIN_BOX_SIDE = 8
MAX_BOXES = 8


@dataclass
class BoxCut:
    """A garment the customer marked with a box (a ``GarmentCut`` for ``garments_replace``)."""

    slot: str
    bbox: tuple[int, int, int, int]
    pixel_share: float
    crop: Image.Image = field(repr=False)
    confidence: float = 1.0
    mask: np.ndarray | None = field(default=None, repr=False)


def _validated_box(box, *, width: int, height: int) -> tuple[int, int, int, int]:
    try:
        x0, y0, x1, y1 = (round(float(v)) for v in box)
    except (TypeError, ValueError) as exc:
        raise ApplicationError("A box is four numbers: [x0, y0, x1, y1] in photo pixels.", code="invalid_box") from exc
    if x1 <= x0 or y1 <= y0:
        raise ApplicationError("The box has no area: drag across the garment.", code="empty_box")
    if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
        raise ApplicationError(
            f"The box lies outside the photo, which is {width}×{height} pixels.", code="box_outside_photo"
        )
    if x1 - x0 < MIN_BOX_SIDE or y1 - y0 < MIN_BOX_SIDE:
        raise ApplicationError(
            f"The box is too small: at least {MIN_BOX_SIDE}×{MIN_BOX_SIDE} pixels.", code="box_too_small"
        )
    return x0, y0, x1, y1


def _box_cut(image: Image.Image, *, slot: str, bbox: tuple[int, int, int, int]) -> BoxCut:
    x0, y0, x1, y1 = bbox
    crop, mask = inference.box_garment(image.crop(bbox))
    return BoxCut(
        slot=slot,
        bbox=bbox,
        pixel_share=round((x1 - x0) * (y1 - y0) / (image.width * image.height), 4),
        crop=crop,
        mask=mask,
    )


def photo_search_add_box(*, search: PhotoSearch, box, slot: str) -> PhotoSearch:
    """Search a box the customer drew as a garment of ``slot``; the search runs its last steps again."""
    if slot not in BOX_SLOTS:
        raise ApplicationError(f"Choose one of: {', '.join(BOX_SLOTS)}.", code="invalid_slot")
    written: list[str] = []
    try:
        with transaction.atomic():
            search = PhotoSearch.objects.select_for_update(of=("self",)).select_related("photo").get(pk=search.pk)
            if search.status != Status.DONE:
                raise SearchConflict("Wait until the search has finished before drawing a box.")
            photo = search_photo(search)
            bbox = _validated_box(box, width=photo.width, height=photo.height)
            earlier = list(photo.garments.filter(origin=Garment.Origin.BOX).order_by("pk"))
            if len(earlier) >= MAX_BOXES:
                raise ApplicationError(f"A search takes at most {MAX_BOXES} boxes.", code="too_many_boxes")
            image = photo_image(photo)
            cuts = [_box_cut(image, slot=g.slot, bbox=tuple(g.bbox)) for g in earlier]
            cuts.append(_box_cut(image, slot=slot, bbox=bbox))
            garments = garments_replace(photo=photo, cuts=cuts, origin=Garment.Origin.BOX, stored=written)
            PhotoSearchMatch.objects.bulk_create(
                PhotoSearchMatch(search=search, garment=garment, outline=rectangle(garment.bbox))
                for garment in garments
            )
            set_status(search, Status.EMBEDDING, error_code="", error="")
            queue_run(search)
    except BaseException:
        delete_crops(written)
        raise
    return search
