"""Shop by photo: a customer's outfit photo → its garments → look-alikes and what goes with each.

A search runs in steps, each one idempotent and committed with the status that follows it,
so a job that is redelivered (a worker killed mid-job) resumes at the first unfinished step:

    queued → segmenting → embedding → matching → done      (or failed, with the reason)

The photo is an :class:`OutfitPhoto` (source *customer*) and its garments are :class:`Garment`
rows cut and embedded by the same services that store street outfits
(``garments_replace`` / ``garments_embed``); catalog items come from the same vector query as
similar items (``products_near_vector``). The Celery task, the pages, the API and the
``analyze_photo`` command all call these functions, one job per module:

* ``create`` — validate and store an upload and queue its search; queue a failed one again.
* ``steps`` — the guarded status update and step commit that keep a deleted search deleted,
  the per-search job lock, the test hook.
* ``run`` — the state machine: segmenting, embedding, matching.
* ``boxes`` — a box the customer draws over the photo, searched as a garment.
* ``retention`` — deleting a search with its files, and expiring old ones.
* ``outline`` — the polygon drawn around each garment (contour tracing of its mask).
* ``analyze`` — the operator's synchronous run (``manage.py analyze_photo``).
"""

from recommender.services.photo_search.analyze import photo_analyze, photo_analyze_file
from recommender.services.photo_search.boxes import BOX_SLOTS, MAX_BOXES, MIN_BOX_SIDE, BoxCut, photo_search_add_box
from recommender.services.photo_search.create import photo_decode, photo_search_create, photo_search_retry
from recommender.services.photo_search.outline import OUTLINE_GRID, garment_outline
from recommender.services.photo_search.retention import photo_search_delete, photo_searches_expire
from recommender.services.photo_search.run import CATALOG_SLOT, photo_search_run
from recommender.services.photo_search.steps import SearchConflict, SearchGone

__all__ = [
    "BOX_SLOTS",
    "CATALOG_SLOT",
    "MAX_BOXES",
    "MIN_BOX_SIDE",
    "OUTLINE_GRID",
    "BoxCut",
    "SearchConflict",
    "SearchGone",
    "garment_outline",
    "photo_analyze",
    "photo_analyze_file",
    "photo_decode",
    "photo_search_add_box",
    "photo_search_create",
    "photo_search_delete",
    "photo_search_retry",
    "photo_search_run",
    "photo_searches_expire",
]
