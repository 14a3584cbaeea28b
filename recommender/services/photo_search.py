"""Shop by photo: a customer's outfit photo → its garments → look-alikes and what goes with each.

A search runs in steps, each one idempotent and committed with the status that follows it,
so a job that is redelivered (a worker killed mid-job) resumes at the first unfinished step:

    queued → segmenting → embedding → matching → done      (or failed, with the reason)

The photo is an :class:`OutfitPhoto` (source *customer*) and its garments are :class:`Garment`
rows cut and embedded by the same services that store street outfits
(``garments_replace`` / ``garments_embed``); catalog items come from the same vector query as
similar items (``products_near_vector``). The Celery task, the pages, the API and the
``analyze_photo`` command all call these functions.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from PIL import Image

from core.dispatch import enqueue_on_commit
from core.errors import ApplicationError
from core.images import ImageError, open_image
from core.tasks import TRANSIENT_ERRORS
from recommender import inference
from recommender.ml.segmentation.box import box_garment
from recommender.models import Garment, OutfitPhoto, PhotoSearch, PhotoSearchMatch
from recommender.selectors.complements import complements_for_query
from recommender.selectors.photo_search import photo_garment_query
from recommender.selectors.similar import products_near_vector
from recommender.services.complements import garment_complement_query
from recommender.services.outfits import _jpeg, garment_vectors, garment_vectors_store, garments_replace
from shop.models import Product
from shop.validators import validate_image_upload

logger = logging.getLogger(__name__)

Status = PhotoSearch.Status

#: A garment's slot → the catalog slot whose items it is compared with.
CATALOG_SLOT = {"top": "top", "bottom": "bottom", "dress": "dress", "outerwear": "outerwear"}
#: Slots a customer can give a box they drew.
BOX_SLOTS = tuple(CATALOG_SLOT)
MIN_BOX_SIDE = 8
MAX_BOXES = 8
#: The outline is traced on the garment's mask scaled to at most this many pixels a side.
OUTLINE_GRID = 96


class SearchConflict(ApplicationError):
    code = "search_running"
    status_code = 409


@dataclass
class BoxCut:
    """A garment the customer marked with a box (a ``GarmentCut`` for ``garments_replace``)."""

    slot: str
    bbox: tuple[int, int, int, int]
    pixel_share: float
    crop: Image.Image = field(repr=False)
    confidence: float = 1.0
    mask: np.ndarray | None = field(default=None, repr=False)


def _ms(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)


# --- creating a search --------------------------------------------------------------------------


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
    decode_ms = _ms(started)
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
                _queue(search)
    except BaseException:
        for stored in stored_names:
            storage.delete(stored)
        raise
    return search


def _queue(search: PhotoSearch) -> None:
    enqueue_on_commit("recommender.tasks.run_photo_search", str(search.pk))


# --- running a search -----------------------------------------------------------------------------


@contextlib.contextmanager
def _job_lock(search_id) -> Iterator[bool]:
    """A PostgreSQL advisory lock per search: a duplicate delivery never runs the same job twice at once.

    It is held by the database session, so a killed worker's lock goes with its connection."""
    key = uuid.UUID(str(search_id)).int & 0x7FFF_FFFF_FFFF_FFFF
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


class SearchGone(Exception):
    """The search was deleted while its job ran: the job stops quietly and keeps nothing it made."""


def _set_status(search: PhotoSearch, status: str, **fields) -> None:
    """Move the search to ``status`` with a guarded row update (it also locks the row until commit).

    ``UPDATE … WHERE id = …`` touching 0 rows means the customer deleted the search: ``SearchGone``,
    never ``save()``'s "did not affect any rows" error, and never a deleted row saved again."""
    values = {"status": status, "progress": PhotoSearch.PROGRESS[status], **fields}
    if not PhotoSearch.objects.filter(pk=search.pk).update(updated_at=timezone.now(), **values):
        raise SearchGone(search.pk)
    for name, value in values.items():
        setattr(search, name, value)


def _fail(search: PhotoSearch, code: str, message: str) -> None:
    _set_status(search, Status.FAILED, error_code=code[:40], error=message[:300], finished_at=timezone.now())


def _reached(search: PhotoSearch, point: str) -> None:
    """Call ``PHOTO_SEARCH_STEP_HOOK`` (a dotted path; unset in service) at a named point of the job.

    Tests pause a real worker here (a Redis latch) to delete the search at every step."""
    hook = getattr(settings, "PHOTO_SEARCH_STEP_HOOK", "")
    if hook:
        import_string(hook)(search_id=str(search.pk), point=point)


@contextlib.contextmanager
def _step_commit(search: PhotoSearch, step: str, status: str, **fields) -> Iterator[list[str]]:
    """One step's writes: the guarded status update first (it locks the search row, so a deletion
    waits for this commit and then sees, and deletes, every file it references), then the step's rows
    and files. The block appends the storage names it writes to the list it is given; if the step
    does not commit (the search was deleted first, or any error), those files are deleted again."""
    written: list[str] = []
    try:
        with transaction.atomic():
            _set_status(search, status, **fields)
            yield written
            _reached(search, f"{step}:locked")
    except BaseException:
        storage = Garment._meta.get_field("crop").storage
        for name in written:
            storage.delete(name)
        raise


def _search_exists(search_id) -> bool:
    return PhotoSearch.objects.filter(pk=search_id).exists()


def photo_search_run(*, search_id) -> PhotoSearch | None:
    """Run the search's remaining steps. Idempotent: a finished search is left as it is.

    Transient errors (database, broker) propagate, so the task retries from the same step;
    anything else fails the search with a reason the customer can read. A search deleted while
    its job runs stops the job quietly (``None``), and the files the job wrote are deleted."""
    with _job_lock(search_id) as locked:
        if not locked:
            logger.info("Photo search %s is already being run by another worker", search_id)
            return None
        search = PhotoSearch.objects.select_related("photo").filter(pk=search_id).first()
        if search is None or search.status in (Status.DONE, Status.FAILED):
            return search
        PhotoSearch.objects.filter(pk=search.pk).update(attempts=F("attempts") + 1)
        try:
            try:
                _reached(search, "start")
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
                if _search_exists(search_id):
                    raise
                raise SearchGone(search_id) from None
            except (ApplicationError, ImageError) as exc:
                if not _search_exists(search_id):
                    raise SearchGone(search_id) from None
                _fail(search, getattr(exc, "code", "invalid_image"), getattr(exc, "message", str(exc)))
            except Exception:  # noqa: BLE001 - the customer sees a failed search, never a stuck one
                if not _search_exists(search_id):
                    raise SearchGone(search_id) from None  # what broke was the deletion under our feet
                logger.exception("Photo search %s failed", search_id)
                _fail(search, "internal", "Something went wrong while analysing the photo; try again.")
        except SearchGone:
            logger.info("Photo search %s was deleted while it ran; the job stopped", search_id)
            return None
        return search


def _photo_image(photo: OutfitPhoto) -> Image.Image:
    if not photo or not photo.image:
        raise ApplicationError("The photo of this search has been deleted.", code="photo_missing")
    try:
        with photo.image.open("rb") as fh:
            return open_image(fh, max_pixels=settings.MAX_IMAGE_PIXELS)
    except FileNotFoundError as exc:
        raise ApplicationError("The photo of this search has been deleted.", code="photo_missing") from exc


def _segment(search: PhotoSearch) -> dict[int, Image.Image]:
    """Find the garments with the U-Net and store each (crop, colour, outline); returns crops by garment id."""
    _set_status(search, Status.SEGMENTING)
    started = time.perf_counter()
    image = _photo_image(search.photo)
    model = inference.segmenter()
    cuts = model.segment([image])[0].garments
    outlines = [garment_outline(cut.mask, cut.bbox) for cut in cuts]
    _reached(search, "segmenting:computed")
    timings = {**search.timings, "segment": _ms(started)}
    with _step_commit(search, "segmenting", Status.EMBEDDING, timings=timings) as written:
        garments = garments_replace(photo=search.photo, cuts=cuts, origin=Garment.Origin.SEGMENTER, stored=written)
        PhotoSearchMatch.objects.bulk_create(
            PhotoSearchMatch(search=search, garment=garment, outline=outline)
            for garment, outline in zip(garments, outlines, strict=True)
        )
        OutfitPhoto.objects.filter(pk=search.photo_id).update(segmenter_version=model.version)
        search.photo.segmenter_version = model.version
    return {garment.pk: cut.crop for garment, cut in zip(garments, cuts, strict=True)}


def _embed(search: PhotoSearch, crops: dict[int, Image.Image]) -> None:
    """Embed, in one batch, every garment of the photo without a vector from the embedder in service."""
    started = time.perf_counter()
    version = inference.current_model_version()
    garments = [g for g in search.photo.garments.all() if g.embedding is None or g.embedder_version != version]
    computed = None
    if garments:
        in_memory = [crops.get(g.pk) for g in garments]
        computed = garment_vectors(
            garments=garments, crops=in_memory if all(c is not None for c in in_memory) else None
        )
    _reached(search, "embedding:computed")
    with _step_commit(search, "embedding", Status.MATCHING, timings={**search.timings, "embed": _ms(started)}):
        if computed is not None:
            garment_vectors_store(computed)


def _complements_for(garment: Garment) -> list[Product]:
    """Catalog items that go with this garment: the same complete-the-look query as product pages,
    asked with the garment's own complement query vector (none when nothing goes with its slot)."""
    question = garment_complement_query(garment=garment)
    if question is None:
        return []
    suggestions = complements_for_query(question=question, k=settings.PHOTO_SEARCH_RESULTS, colour=garment.colour)
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
    timings = {**search.timings, "match": _ms(started)}
    if "total" not in timings:
        # Upload to results: decoding before the row existed, then everything until now (queue included).
        timings["total"] = timings.get("decode", 0) + round((now - search.created_at).total_seconds() * 1000)
    _reached(search, "matching:computed")
    with _step_commit(
        search, "matching", Status.DONE, timings=timings, finished_at=timezone.now(), error_code="", error=""
    ):
        PhotoSearchMatch.objects.bulk_update(matches, ["similar", "similar_cheaper", "complements", "matched_at"])


# --- the customer's own actions ------------------------------------------------------------------


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
    crop, mask = box_garment(image.crop(bbox))
    return BoxCut(
        slot=slot,
        bbox=bbox,
        pixel_share=round((x1 - x0) * (y1 - y0) / (image.width * image.height), 4),
        crop=crop,
        mask=mask,
    )


def _rectangle(bbox) -> list[list[int]]:
    x0, y0, x1, y1 = bbox
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


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
            photo = search.photo
            bbox = _validated_box(box, width=photo.width, height=photo.height)
            earlier = list(photo.garments.filter(origin=Garment.Origin.BOX).order_by("pk"))
            if len(earlier) >= MAX_BOXES:
                raise ApplicationError(f"A search takes at most {MAX_BOXES} boxes.", code="too_many_boxes")
            image = _photo_image(photo)
            cuts = [_box_cut(image, slot=g.slot, bbox=tuple(g.bbox)) for g in earlier]
            cuts.append(_box_cut(image, slot=slot, bbox=bbox))
            garments = garments_replace(photo=photo, cuts=cuts, origin=Garment.Origin.BOX, stored=written)
            PhotoSearchMatch.objects.bulk_create(
                PhotoSearchMatch(search=search, garment=garment, outline=_rectangle(garment.bbox))
                for garment in garments
            )
            _set_status(search, Status.EMBEDDING, error_code="", error="")
            _queue(search)
    except BaseException:
        storage = Garment._meta.get_field("crop").storage
        for name in written:
            storage.delete(name)
        raise
    return search


def photo_search_retry(*, search: PhotoSearch) -> PhotoSearch:
    """Queue a failed search again from the start (every step is idempotent)."""
    with transaction.atomic():
        search = PhotoSearch.objects.select_for_update().get(pk=search.pk)
        if search.status != Status.FAILED:
            raise SearchConflict("Only a failed search can be retried.")
        _set_status(search, Status.QUEUED, error_code="", error="", finished_at=None)
        _queue(search)
    return search


def photo_search_delete(*, search: PhotoSearch) -> None:
    """Delete the search, its photo, its garments and their files (files once the deletion commits).

    The search row is locked first, as every step of a running job locks it before it writes: a step
    that is committing finishes first, and its garments and crops are then read here and deleted with
    the rest; a step that commits later finds the row gone and deletes its own files."""
    with transaction.atomic():
        search = (
            PhotoSearch.objects.select_for_update(of=("self",)).select_related("photo").filter(pk=search.pk).first()
        )
        if search is None:
            return  # deleted already
        photo = search.photo
        files: list[tuple] = []
        if photo is not None:
            for garment in photo.garments.all():
                if garment.crop:
                    files.append((garment.crop.storage, garment.crop.name))
            if photo.image:
                files.append((photo.image.storage, photo.image.name))
            photo.delete()  # cascades to the search, its garments and matches
        else:
            search.delete()
        for storage, name in files:
            transaction.on_commit(lambda storage=storage, name=name: storage.delete(name))


def photo_searches_expire(*, days: int | None = None, now=None) -> int:
    """Delete every search older than ``days`` (default ``PHOTO_SEARCH_RETENTION_DAYS``), files included."""
    days = settings.PHOTO_SEARCH_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    for search in PhotoSearch.objects.filter(created_at__lt=cutoff).select_related("photo").iterator():
        photo_search_delete(search=search)
        deleted += 1
    return deleted


# --- the operator's synchronous run ----------------------------------------------------------------


def photo_analyze(*, upload, keep: bool = False) -> PhotoSearch:
    """Run the whole search synchronously in this process, without the broker (``analyze_photo``).

    Unless ``keep``, the search and its files are deleted afterwards; the returned object keeps
    its garments and matches in memory (``analysed_matches``) for the report."""
    search = photo_search_create(upload=upload, channel=PhotoSearch.Channel.COMMAND, queue=False)
    photo_search_run(search_id=search.pk)
    search = PhotoSearch.objects.select_related("photo").get(pk=search.pk)
    search.analysed_matches = list(search.matches.select_related("garment"))
    if not keep:
        photo_search_delete(search=search)
    return search


# --- outlines --------------------------------------------------------------------------------------

# Clockwise neighbours, starting north: Moore-neighbour contour tracing.
_NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def _trace(mask: np.ndarray) -> list[tuple[int, int]]:
    """The outer boundary of the (single) blob in ``mask`` as (row, col) points, clockwise."""
    padded = np.pad(mask, 1)
    rows, cols = np.nonzero(padded)
    if len(rows) == 0:
        return []
    first = np.lexsort((cols, rows))[0]
    start = (int(rows[first]), int(cols[first]))
    contour = [start]
    current, back = start, 6  # entered from the west: the pixel left of the first one is background
    for _ in range(4 * padded.size):
        for turn in range(8):
            direction = (back + 1 + turn) % 8
            dy, dx = _NEIGHBOURS[direction]
            candidate = (current[0] + dy, current[1] + dx)
            if padded[candidate]:
                previous = _NEIGHBOURS[(direction - 1) % 8]
                background = (current[0] + previous[0], current[1] + previous[1])
                back = _NEIGHBOURS.index((background[0] - candidate[0], background[1] - candidate[1]))
                current = candidate
                break
        else:
            return contour  # a single pixel
        if current == start:
            break
        contour.append(current)
    return [(r - 1, c - 1) for r, c in contour]


def garment_outline(mask: np.ndarray | None, bbox) -> list[list[int]]:
    """A closed polygon around the garment's mask, in photo pixels (its box when there is no mask)."""
    if mask is None or not mask.any():
        return _rectangle(bbox)
    x0, y0, x1, y1 = bbox
    height, width = mask.shape
    scale = min(1.0, OUTLINE_GRID / max(height, width))
    grid = mask
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        grid = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)) > 0
    points = _trace(grid)
    if len(points) < 3:
        return _rectangle(bbox)
    sy, sx = height / grid.shape[0], width / grid.shape[1]
    return [[round(x0 + (c + 0.5) * sx), round(y0 + (r + 0.5) * sy)] for r, c in points]


def photo_analyze_file(*, path: str, keep: bool = False) -> dict:
    """``analyze_photo``'s report for one file: its garments and catalog ids, or the error that stopped it."""
    from django.core.files import File

    from recommender.selectors.photo_search import photo_search_report

    try:
        with open(path, "rb") as fh:
            search = photo_analyze(upload=File(fh, name=str(path)), keep=keep)
            scale = 1.0
            if max(search.photo.width, search.photo.height) >= settings.PHOTO_SEARCH_MAX_SIDE:
                original = open_image(fh, max_pixels=settings.MAX_IMAGE_PIXELS)
                scale = max(original.size) / max(search.photo.width, search.photo.height)
    except OSError as exc:
        return {"photo": path, "error": {"code": "unreadable", "message": f"The file cannot be read: {exc.strerror}"}}
    except ApplicationError as exc:
        return {"photo": path, "error": {"code": exc.code, "message": exc.message}}
    return photo_search_report(search=search, photo=path, scale=scale)
