"""Catalog writes: products, their images, and curator bulk actions."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.text import slugify

from core.images import ImageError, open_image
from shop.errors import ApplicationError
from shop.imaging import ColourAnalysis, analyse_product_image
from shop.models import Category, Product
from shop.services.variants import variant_create, variant_set_stock, variants_lock
from shop.sizes import ONE_SIZE
from shop.validators import image_format, stored_image_name

logger = logging.getLogger(__name__)

PRODUCT_FIELDS = {"sku", "name", "brand", "description", "price", "currency", "category", "stock", "is_active"}


def unique_slug(name: str, sku: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(f"{name}-{sku}")[:200] or slugify(sku) or "product"
    slug, n = base, 2
    while Product.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _queue_image_processing(product: Product) -> None:
    from shop.tasks import process_product_image

    process_product_image.delay_on_commit(product.pk)
    _request_indexing(product)


def _request_indexing(product: Product) -> None:
    """A new photo means a new garment vector (the recommender embeds the original photo)."""
    from recommender.services.indexing import product_index_request

    product_index_request(product=product)


@transaction.atomic
def product_create(
    *,
    sku: str,
    name: str,
    category: Category,
    price: Decimal,
    brand: str = "",
    description: str = "",
    stock: int = 0,
    is_active: bool = True,
    currency: str | None = None,
    image: UploadedFile | ContentFile | None = None,
) -> Product:
    product = Product(
        sku=sku,
        name=name,
        category=category,
        price=price,
        brand=brand,
        description=description,
        is_active=is_active,
        currency=currency or settings.SHOP_CURRENCY,
        slug=unique_slug(name, sku),
    )
    product.full_clean(exclude=["slug", "image"])
    product.save()
    # A product made without sizes is sold as one "One size" variant holding its stock.
    variant_create(product=product, size=ONE_SIZE, sku=sku, stock=stock)
    product.refresh_from_db(fields=["stock"])
    if image is not None:
        product_set_image(product=product, image=image)
    return product


@transaction.atomic
def product_update(*, product: Product, data: dict[str, Any], image=None) -> Product:
    unknown = set(data) - PRODUCT_FIELDS
    if unknown:
        raise ApplicationError(f"Unknown product fields: {', '.join(sorted(unknown))}")
    data = dict(data)
    if "stock" in data:
        # Stock belongs to the sizes; a product with exactly one size takes it as that size's stock.
        variants = variants_lock(product_id=product.pk)
        if len(variants) != 1:
            raise ApplicationError("This product has several sizes: set the stock of each size.")
        variant_set_stock(variant_id=variants[0].pk, stock=data.pop("stock"))
        product.refresh_from_db(fields=["stock"])
    for field, value in data.items():
        setattr(product, field, value)
    if "name" in data or "sku" in data:
        product.slug = unique_slug(product.name, product.sku, exclude_pk=product.pk)
    product.full_clean(exclude=["image"])
    product.save()
    if image is not None:
        product_set_image(product=product, image=image)
    return product


def _delete_files_on_commit(storage, names: list[str]) -> None:
    """Old files go only once the new state is committed, so a rollback loses nothing."""
    for name in names:
        transaction.on_commit(lambda name=name: storage.delete(name))


def _file_sha256(fileobj) -> str:
    digest = hashlib.sha256()
    fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(1 << 20), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def product_set_image(*, product: Product, image, filename: str | None = None, process_now: bool = False) -> Product:
    """Store a new main image, then make its thumbnail and measure its colour.

    By default the analysis is queued for the worker after commit; batch jobs that are
    already off the request path (imports) pass ``process_now``. Entry points check the
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
    old_files = [f.name for f in (product.image, product.thumbnail) if f]
    product.image.save(name, image, save=False)
    product.thumbnail = None
    product.image_status = Product.ImageStatus.PENDING
    product.image_error = ""
    product.save(update_fields=["image", "image_sha256", "thumbnail", "image_status", "image_error", "updated_at"])
    _delete_files_on_commit(product.image.storage, old_files)
    if process_now:
        product_image_process(product_id=product.pk)
        _request_indexing(product)
    else:
        _queue_image_processing(product)
    return product


def product_image_changed(*, product: Product) -> None:
    """Admin saved a product whose image changed (or asked to retry): reset state and queue processing."""
    digest = ""
    if product.image:
        with product.image.open("rb") as fh:
            digest = _file_sha256(fh)
    Product.objects.filter(pk=product.pk).update(
        thumbnail="",
        image_sha256=digest,
        image_status=Product.ImageStatus.PENDING if product.image else Product.ImageStatus.NONE,
        image_error="",
    )
    if product.image:
        _queue_image_processing(product)


def product_image_process(*, product_id: int) -> Product | None:
    """Make the thumbnail and measure the dominant colour. Idempotent: safe to run twice.

    A missing or broken image leaves the product on sale and records why, so a
    curator sees it in the admin and can retry.
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
    from recommender.inference import product_garment_mask

    analysis = analyse_product_image(image, product_garment_mask(image))
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        if locked.image.name != product.image.name:
            return locked  # replaced meanwhile; the newer task will handle it
        old = [f.name for f in (locked.thumbnail, locked.garment_mask) if f]
        thumbnail_name = f"{hashlib.sha256(analysis.thumbnail_jpeg).hexdigest()}.jpg"
        locked.thumbnail.save(thumbnail_name, ContentFile(analysis.thumbnail_jpeg), save=False)
        # Named from the photo's hash: one mask per photo version, reused by indexing.
        locked.garment_mask.save(f"{locked.image_sha256 or locked.sku}.png", ContentFile(analysis.mask_png), save=False)
        _delete_files_on_commit(
            locked.thumbnail.storage, [n for n in old if n not in (locked.thumbnail.name, locked.garment_mask.name)]
        )
        fields = ["thumbnail", "garment_mask", "image_status", "image_error", "updated_at"]
        if locked.colours_source != Product.ColoursSource.CURATOR:  # a curator's colours are never overwritten
            _apply_measured_colours(locked, analysis.colour)
            fields += ["dominant_colour", "colour", "colours", "pattern", "colours_source", "colours_note"]
        locked.image_status = Product.ImageStatus.READY
        locked.image_error = ""
        locked.save(update_fields=fields)
    return locked


def _apply_measured_colours(product: Product, colour: ColourAnalysis) -> None:
    product.colours = colour.colours
    product.colour = colour.family
    product.dominant_colour = colour.dominant_hex
    product.pattern = colour.pattern
    product.colours_note = colour.note
    product.colours_source = Product.ColoursSource.MEASURED if colour.colours else Product.ColoursSource.UNKNOWN


@transaction.atomic
def product_set_colours(*, product: Product, colours: list[dict], pattern: str = "") -> Product:
    """A curator's colours (palette names with shares, main first) and pattern. They are kept when the
    photo is processed again; :func:`product_reset_colours` hands the colours back to the measurement."""
    from core.colour.palette import FAMILY, NAMES, PALETTE_LAB, NamedColour
    from shop.models import Pattern

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
        entries.append(NamedColour(name, FAMILY[name], share, tuple(float(v) for v in lab)).as_dict())
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
    _request_indexing(product)  # the look vector carries the colours
    return product


def product_reset_colours(*, product: Product) -> Product:
    """Forget a curator's colours and measure them again from the photo."""
    Product.objects.filter(pk=product.pk).update(colours_source=Product.ColoursSource.NONE)
    product.refresh_from_db()
    if product.image:
        _queue_image_processing(product)
    return product


def products_set_active(*, product_ids: Iterable[int], active: bool) -> int:
    return Product.objects.filter(pk__in=list(product_ids)).update(is_active=active)
