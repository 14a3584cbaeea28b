"""Creating a photo search from an upload, and queueing a failed one again."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image

from core.errors import ApplicationError
from recommender.models import OutfitPhoto, PhotoSearch
from recommender.services.outfits import _jpeg
from recommender.services.photo_search.steps import SearchConflict, Status, elapsed_ms, queue_run, set_status
from shop.validators import validate_image_upload


def photo_decode(*, upload) -> Image.Image:
    """The uploaded photo decoded (upright RGB) under the shop's one upload rule, or an ``ApplicationError``."""
    try:
        return validate_image_upload(upload)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], code=getattr(exc, "code", None) or "invalid_image") from exc


def photo_search_create(
    *, upload, user=None, visitor_key: str = "", channel: str = PhotoSearch.Channel.WEB, queue: bool = True
) -> PhotoSearch:
    """Validate and store an uploaded photo and queue its search; nothing is saved when the photo is refused.

    The stored photo is re-encoded from the decoded pixels (upright, metadata such as GPS dropped,
    long side at most ``PHOTO_SEARCH_MAX_SIDE``) and named by its content hash, never by the client."""
    started = time.perf_counter()
    image = photo_decode(upload=upload)
    side = settings.PHOTO_SEARCH_MAX_SIDE
    if max(image.size) > side:
        image = image.copy()
        image.thumbnail((side, side))
    data, name = _jpeg(image, quality=90)
    decode_ms = elapsed_ms(started)
    owner = user if user is not None and user.is_authenticated else None
    storage = OutfitPhoto._meta.get_field("image").storage
    stored_names: list[str] = []
    try:
        with transaction.atomic():
            photo = OutfitPhoto(
                source=OutfitPhoto.Source.CUSTOMER,
                image_sha256=hashlib.sha256(data).hexdigest(),
                width=image.width,
                height=image.height,
            )
            photo.image.save(name, ContentFile(data), save=False)
            stored_names.append(photo.image.name)
            photo.save()
            search = PhotoSearch.objects.create(
                user=owner,
                visitor_key="" if owner else visitor_key,
                channel=channel,
                photo=photo,
                timings={"decode": decode_ms},
            )
            if queue:
                queue_run(search)
    except BaseException:
        for stored in stored_names:
            storage.delete(stored)
        raise
    return search


def photo_search_retry(*, search: PhotoSearch) -> PhotoSearch:
    """Queue a failed search again from the start (every step is idempotent)."""
    with transaction.atomic():
        search = PhotoSearch.objects.select_for_update().get(pk=search.pk)
        if search.status != Status.FAILED:
            raise SearchConflict("Only a failed search can be retried.")
        set_status(search, Status.QUEUED, error_code="", error="", finished_at=None)
        queue_run(search)
    return search
