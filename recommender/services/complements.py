"""Complement vectors of catalog products: what each product asks for, and how it answers.

Made in the same indexing task as the garment vectors, from the same photo: the garment is
cut out of the product photo with its mask (``inference.product_garment_mask``), white-filled
the way street garments are, embedded, and described by the complement model's features
(embedding plus the colour of the garment's own pixels). Idempotent and versioned: a row
carries the complement model's version and the photo's hash.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from PIL import Image

from recommender import inference
from recommender.inference import WeightsError, colour_statistics, complement_features
from recommender.models import COMPLEMENT_TARGETS, ComplementVector, Garment
from recommender.selectors.complements import ComplementQuery
from shop.models import Product

logger = logging.getLogger(__name__)

WHITE = (255, 255, 255)
#: How many street garments count as "like this" product when looking for outfits that back a pairing.
STREET_NEIGHBOURS = 25


def garment_cut(image: Image.Image, mask: np.ndarray) -> tuple[Image.Image, np.ndarray | None]:
    """The white-filled crop around the garment and its crop-sized mask; the whole photo when no garment was found."""
    image = image.convert("RGB")
    if not mask.any():
        return image, None
    rows, cols = np.nonzero(mask)
    x0, y0, x1, y1 = int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1
    pixels = np.asarray(image)[y0:y1, x0:x1].copy()
    inside = mask[y0:y1, x0:x1]
    pixels[~inside] = WHITE
    return Image.fromarray(pixels), inside.copy()


def complement_vectors_store(
    *, products: Sequence[Product], images: Sequence[Image.Image], masks: Sequence[np.ndarray]
) -> int:
    """Make and store the complement vectors of ``products`` (photos decoded, garment masks made); returns how many.

    Products of slots that nothing goes with (shoes, accessories) get none. When no complement
    model is in service, or it expects another embedder than the one in service, nothing is
    stored and the product page simply has no "Complete the look" section."""
    try:
        inference.current_complement_version()
    except WeightsError as exc:
        logger.info("No complement vectors: %s", exc)
        return 0

    model = inference.complement_model()
    embedder = inference.embedder()
    if model.embedder_sha256 != embedder.version:
        logger.warning(
            "Complement model %s expects embedder %s, not %s: retrain it (no complement vectors made).",
            model.version[:12],
            model.embedder_sha256[:12],
            embedder.version[:12],
        )
        return 0
    wanted = [
        (p, im, m) for p, im, m in zip(products, images, masks, strict=True) if p.category.slot in COMPLEMENT_TARGETS
    ]
    ComplementVector.objects.filter(product__in=products).exclude(
        slot__in=list(COMPLEMENT_TARGETS)
    ).delete()  # a product moved to a slot without complements
    if not wanted:
        return 0
    cuts = [garment_cut(image, mask) for _, image, mask in wanted]
    embeddings = embedder.embed([crop for crop, _ in cuts], batch_size=settings.RECOMMENDER_BATCH_SIZE)
    features = complement_features(
        embeddings=embeddings, crops=[c for c, _ in cuts], masks=[m for _, m in cuts], embedder=embedder
    )
    by_slot: dict[str, list[int]] = defaultdict(list)
    for n, (product, _, _) in enumerate(wanted):
        by_slot[product.category.slot].append(n)
    queries = np.zeros((len(wanted), model.dim), dtype=np.float32)
    candidates = np.zeros_like(queries)
    for slot, rows in by_slot.items():
        queries[rows] = model.encode(features[rows], slot=slot, role="query")
        candidates[rows] = model.encode(features[rows], slot=slot, role="candidate")
    with transaction.atomic():
        for n, (product, _, _) in enumerate(wanted):
            crop, mask = cuts[n]
            ComplementVector.objects.update_or_create(
                product=product,
                defaults={
                    "slot": product.category.slot,
                    "query": queries[n].tolist(),
                    "candidate": candidates[n].tolist(),
                    "model_version": model.version,
                    "image_sha256": product.image_sha256,
                    "colour": colour_statistics(crop, mask),
                },
            )
    return len(wanted)


def garment_complement_query(*, garment: Garment, crop: Image.Image | None = None) -> ComplementQuery | None:
    """The "what goes with this?" question for a garment cut out of a photo (a customer's), or ``None``
    when nothing can answer it (a slot nothing goes with, no vector yet, no complement model in service,
    or a model trained on another embedder's features)."""
    targets = COMPLEMENT_TARGETS.get(garment.slot)
    if targets is None or garment.embedding is None:
        return None
    try:
        inference.current_complement_version()
    except WeightsError:
        return None

    model = inference.complement_model()
    if model.embedder_sha256 != garment.embedder_version:
        return None
    if crop is None:
        with garment.crop.open("rb") as fh:
            crop = Image.open(fh).convert("RGB")
    features = complement_features(
        embeddings=np.asarray(garment.embedding, dtype=np.float32)[None],
        crops=[crop],
        masks=[None],
        embedder=inference.embedder(),
    )
    query = model.encode(features, slot=garment.slot, role="query")[0]
    return ComplementQuery(query.tolist(), targets, model.version)


#: For each complement-vector row: the street garments of its product's slot nearest its product's garment
#: vector (exact cosine search), made by the same embedder. Rows whose product has no indexed vector get none.
_STREET_SUPPORT_SQL = """
UPDATE recommender_complementvector AS cv
SET street_photos = found.photos, street_distances = found.distances, street_version = found.version
FROM (
    SELECT own.product_id,
           coalesce(near.photos, '{}') AS photos,
           coalesce(near.distances, '{}') AS distances,
           coalesce(gv.model_version, '') AS version
    FROM recommender_complementvector AS own
    LEFT JOIN recommender_garmentvector AS gv
           ON gv.product_id = own.product_id AND gv.status = 'indexed' AND gv.embedding IS NOT NULL
    LEFT JOIN LATERAL (
        SELECT array_agg(n.photo_id ORDER BY n.distance) AS photos,
               array_agg(n.distance ORDER BY n.distance) AS distances
        FROM (
            SELECT g.photo_id, g.embedding <=> gv.embedding AS distance
            FROM recommender_garment AS g
            WHERE g.is_street AND g.slot = gv.slot AND g.embedder_version = gv.model_version
              AND g.embedding IS NOT NULL
            ORDER BY distance
            LIMIT %(neighbours)s
        ) AS n
    ) AS near ON true
    WHERE %(every)s OR own.product_id = ANY(%(ids)s)
) AS found
WHERE cv.product_id = found.product_id
"""


def street_support_refresh(*, product_ids: Sequence[int] | None = None) -> int:
    """Store which street outfits are "like" each product (``None``: every product with complement vectors).

    A pairing's reason, "worn together in N street outfits like this", counts the outfits whose garments
    are among the :data:`STREET_NEIGHBOURS` nearest to both products. The nearest are found once, here, in
    one SQL statement (an exact search over the street garments), when a product is indexed and when
    street outfits are ingested; the product page only reads them. Returns the rows written."""
    with connection.cursor() as cursor:
        cursor.execute(
            _STREET_SUPPORT_SQL,
            {"neighbours": STREET_NEIGHBOURS, "every": product_ids is None, "ids": list(product_ids or [])},
        )
        return cursor.rowcount
