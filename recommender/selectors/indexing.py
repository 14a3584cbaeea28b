"""Which products need a garment vector, and which model version is in service."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from recommender import inference
from recommender.ml.weights import WeightsError
from recommender.models import GarmentVector
from shop.models import Product


def current_version() -> str | None:
    try:
        return inference.current_model_version()
    except WeightsError:
        return None


def stale_vectors_q(version: str) -> Q:
    """Products whose vector is missing, failed, pending, from another model, photo, slot or category,
    or whose look vector was made with other look weights."""
    return (
        Q(garment_vector__isnull=True)
        | ~Q(garment_vector__status=GarmentVector.Status.INDEXED)
        | ~Q(garment_vector__model_version=version)
        | ~Q(garment_vector__image_sha256=F("image_sha256"))
        | ~Q(garment_vector__slot=F("category__slot"))
        | ~Q(garment_vector__category_id=F("category_id"))
        | ~Q(garment_vector__look_version=inference.current_look_version(version))
    )


def products_needing_vectors(*, version: str, include_failed: bool = True) -> QuerySet[Product]:
    qs = Product.objects.exclude(image="").filter(stale_vectors_q(version))
    if not include_failed:
        qs = qs.exclude(garment_vector__status=GarmentVector.Status.FAILED)
    return qs.order_by("pk")
