"""Running a photo search: the state machine, one guarded step at a time.

    queued → segmenting → embedding → matching → done      (or failed, with the reason)

Each step is idempotent and commits with the status that follows it (``steps.step_commit``),
so a redelivered job resumes at the first unfinished step.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from PIL import Image

from core.errors import ApplicationError
from core.tasks import TRANSIENT_ERRORS
from recommender import inference
from recommender.models import Garment, OutfitPhoto, PhotoSearch, PhotoSearchMatch
from recommender.selectors.complements import complements_for_query, garment_garb
from recommender.selectors.photo_search import photo_garment_query
from recommender.selectors.similar import products_near_vector
from recommender.services.complements import garment_complement_query
from recommender.services.outfits import garment_vectors, garment_vectors_store, garments_replace
from recommender.services.photo_search.outline import garment_outline
from recommender.services.photo_search.steps import (
    SearchGone,
    Status,
    elapsed_ms,
    fail,
    job_lock,
    photo_image,
    reached,
    search_exists,
    search_photo,
    set_status,
    step_commit,
)
from shop.models import Product

logger = logging.getLogger("recommender.services.photo_search")

#: A garment's slot → the catalog slot whose items it is compared with.
CATALOG_SLOT = {"top": "top", "bottom": "bottom", "dress": "dress", "outerwear": "outerwear"}


def photo_search_run(*, search_id) -> PhotoSearch | None:
    """Run the search's remaining steps. Idempotent: a finished search is left as it is.

    Transient errors (database, broker) propagate, so the task retries from the same step;
    anything else fails the search with a reason the customer can read. A search deleted while
    its job runs stops the job quietly (``None``), and the files the job wrote are deleted."""
    with job_lock(search_id) as locked:
        if not locked:
            logger.info("Photo search %s is already being run by another worker", search_id)
            return None
        search = PhotoSearch.objects.select_related("photo").filter(pk=search_id).first()
        if search is None or search.status in (Status.DONE, Status.FAILED):
            return search
        PhotoSearch.objects.filter(pk=search.pk).update(attempts=F("attempts") + 1)
        try:
            try:
                reached(search, "start")
                crops: dict[int, Image.Image] = {}
                if search.status in (Status.QUEUED, Status.SEGMENTING):
                    crops = _segment(search)
                if search.status == Status.EMBEDDING:
                    _embed(search, crops)
                if search.status == Status.MATCHING:
                    _match(search)
            except SearchGone:
                raise
            except TRANSIENT_ERRORS:
                if search_exists(search_id):
                    raise
                raise SearchGone(search_id) from None
            except (ApplicationError, inference.ImageError) as exc:
                if not search_exists(search_id):
                    raise SearchGone(search_id) from None
                fail(search, getattr(exc, "code", "invalid_image"), getattr(exc, "message", str(exc)))
            except Exception:  # noqa: BLE001 - the customer sees a failed search, never a stuck one
                if not search_exists(search_id):
                    raise SearchGone(search_id) from None  # what broke was the deletion under our feet
                logger.exception("Photo search %s failed", search_id)
                fail(search, "internal", "Something went wrong while analysing the photo; try again.")
        except SearchGone:
            logger.info("Photo search %s was deleted while it ran; the job stopped", search_id)
            return None
        return search


def _segment(search: PhotoSearch) -> dict[int, Image.Image]:
    """Find the garments with the U-Net and store each (crop, colour, outline); returns crops by garment id."""
    set_status(search, Status.SEGMENTING)
    started = time.perf_counter()
    photo = search_photo(search)
    image = photo_image(photo)
    model = inference.segmenter()
    cuts = model.segment([image])[0].garments
    outlines = [garment_outline(cut.mask, cut.bbox) for cut in cuts]
    reached(search, "segmenting:computed")
    timings = {**search.timings, "segment": elapsed_ms(started)}
    with step_commit(search, "segmenting", Status.EMBEDDING, timings=timings) as written:
        garments = garments_replace(photo=photo, cuts=cuts, origin=Garment.Origin.SEGMENTER, stored=written)
        PhotoSearchMatch.objects.bulk_create(
            PhotoSearchMatch(search=search, garment=garment, outline=outline)
            for garment, outline in zip(garments, outlines, strict=True)
        )
        OutfitPhoto.objects.filter(pk=photo.pk).update(segmenter_version=model.version)
        photo.segmenter_version = model.version
    return {garment.pk: cut.crop for garment, cut in zip(garments, cuts, strict=True)}


def _embed(search: PhotoSearch, crops: dict[int, Image.Image]) -> None:
    """Embed, in one batch, every garment of the photo without a vector from the embedder in service."""
    started = time.perf_counter()
    version = inference.current_model_version()
    garments = [g for g in search_photo(search).garments.all() if g.embedding is None or g.embedder_version != version]
    computed = None
    if garments:
        in_memory = [crops[g.pk] for g in garments if g.pk in crops]
        computed = garment_vectors(garments=garments, crops=in_memory if len(in_memory) == len(garments) else None)
    reached(search, "embedding:computed")
    with step_commit(search, "embedding", Status.MATCHING, timings={**search.timings, "embed": elapsed_ms(started)}):
        if computed is not None:
            garment_vectors_store(computed)


def _complements_for(garment: Garment) -> list[Product]:
    """Catalog items that go with this garment: the same complete-the-look query as product pages,
    asked with the garment's own complement query vector (none when nothing goes with its slot)."""
    question = garment_complement_query(garment=garment)
    if question is None:
        return []
    suggestions = complements_for_query(
        question=question, k=settings.PHOTO_SEARCH_RESULTS, colour=garment.colour, own=garment_garb(garment)
    )
    return [s.product for s in suggestions]


def _match(search: PhotoSearch) -> None:
    """For each garment: the nearest catalog items of its slot, the cheaper ones, and what goes with it."""
    started = time.perf_counter()
    k = settings.PHOTO_SEARCH_RESULTS
    matches = list(search.matches.select_related("garment"))
    now = timezone.now()
    for match in matches:
        garment = match.garment
        if garment.embedding is None:
            continue
        query = photo_garment_query(garment=garment, slot=CATALOG_SLOT[garment.slot])
        similar = products_near_vector(query=query, k=k)
        cheaper = products_near_vector(query=query, k=k, max_price=similar[0].price) if similar else []
        match.similar = [p.pk for p in similar]
        match.similar_cheaper = [p.pk for p in cheaper]
        match.complements = [p.pk for p in _complements_for(garment)]
        match.matched_at = now
    timings = {**search.timings, "match": elapsed_ms(started)}
    if "total" not in timings:
        # Upload to results: decoding before the row existed, then everything until now (queue included).
        timings["total"] = timings.get("decode", 0) + round((now - search.created_at).total_seconds() * 1000)
    reached(search, "matching:computed")
    with step_commit(
        search, "matching", Status.DONE, timings=timings, finished_at=timezone.now(), error_code="", error=""
    ):
        PhotoSearchMatch.objects.bulk_update(matches, ["similar", "similar_cheaper", "complements", "matched_at"])
