"""The operator's synchronous run (``manage.py analyze_photo``): the whole search in this process,
without the broker, and its JSON report."""

from __future__ import annotations

from django.conf import settings
from django.core.files import File

from core.errors import ApplicationError
from recommender import inference
from recommender.models import PhotoSearch
from recommender.selectors.photo_search import photo_search_report
from recommender.services.photo_search.create import photo_search_create
from recommender.services.photo_search.retention import photo_search_delete
from recommender.services.photo_search.run import photo_search_run
from recommender.services.photo_search.steps import search_photo


def photo_analyze(*, upload, keep: bool = False) -> PhotoSearch:
    """Run the whole search synchronously in this process, without the broker (``analyze_photo``).

    Unless ``keep``, the search and its files are deleted afterwards; the returned object keeps
    its garments and matches in memory (``analysed_matches``) for the report."""
    search = photo_search_create(upload=upload, channel=PhotoSearch.Channel.COMMAND, queue=False)
    photo_search_run(search_id=search.pk)
    search = PhotoSearch.objects.select_related("photo").get(pk=search.pk)
    search.analysed_matches = list(search.matches.select_related("garment"))  # type: ignore[attr-defined]
    if not keep:
        photo_search_delete(search=search)
    return search


def photo_analyze_file(*, path: str, keep: bool = False) -> dict:
    """``analyze_photo``'s report for one file: its garments and catalog ids, or the error that stopped it."""
    try:
        with open(path, "rb") as fh:
            search = photo_analyze(upload=File(fh, name=str(path)), keep=keep)
            scale = 1.0
            photo = search_photo(search)
            if max(photo.width, photo.height) >= settings.PHOTO_SEARCH_MAX_SIDE:
                original = inference.open_image(fh, max_pixels=settings.MAX_IMAGE_PIXELS)
                scale = max(original.size) / max(photo.width, photo.height)
    except OSError as exc:
        return {"photo": path, "error": {"code": "unreadable", "message": f"The file cannot be read: {exc.strerror}"}}
    except ApplicationError as exc:
        return {"photo": path, "error": {"code": exc.code, "message": exc.message}}
    return photo_search_report(search=search, photo=path, scale=scale)
