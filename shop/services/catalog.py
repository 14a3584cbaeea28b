"""Catalog writes: products, their photos, and curator bulk actions.

A product photo is the shop's to store (bytes, hash) and to thumbnail (``shop.tasks.process_product_image``).
What it shows (garment mask, colours, pattern) is measured by another app: the shop sends
``shop.signals.product_photo_changed`` and receives the result in :func:`product_photo_analysed`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import slugify

from core.colour.palette import FAMILY, NAMES, PALETTE_LAB, NamedColour
from core.dispatch import enqueue_on_commit
from core.images import ImageError, open_image
from shop import photo_analysis
from shop.errors import ApplicationError
from shop.imaging import thumbnail_jpeg
from shop.models import Pattern, Product
from shop.photo_analysis import PhotoAnalysis
from shop.signals import product_colours_changed, product_photo_changed
from shop.validators import image_format, stored_image_name

logger = logging.getLogger(__name__)


def unique_slug(name: str, sku: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(f"{name}-{sku}")[:200] or slugify(sku) or "product"
    slug, n = base, 2
    others = Product.objects.exclude(pk=exclude_pk) if exclude_pk is not None else Product.objects.all()
    while others.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _photo_changed(product: Product) -> None:
    """Queue the thumbnail after commit and tell the apps that analyse photos."""
    enqueue_on_commit("shop.tasks.process_product_image", product.pk)
    product_photo_changed.send(sender=Product, product=product)


def _delete_files_on_commit(storage, names: list[str]) -> None:
    """Old files go only once the new state is committed, so a rollback loses nothing."""
    for name in names:
        transaction.on_commit(functools.partial(storage.delete, name))


def _file_sha256(fileobj) -> str:
    digest = hashlib.sha256()
    fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(1 << 20), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def product_set_image(*, product: Product, image, filename: str | None = None, process_now: bool = False) -> Product:
    """Store a new main image, then make its thumbnail and have it analysed (mask, colours).

    By default the thumbnail is queued for the worker after commit, and the apps that analyse
    photos hear of it (``product_photo_changed``); batch jobs that are already off the request path
    (imports) pass ``process_now`` to make the thumbnail and the analysis at once. Entry points check the
    upload with ``shop.validators.image_upload_clean``; the analysis re-checks the stored
    bytes anyway. The stored name is always ``<sha256>.<suffix of the declared format>``:
    neither ``filename`` (kept for older callers, ignored) nor the upload's own name is
    used, and bytes that are not a JPEG, PNG or WebP are refused here too.
    """
    data = image.read() if not hasattr(image, "seek") else (image.seek(0) or image.read())
    try:
        name = stored_image_name(data, image_format(data))
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], code="invalid_image") from exc
    image = ContentFile(data, name=name)
    product.image_sha256 = _file_sha256(image)
    old_files = [f.name for f in (product.image, product.thumbnail, product.garment_mask) if f]
    product.image.save(name, image, save=False)
    product.thumbnail = None
    product.garment_mask = None
    product.image_status = Product.ImageStatus.PENDING
    product.image_error = ""
    product.save(
        update_fields=[
            "image",
            "image_sha256",
            "thumbnail",
            "garment_mask",
            "image_status",
            "image_error",
            "updated_at",
        ]
    )
    _delete_files_on_commit(product.image.storage, old_files)
    if process_now:
        product_image_process(product_id=product.pk, analyse=True)
        product_photo_changed.send(sender=Product, product=product)
    else:
        _photo_changed(product)
    return product


def product_image_changed(*, product: Product) -> None:
    """Admin saved a product whose image changed (or asked to retry): reset state and queue processing."""
    digest = ""
    if product.image:
        with product.image.open("rb") as fh:
            digest = _file_sha256(fh)
    stored = Product.objects.filter(pk=product.pk).values_list("thumbnail", "garment_mask").first() or ()
    _delete_files_on_commit(product.image.storage, [str(name) for name in stored if name])
    Product.objects.filter(pk=product.pk).update(
        thumbnail="",
        garment_mask="",
        image_sha256=digest,
        image_status=Product.ImageStatus.PENDING if product.image else Product.ImageStatus.NONE,
        image_error="",
    )
    product.refresh_from_db()
    if product.image:
        _photo_changed(product)


def product_image_process(*, product_id: int, analyse: bool = False) -> Product | None:
    """Make the thumbnail; with ``analyse``, also have the photo analysed now (:mod:`shop.photo_analysis`).
    Idempotent: safe to run twice.

    A missing or broken image leaves the product on sale and records why, so a curator sees it in
    the admin and can retry. The photo is "ready" once it has its thumbnail and, where an app
    analyses photos, its analysis (:func:`product_photo_analysed`), whichever comes last.
    """
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        logger.info("Product %s vanished before its image was processed", product_id)
        return None
    if not product.image:
        Product.objects.filter(pk=product.pk).update(image_status=Product.ImageStatus.NONE, image_error="")
        return product
    try:
        with product.image.open("rb") as fh:
            image = open_image(fh, max_pixels=settings.MAX_IMAGE_PIXELS)
    except (ImageError, FileNotFoundError, OSError) as exc:
        reason = str(exc) if isinstance(exc, ImageError) else f"The image file cannot be read: {exc}"
        Product.objects.filter(pk=product.pk).update(image_status=Product.ImageStatus.FAILED, image_error=reason[:300])
        logger.warning("Image of product %s failed: %s", product.pk, reason)
        product.refresh_from_db()
        return product
    thumbnail = thumbnail_jpeg(image)
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        if locked.image.name != product.image.name:
            return locked  # replaced meanwhile; the newer task will handle it
        old = locked.thumbnail.name if locked.thumbnail else ""
        locked.thumbnail.save(f"{hashlib.sha256(thumbnail).hexdigest()}.jpg", ContentFile(thumbnail), save=False)
        if old and old != locked.thumbnail.name:
            _delete_files_on_commit(locked.thumbnail.storage, [old])
        locked.image_error = ""
        if locked.garment_mask or not photo_analysis.is_registered():
            locked.image_status = Product.ImageStatus.READY
        locked.save(update_fields=["thumbnail", "image_status", "image_error", "updated_at"])
    analysis = photo_analysis.analyse(image) if analyse else None
    if analysis is not None:
        return product_photo_analysed(product_id=locked.pk, image_name=locked.image.name, analysis=analysis)
    return locked


def product_photo_analysed(*, product_id: int, image_name: str, analysis: PhotoAnalysis) -> Product | None:
    """Record what was measured on the photo ``image_name``: the garment mask (when ``analysis`` has one)
    and the colours and pattern, unless a curator set those (a curator's colours are never overwritten).

    An analysis of a photo that was replaced meanwhile is dropped. Nothing is written when nothing
    changed, so analysing a photo again costs no write.
    """
    with transaction.atomic():
        product = Product.objects.select_for_update().filter(pk=product_id).first()
        if product is None or not product.image or product.image.name != image_name:
            return product
        fields = []
        if analysis.mask_png:
            old = product.garment_mask.name if product.garment_mask else ""
            # Named from the photo's hash: one mask per photo version.
            product.garment_mask.save(
                f"{product.image_sha256 or product.sku}.png", ContentFile(analysis.mask_png), save=False
            )
            if old and old != product.garment_mask.name:
                _delete_files_on_commit(product.garment_mask.storage, [old])
            fields.append("garment_mask")
        if product.colours_source != Product.ColoursSource.CURATOR:
            measured = {
                "colours": analysis.colours,
                "colour": analysis.family,
                "dominant_colour": analysis.dominant_hex,
                "pattern": analysis.pattern,
                "colours_note": analysis.note,
                "colours_source": (
                    Product.ColoursSource.MEASURED if analysis.colours else Product.ColoursSource.UNKNOWN
                ),
            }
            for name, value in measured.items():
                if getattr(product, name) != value:
                    setattr(product, name, value)
                    fields.append(name)
        if product.thumbnail and product.image_status != Product.ImageStatus.READY:
            product.image_status = Product.ImageStatus.READY
            fields.append("image_status")
        if fields:
            product.save(update_fields=[*fields, "updated_at"])
    return product


@transaction.atomic
def product_set_colours(*, product: Product, colours: list[dict], pattern: str = "") -> Product:
    """A curator's colours (palette names with shares, main first) and pattern. They are kept when the
    photo is processed again; :func:`product_reset_colours` hands the colours back to the measurement."""
    names = [str(c.get("name", "")).strip().lower() for c in colours]
    unknown = [n for n in names if n not in FAMILY]
    if unknown or not 1 <= len(names) <= 3 or len(set(names)) != len(names):
        raise ApplicationError(
            "Colours must be one to three different palette names "
            f"({', '.join(FAMILY)}); not: {', '.join(unknown) or 'that list'}.",
            code="invalid",
        )
    shares = [float(c.get("share") or 0) for c in colours]
    if any(s < 0 for s in shares):
        raise ApplicationError("Colour shares cannot be negative.", code="invalid")
    total = sum(shares)
    shares = [s / total if total else 1 / len(shares) for s in shares]
    if pattern and pattern not in Pattern.values:
        raise ApplicationError(f"Pattern must be one of: {', '.join(Pattern.values)}.", code="invalid")
    entries = []
    for name, share in zip(names, shares, strict=True):
        lab = PALETTE_LAB[NAMES.index(name)]
        entries.append(NamedColour(name, FAMILY[name], share, (float(lab[0]), float(lab[1]), float(lab[2]))).as_dict())
    product.colours = entries
    product.colour = entries[0]["family"]
    product.dominant_colour = entries[0]["hex"]
    product.pattern = pattern
    product.colours_source = Product.ColoursSource.CURATOR
    product.colours_note = ""
    product.save(
        update_fields=[
            "colours",
            "colour",
            "dominant_colour",
            "pattern",
            "colours_source",
            "colours_note",
            "updated_at",
        ]
    )
    product_colours_changed.send(sender=Product, product=product)  # the look vector carries the colours
    return product


def product_reset_colours(*, product: Product) -> Product:
    """Forget a curator's colours and measure them again from the photo."""
    with transaction.atomic():
        Product.objects.filter(pk=product.pk).update(colours_source=Product.ColoursSource.NONE)
        product.refresh_from_db()
        if product.image:
            product_colours_changed.send(sender=Product, product=product)
    return product


def products_set_active(*, product_ids: Iterable[int], active: bool) -> int:
    return Product.objects.filter(pk__in=list(product_ids)).update(is_active=active)
