"""Reads of shop by photo: whose searches these are, what each found, and the operators' figures."""

from __future__ import annotations

import secrets
import statistics
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, Q, QuerySet
from PIL import Image

from recommender import inference
from recommender.inference import CATEGORY_OF_FINE, look_vector, measure_garment, pattern_features
from recommender.models import Garment, GarmentVector, PhotoSearch, PhotoSearchMatch
from recommender.selectors.similar import VectorQuery
from shop.models import Category, Product

#: The session key under which an anonymous visitor's random owner key is kept.
VISITOR_SESSION_KEY = "photo_search_visitor"
NO_GARMENT_MESSAGE = "We found no garment: draw a box around it."


@dataclass(frozen=True)
class Owner:
    """Who is asking: a signed-in user and/or the anonymous visitor key from their session."""

    user: object | None
    visitor_key: str

    @property
    def is_superuser(self) -> bool:
        return bool(self.user is not None and getattr(self.user, "is_superuser", False))


def owner_of(*, user, session, create: bool = False) -> Owner:
    """The owner behind a request. ``create`` gives an anonymous visitor a key (only when they upload)."""
    key = session.get(VISITOR_SESSION_KEY, "") if session is not None else ""
    if not key and create and session is not None and not (user and user.is_authenticated):
        key = secrets.token_hex(16)
        session[VISITOR_SESSION_KEY] = key
    return Owner(user=user if user is not None and user.is_authenticated else None, visitor_key=key)


def _owned(owner: Owner) -> Q:
    condition = Q(pk__in=[])
    if owner.user is not None:
        condition |= Q(user=owner.user)
    if owner.visitor_key:
        condition |= Q(user__isnull=True, visitor_key=owner.visitor_key)
    return condition


def photo_search_get(*, search_id, owner: Owner) -> PhotoSearch | None:
    """The search if ``owner`` may read it (its owner, or a superuser); else None, as if it did not exist."""
    qs = PhotoSearch.objects.select_related("photo")
    if not owner.is_superuser:
        qs = qs.filter(_owned(owner))
    return qs.filter(pk=search_id).first()


def photo_search_list(*, owner: Owner) -> QuerySet[PhotoSearch]:
    """The owner's own searches, newest first (never anyone else's, superusers included)."""
    return (
        PhotoSearch.objects.filter(_owned(owner))
        .select_related("photo")
        .annotate(garment_count=Count("matches"))
        .order_by("-created_at")
    )


def _garment_category_id(garment: Garment, slot: str) -> int | None:
    """The catalog category of the garment's kind (a bottom's trousers, shorts or skirt), if the shop has it."""
    slug = CATEGORY_OF_FINE.get(garment.fine_label or "")
    if not slug:
        return None
    return Category.objects.filter(slug=slug, slot=slot).values_list("pk", flat=True).first()


def photo_garment_query(*, garment: Garment, slot: str, crop: Image.Image | None = None) -> VectorQuery:
    """How a garment found in a customer's photo asks for its look-alikes: the way a product does
    (``product_vector_query``) — by look vector (shape blended with the colour and pattern of its own
    pixels), its category first — and, within the category and then within the rest of the slot,
    the items of its main colour first.

    ``crop``: the garment's white-filled crop (read from storage when not given)."""
    if crop is None:
        with garment.crop.open("rb") as fh:
            crop = Image.open(fh).convert("RGB")
    look = measure_garment(crop, None)
    version = garment.embedder_version
    embedding = np.asarray(garment.embedding, dtype=np.float32)
    look_version = inference.current_look_version(version)
    by_look = GarmentVector.objects.filter(slot=slot, look_version=look_version, look__isnull=False).exists()
    vector = look_vector(embedding, look.colour_features, pattern_features(look.pattern), inference.look_weights())
    return VectorQuery(
        embedding=embedding.tolist(),
        slot=slot,
        model_version=version,
        look=vector.astype(float).tolist() if by_look else None,
        look_version=look_version if by_look else "",
        category_id=_garment_category_id(garment, slot),
        colour=look.colours[0].family if look.colours else "",
    )


@dataclass
class GarmentResult:
    match: PhotoSearchMatch
    similar: list[Product] = field(default_factory=list)
    similar_cheaper: list[Product] = field(default_factory=list)
    complements: list[Product] = field(default_factory=list)

    @property
    def garment(self):
        return self.match.garment


@dataclass
class PhotoSearchView:
    search: PhotoSearch
    garments: list[GarmentResult]

    @property
    def notice(self) -> str:
        """A word for the customer about a finished search."""
        if self.search.status != PhotoSearch.Status.DONE:
            return ""
        if not self.garments:
            return NO_GARMENT_MESSAGE
        return ""


def photo_search_view(*, search: PhotoSearch) -> PhotoSearchView:
    """The search with each garment's catalog items, still on sale and in stock, in their ranked order."""
    matches = list(search.matches.select_related("garment"))
    ids = {pk for m in matches for pk in (*m.similar, *m.similar_cheaper, *m.complements)}
    products = {
        p.pk: p for p in Product.objects.filter(pk__in=ids, is_active=True, stock__gt=0).select_related("category")
    }

    def pick(ranked: list[int]) -> list[Product]:
        return [products[pk] for pk in ranked if pk in products]

    garments = [
        GarmentResult(
            match=m, similar=pick(m.similar), similar_cheaper=pick(m.similar_cheaper), complements=pick(m.complements)
        )
        for m in matches
    ]
    return PhotoSearchView(search=search, garments=garments)


def photo_search_report(*, search: PhotoSearch, photo: str, scale: float = 1.0) -> dict:
    """The ``analyze_photo`` JSON line for a search: garments found by the segmenter and their catalog ids.

    ``scale`` maps the stored photo's pixels back to the photo as given (when it was larger than
    ``PHOTO_SEARCH_MAX_SIDE``)."""
    if search.status == PhotoSearch.Status.FAILED:
        return {"photo": photo, "error": {"code": search.error_code or "failed", "message": search.error}}
    matches = getattr(search, "analysed_matches", None)
    if matches is None:
        matches = list(search.matches.select_related("garment"))
    garments = []
    for match in matches:
        garment = match.garment
        if garment.origin != garment.Origin.SEGMENTER:
            continue
        garments.append(
            {
                "slot": garment.slot,
                "bbox": [round(v * scale) for v in garment.bbox],
                "pixel_share": garment.pixel_share,
                "confidence": garment.confidence,
                "similar": list(match.similar),
                "complements": list(match.complements),
            }
        )
    steps = ("decode", "segment", "embed", "match", "total")
    return {"photo": photo, "garments": garments, "timings_ms": {s: search.timings.get(s, 0) for s in steps}}


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return float(ordered[index])


def photo_search_stats(*, recent: int = 500) -> dict:
    """Counts per status, the most common failure reasons and step timings of recent finished searches."""
    counts = dict(PhotoSearch.objects.values_list("status").annotate(n=Count("pk")).order_by())
    failures = list(
        PhotoSearch.objects.filter(status=PhotoSearch.Status.FAILED)
        .values("error_code", "error")
        .annotate(n=Count("pk"))
        .order_by("-n")[:5]
    )
    done = PhotoSearch.objects.filter(status=PhotoSearch.Status.DONE).order_by("-finished_at")
    timings = [t for t in done.values_list("timings", flat=True)[:recent] if t]
    steps = {}
    for step in ("decode", "segment", "embed", "match", "total"):
        values = [t[step] for t in timings if step in t]
        if values:
            steps[step] = {
                "p50": round(statistics.median(values)),
                "p95": round(_percentile(values, 0.95)),
                "n": len(values),
            }
    return {
        "counts": {status: counts.get(status, 0) for status in PhotoSearch.Status.values},
        "total": sum(counts.values()),
        "failures": failures,
        "timings": steps,
    }
