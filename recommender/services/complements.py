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
from django.db import transaction
from PIL import Image

from recommender import inference
from recommender.ml.weights import WeightsError
from recommender.models import COMPLEMENT_TARGETS, ComplementVector
from recommender.services.outfits import colour_statistics
from shop.models import Product

logger = logging.getLogger(__name__)

WHITE = (255, 255, 255)


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


def complement_vectors_store(*, products: Sequence[Product], images: Sequence[Image.Image]) -> int:
    """Make and store the complement vectors of ``products`` (photos already decoded); returns how many.

    Products of slots that nothing goes with (shoes, accessories) get none. When no complement
    model is in service, or it expects another embedder than the one in service, nothing is
    stored and the product page simply has no "Complete the look" section."""
    try:
        inference.current_complement_version()
    except WeightsError as exc:
        logger.info("No complement vectors: %s", exc)
        return 0
    from recommender.ml.complement.features import complement_features

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
    wanted = [(p, im) for p, im in zip(products, images, strict=True) if p.category.slot in COMPLEMENT_TARGETS]
    ComplementVector.objects.filter(product__in=products).exclude(
        slot__in=list(COMPLEMENT_TARGETS)
    ).delete()  # a product moved to a slot without complements
    if not wanted:
        return 0
    cuts = [garment_cut(image, inference.product_garment_mask(image)) for _, image in wanted]
    embeddings = embedder.embed([crop for crop, _ in cuts], batch_size=settings.RECOMMENDER_BATCH_SIZE)
    by_slot: dict[str, list[int]] = defaultdict(list)
    features = []
    for n, ((product, _), (crop, mask), embedding) in enumerate(zip(wanted, cuts, embeddings, strict=True)):
        features.append(complement_features(embedding=np.asarray(embedding), crop=crop, mask=mask))
        by_slot[product.category.slot].append(n)
    features = np.stack(features).astype(np.float32)
    queries = np.zeros((len(wanted), model.dim), dtype=np.float32)
    candidates = np.zeros_like(queries)
    for slot, rows in by_slot.items():
        queries[rows] = model.encode(features[rows], slot=slot, role="query")
        candidates[rows] = model.encode(features[rows], slot=slot, role="candidate")
    with transaction.atomic():
        for n, (product, _) in enumerate(wanted):
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
