"""Writes of the recommender: indexing products (their photos' analysis, garment vectors)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core.dispatch import enqueue_on_commit
from core.errors import ApplicationError
from core.images import ImageError, open_image
from recommender import inference
from recommender.inference import (
    LOOK_DIM,
    GarmentLook,
    WeightsError,
    look_vector,
    mask_png,
    measure_garment,
    named_colour_features,
    pattern_features,
    read_mask_png,
)
from recommender.models import EMBEDDING_DIM, GarmentVector
from recommender.selectors.indexing import current_complement_version, stale_vectors_q
from recommender.services.complements import complement_vectors_store, street_support_refresh
from recommender.services.photo_analysis import look_analysis
from shop.models import Product
from shop.services.catalog import product_photo_analysed

logger = logging.getLogger(__name__)


def vectors_changed() -> None:
    """Garment vectors or street outfits changed wholesale (a re-indexing, new street outfits): advance
    the rankings' and the catalog's counters (:mod:`recommender.selectors.freshness`), so every cached
    ranking is searched again. A single vector write needs no call: its row is logged and merged into
    the cached rankings of its slot."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('recommender_ranking_changes'), nextval('recommender_catalog_changes')")


def vector_changes_prune() -> int:
    """Forget logged vector writes older than any cached ranking can be (twice
    ``RECOMMENDER_CACHE_SECONDS``, at least a day): rankings merge only what was written since they
    were computed. Returns how many were deleted; run by celery beat."""
    keep = max(2 * settings.RECOMMENDER_CACHE_SECONDS, 86400)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM recommender_vector_change WHERE written_at < now() - make_interval(secs => %s)", [keep]
        )
        return cursor.rowcount


def catalog_changed() -> None:
    """Advance the catalog's change counter by hand, for a change no trigger sees (migration
    ``recommender.0007`` counts every write to products, rules and vectors)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('recommender_catalog_changes')")


def product_index_request(*, product: Product) -> GarmentVector:
    """Mark ``product`` as needing a vector and queue the embedding after commit."""
    vector, _ = GarmentVector.objects.update_or_create(
        product=product,
        defaults={"status": GarmentVector.Status.PENDING, "error": "", "slot": product.category.slot},
    )
    enqueue_on_commit("recommender.tasks.embed_product", product.pk)
    return vector


def validate_vector(vector: np.ndarray, *, model_version: str) -> np.ndarray:
    """Refuse a vector of the wrong shape, with non-finite values, or from another model."""
    vector = np.asarray(vector, dtype=np.float32)
    if vector.shape != (EMBEDDING_DIM,):
        raise ApplicationError(f"A garment vector has {EMBEDDING_DIM} dimensions, not {vector.shape}.")
    if not np.isfinite(vector).all():
        raise ApplicationError("A garment vector must contain only finite numbers.")
    current = inference.current_model_version()
    if model_version != current:
        raise ApplicationError(
            f"Vector from model {model_version[:12]} refused: the model in service is {current[:12]}.",
            code="stale_model",
        )
    norm = float(np.linalg.norm(vector))
    if norm == 0:
        raise ApplicationError("A garment vector cannot be all zeros.")
    return vector / norm


def vector_store(
    *, product: Product, vector: np.ndarray, model_version: str, look: np.ndarray | None = None
) -> GarmentVector:
    """Save a product's vector (and its look vector) after validating it; marks the product indexed."""
    clean = validate_vector(vector, model_version=model_version)
    look_fields = {}
    if look is not None:
        look = np.asarray(look, dtype=np.float32)
        if look.shape != (LOOK_DIM,) or not np.isfinite(look).all() or not look.any():
            raise ApplicationError(f"A look vector has {LOOK_DIM} finite dimensions, not all zero.")
        look_fields = {"look": look.tolist(), "look_version": inference.current_look_version(model_version)}
    row, _ = GarmentVector.objects.update_or_create(
        product=product,
        defaults={
            **look_fields,
            "embedding": clean.tolist(),
            "model_version": model_version,
            "image_sha256": product.image_sha256,
            "slot": product.category.slot,
            "category_id": product.category_id,
            "status": GarmentVector.Status.INDEXED,
            "error": "",
            "indexed_at": timezone.now(),
        },
    )
    return row


def _product_mask(product: Product, image) -> tuple[np.ndarray, bytes]:
    """The stored mask of this photo version, else one computed now (with its PNG, to be stored)."""
    if product.garment_mask and product.image_sha256 and product.image_sha256 in product.garment_mask.name:
        try:
            with product.garment_mask.open("rb") as fh:
                mask = read_mask_png(fh)
            if mask.shape == (image.height, image.width):
                return mask, b""
        except OSError:
            pass
    mask = inference.product_garment_mask(image)
    return mask, mask_png(mask)


def _photos_analyse(products: Sequence[Product], images: Sequence) -> tuple[list[np.ndarray], list[GarmentLook]]:
    """Each photo's garment mask and measured look, measured once and recorded on the product
    (``shop.services.catalog.product_photo_analysed``: mask, colours and pattern; never a curator's)."""
    masks, looks = [], []
    for product, image in zip(products, images, strict=True):
        mask, png = _product_mask(product, image)
        look = measure_garment(image, mask)
        product_photo_analysed(
            product_id=product.pk, image_name=product.image.name, analysis=look_analysis(look, mask=png)
        )
        masks.append(mask)
        looks.append(look)
    return masks, looks


def _look_parts(product: Product, measured: GarmentLook) -> tuple[np.ndarray, np.ndarray]:
    """Colour signature and pattern one-hot of the product's garment. A curator's colours and pattern
    win over the measured ones, so an edit changes the look-alikes too."""
    if product.colours_source == Product.ColoursSource.CURATOR:
        colour = named_colour_features(product.colours) if product.colours else measured.colour_features
        return colour, pattern_features(product.pattern)
    return measured.colour_features, pattern_features(measured.pattern or product.pattern)


def _photos_open(products: Sequence[Product]) -> tuple[list[Product], list, list[tuple[int, str]]]:
    """The products whose photo opens, their decoded photos, and ``(id, reason)`` of the others."""
    ready, images, failures = [], [], []
    for product in products:
        if not product.image:
            failures.append((product.pk, "The product has no photo."))
            continue
        try:
            with product.image.open("rb") as fh:
                images.append(open_image(fh, max_pixels=settings.MAX_IMAGE_PIXELS))
            ready.append(product)
        except (ImageError, OSError) as exc:
            failures.append(
                (product.pk, str(exc) if isinstance(exc, ImageError) else f"The photo cannot be read: {exc}")
            )
    return ready, images, failures


def _mark_failed(product_ids: Iterable[int], reason: str) -> None:
    for product in Product.objects.filter(pk__in=list(product_ids)).select_related("category"):
        GarmentVector.objects.update_or_create(
            product=product,
            defaults={"status": GarmentVector.Status.FAILED, "error": reason[:300], "slot": product.category.slot},
        )


def products_embed(*, product_ids: Sequence[int]) -> dict[str, int]:
    """Analyse these products' photos (mask, colours, pattern) and embed them in one batch. Idempotent:
    running it twice gives the same rows.

    A product with a missing or broken photo is marked failed with the reason and stays
    on sale; the others in the batch are still indexed. Without an embedder the photos are still
    analysed (the shop's colours need no vectors). Transient errors (database, broker) propagate so
    the task can retry the whole batch.
    """
    try:
        model = inference.embedder()
    except WeightsError as exc:
        products = list(Product.objects.filter(pk__in=list(product_ids)).exclude(image=""))
        ready, images, _ = _photos_open(products)
        _photos_analyse(ready, images)
        _mark_failed(product_ids, f"Model unavailable: {exc}")
        return {"indexed": 0, "failed": len(product_ids), "skipped": 0}
    products = list(Product.objects.filter(pk__in=list(product_ids)).select_related("category"))
    # Already current (same models, photo and slot): a duplicate message costs nothing.
    fresh = set(
        Product.objects.filter(pk__in=[p.pk for p in products])
        .exclude(stale_vectors_q(model.version, current_complement_version()))
        .values_list("pk", flat=True)
    )
    skipped = len(fresh)
    products = [p for p in products if p.pk not in fresh]
    ready, images, failures = _photos_open(products)
    for product_id, reason in failures:
        _mark_failed([product_id], reason)
    GarmentVector.objects.filter(product__in=products).update(attempts=F("attempts") + 1)
    if ready:
        masks, measured = _photos_analyse(ready, images)
        vectors = model.embed(images, batch_size=settings.RECOMMENDER_BATCH_SIZE)
        weights = inference.look_weights()
        looks = [
            look_vector(vector, *_look_parts(product, look), weights)
            for product, look, vector in zip(ready, measured, vectors, strict=True)
        ]
        with transaction.atomic():
            for product, vector, look in zip(ready, vectors, looks, strict=True):
                vector_store(product=product, vector=vector, model_version=model.version, look=look)
        complement_vectors_store(products=ready, images=images, masks=masks)
        # Every write above is logged per product: cached rankings merge these products in (no call
        # to vectors_changed, which would make every product page search the vectors again).
        street_support_refresh(product_ids=[p.pk for p in ready])
    return {"indexed": len(ready), "failed": len(failures), "skipped": skipped}
