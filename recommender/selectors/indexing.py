"""Which products need indexing (garment and complement vectors), and which model versions are in service."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from recommender import inference
from recommender.inference import WeightsError
from recommender.models import COMPLEMENT_TARGETS, GarmentVector
from shop.models import Product


def current_version() -> str | None:
    try:
        return inference.current_model_version()
    except WeightsError:
        return None


def current_complement_version() -> str | None:
    try:
        return inference.current_complement_version()
    except WeightsError:
        return None


def stale_complements_q(complement_version: str | None) -> Q:
    """Products of a slot that has complements whose complement vectors are missing or out of date."""
    if complement_version is None:
        return Q(pk__in=[])
    return Q(category__slot__in=list(COMPLEMENT_TARGETS)) & (
        Q(complement_vector__isnull=True)
        | ~Q(complement_vector__model_version=complement_version)
        | ~Q(complement_vector__image_sha256=F("image_sha256"))
        | ~Q(complement_vector__slot=F("category__slot"))
    )


def stale_vectors_q(version: str, complement_version: str | None = None) -> Q:
    """Products whose vector is missing, failed, pending, from another model, photo, slot or category,
    whose look vector was made with other look weights, or whose complement vectors are out of date
    (when a complement model is in service)."""
    return (
        Q(garment_vector__isnull=True)
        | ~Q(garment_vector__status=GarmentVector.Status.INDEXED)
        | ~Q(garment_vector__model_version=version)
        | ~Q(garment_vector__image_sha256=F("image_sha256"))
        | ~Q(garment_vector__slot=F("category__slot"))
        | ~Q(garment_vector__category_id=F("category_id"))
        | ~Q(garment_vector__look_version=inference.current_look_version(version))
        | stale_complements_q(complement_version)
    )


def products_needing_vectors(*, version: str, include_failed: bool = True) -> QuerySet[Product]:
    qs = Product.objects.exclude(image="").filter(stale_vectors_q(version, current_complement_version()))
    if not include_failed:
        qs = qs.exclude(garment_vector__status=GarmentVector.Status.FAILED)
    return qs.order_by("pk")
