"""Complete the look: what goes WITH a product, learned from real street outfits.

A top (or outerwear) gets bottoms, a bottom gets tops and outerwear, a dress gets outerwear.
The ranking is one pgvector HNSW query per section: the product's complement *query* vector
against the *candidate* vectors of the slots that go with it (a partial index per question,
so the slot filter is the index's own condition). Curators' pins come first, in their
order; a blocked pair never shows, in either direction; only on-sale, in-stock items show,
never the product itself. Each suggestion carries a reason a shopper understands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from pgvector.django import CosineDistance

from recommender.ml.colour.lab import delta_e_2000
from recommender.models import COMPLEMENT_TARGETS, ComplementRule, ComplementVector, Garment, OutfitPhoto
from recommender.selectors.availability import first_on_sale, products_in_order
from recommender.selectors.freshness import cached_while_unchanged
from recommender.selectors.indexing import current_complement_version, current_version
from shop.models import Product

#: How many street garments count as "like this" when looking for outfits that back a pairing.
STREET_NEIGHBOURS = 25
#: A pairing is "worn together in N street outfits like this" from this many outfits on.
MIN_STREET_SUPPORT = 2


@dataclass(frozen=True)
class Suggestion:
    product: Product
    reason: str
    pinned: bool = False
    #: A real street outfit that backs the pairing (its top is like one, its bottom like the other).
    outfit_photo: OutfitPhoto | None = None


@dataclass(frozen=True)
class Complements:
    items: list[Suggestion] = field(default_factory=list)
    #: Why the list is empty: "" when it is not; else a code and a sentence for people.
    empty_reason: str = ""
    message: str = ""


def _rules(product: Product) -> tuple[set[int], list[Product]]:
    """The curators' rules for ``product`` in one query: the ids blocked with it (either direction),
    and its pinned complements that are on sale and in stock, in the curators' order, none blocked."""
    rules = (
        ComplementRule.objects.filter(Q(product=product) | Q(other=product))
        .select_related("other__category")
        .order_by("position", "pk")
    )
    blocked: set[int] = set()
    pins: list[Product] = []
    for rule in rules:
        if rule.kind == ComplementRule.Kind.BLOCK:
            blocked.add(rule.other_id if rule.product_id == product.pk else rule.product_id)
        elif rule.product_id == product.pk and rule.other.is_active and rule.other.stock > 0:
            pins.append(rule.other)
    return blocked, [pin for pin in pins if pin.pk not in blocked]


def _current_vector(product: Product, version: str) -> ComplementVector | None:
    return ComplementVector.objects.filter(
        product=product, model_version=version, image_sha256=product.image_sha256
    ).first()


@dataclass(frozen=True)
class ComplementQuery:
    """ "What goes with this?": a complement query vector, the slots that answer it, and the model that made it."""

    query: Sequence[float]
    targets: tuple[str, ...]
    model_version: str
    exclude_product_id: int | None = None


def _ranked_candidate_ids(question: ComplementQuery, *, limit: int) -> list[int]:
    """Product ids of the best candidates for the question (approximate: one HNSW query)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL hnsw.ef_search = %s", [max(40, min(limit, 1000))])
        return list(
            ComplementVector.objects.filter(slot__in=list(question.targets), model_version=question.model_version)
            .exclude(product_id=question.exclude_product_id)
            .annotate(distance=CosineDistance("candidate", question.query))
            .order_by("distance")
            .values_list("product_id", flat=True)[:limit]
        )


def _exact_candidate_ids(question: ComplementQuery, *, k: int, exclude: set[int]) -> list[int]:
    """Exact search with every filter in SQL: k rows whenever k qualify."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        return list(
            ComplementVector.objects.filter(
                slot__in=list(question.targets),
                model_version=question.model_version,
                product__is_active=True,
                product__stock__gt=0,
            )
            .exclude(product_id__in=exclude)
            .annotate(distance=CosineDistance("candidate", question.query))
            .order_by("distance")
            .values_list("product_id", flat=True)[:k]
        )


def _available_in_order(ranked: list[int], question: ComplementQuery, *, k: int, exclude: set[int]) -> list[Product]:
    """The first ``k`` on-sale, in-stock, not excluded products of ``ranked``; an exact search fills a short list."""
    chosen = first_on_sale([pk for pk in ranked if pk not in exclude], k=k)
    if len(chosen) < k:
        ids = _exact_candidate_ids(question, k=k, exclude=exclude)
        if len(ids) > len(chosen):
            chosen = products_in_order(ids)
    return chosen


def _ranked(vector: ComplementVector, targets: tuple[str, ...], *, k: int, exclude: set[int]) -> list[Product]:
    """A product's best complements (the whole answer is cached by :func:`complements_for`)."""
    question = ComplementQuery(vector.query, targets, vector.model_version, exclude_product_id=vector.product_id)
    ranked = _ranked_candidate_ids(question, limit=settings.RECOMMENDER_CANDIDATES)
    return _available_in_order(ranked, question, k=k, exclude=exclude)


def complements_for_query(*, question: ComplementQuery, k: int, colour: dict | None = None) -> list[Suggestion]:
    """What goes with a garment that is not a product (a garment in a customer's photo), best first."""
    ranked = _ranked_candidate_ids(question, limit=settings.RECOMMENDER_CANDIDATES)
    chosen = _available_in_order(ranked, question, k=k, exclude=set())
    colours = dict(ComplementVector.objects.filter(product__in=chosen).values_list("product_id", "colour"))
    return [
        Suggestion(p, _colour_sentence("", (colour or {}).get("lab_mean"), "", colours.get(p.pk, {}).get("lab_mean")))
        for p in chosen
    ]


def _street_photos_like(wanted: list[tuple[Product, str]], embedder_version: str) -> dict[int, dict[int, float]]:
    """For each (product, slot): the street outfits whose ``slot`` garment is among the nearest to the
    product's garment, photo id -> distance, by product id.

    Cached per product, embedder and vectors generation (street outfits change only by ingestion);
    one cache round trip for the whole list."""
    from recommender.services.indexing import vectors_generation

    generation = vectors_generation()
    keys = {
        product.pk: f"recommender:street-like:{product.pk}:{slot}:{embedder_version[:16]}:{generation}"
        for product, slot in wanted
    }
    cached = cache.get_many(list(keys.values()))
    found: dict[int, dict[int, float]] = {}
    missing: dict[str, dict[int, float]] = {}
    for product, slot in wanted:
        key = keys[product.pk]
        if key in cached:
            found[product.pk] = cached[key]
        else:
            found[product.pk] = missing[key] = _street_photos_like_uncached(product, slot, embedder_version)
    if missing:
        cache.set_many(missing, timeout=settings.RECOMMENDER_CACHE_SECONDS)
    return found


def _street_photos_like_uncached(product: Product, slot: str, embedder_version: str) -> dict[int, float]:
    vector = getattr(product, "garment_vector", None)
    if vector is None or vector.embedding is None or vector.model_version != embedder_version:
        return {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL hnsw.ef_search = %s", [max(40, STREET_NEIGHBOURS)])
        rows = (
            Garment.objects.filter(is_street=True, slot=slot, embedder_version=embedder_version)
            .annotate(distance=CosineDistance("embedding", vector.embedding))
            .order_by("distance")
            .values_list("photo_id", "distance")[:STREET_NEIGHBOURS]
        )
        return {photo_id: float(distance) for photo_id, distance in rows}


def _colour_sentence(name_a: str, lab_a, name_b: str, lab_b) -> str:
    """How two garments' colours work together, from the CIELAB means of their own pixels."""
    name_a, name_b = (name_a or "").lower(), (name_b or "").lower()
    pair = f"{name_a} with {name_b}" if name_a and name_b and name_a != name_b else ""
    if lab_a is None or lab_b is None:
        return f"{pair.capitalize()}: learned from street outfits" if pair else "Learned from real street outfits"
    a, b = np.asarray(lab_a), np.asarray(lab_b)
    neutral_a, neutral_b = np.hypot(a[1], a[2]) < 10, np.hypot(b[1], b[2]) < 10
    if abs(a[0] - b[0]) >= 30:
        what = "a light and dark contrast"
    elif float(delta_e_2000(a, b)) < 15:
        what = "tonal, close shades"
    elif neutral_a and neutral_b:
        what = "two easy neutrals"
    elif neutral_a or neutral_b:
        lead = name_b if neutral_a else name_a
        what = f"a neutral that lets the {lead} lead" if lead else "a neutral that lets the colour lead"
    else:
        what = "a confident colour pairing"
    return f"{pair.capitalize()}: {what}" if pair else what.capitalize()


def _colour_reason(first: Product, second: Product, colours: dict[int, dict]) -> str:
    return _colour_sentence(
        first.colour,
        colours.get(first.pk, {}).get("lab_mean"),
        second.colour,
        colours.get(second.pk, {}).get("lab_mean"),
    )


def _with_reasons(product: Product, chosen: list[Product], *, slot: str) -> list[Suggestion]:
    """Each suggestion with the street outfits that back it, else a sentence about its colours."""
    embedder_version = current_version()
    street_slots = {"top": "top", "bottom": "bottom", "dress": "dress", "outerwear": "outerwear"}
    like = _street_photos_like([(product, street_slots.get(slot, slot))], embedder_version) if embedder_version else {}
    like_product = like.get(product.pk, {})
    if like_product:  # the candidates' street outfits matter only when this product has some
        like |= _street_photos_like([(c, c.category.slot) for c in chosen], embedder_version)
    colours = dict(
        ComplementVector.objects.filter(product_id__in=[product.pk, *[p.pk for p in chosen]]).values_list(
            "product_id", "colour"
        )
    )
    photos = {}
    support = {}
    for candidate in chosen:
        like_candidate = like.get(candidate.pk, {})
        shared = set(like_product) & set(like_candidate)
        support[candidate.pk] = len(shared)
        if shared:
            photos[candidate.pk] = min(shared, key=lambda pk: like_product[pk] + like_candidate[pk])
    outfit_photos = OutfitPhoto.objects.in_bulk(list(photos.values()))
    suggestions = []
    for candidate in chosen:
        n = support[candidate.pk]
        reason = (
            f"Worn together in {n} street outfits like this"
            if n >= MIN_STREET_SUPPORT
            else _colour_reason(product, candidate, colours)
        )
        suggestions.append(Suggestion(candidate, reason, outfit_photo=outfit_photos.get(photos.get(candidate.pk))))
    return suggestions


def complements_for(*, product: Product, k: int | None = None) -> Complements:
    """What goes with ``product``: the curators' pins first, then the model's best, each with a reason.

    Cached until the catalog changes (:mod:`recommender.selectors.freshness`)."""
    k = k or settings.RECOMMENDER_COMPLEMENTS_ON_PAGE
    return cached_while_unchanged("complements", (product.pk, k), lambda: _complements_for(product, k))


def _complements_for(product: Product, k: int) -> Complements:
    slot = product.category.slot
    blocked, pinned = _rules(product)
    pins = [p for p in pinned if p.pk != product.pk][:k]
    items = [Suggestion(p, "Picked by our stylists", pinned=True) for p in pins]
    targets = COMPLEMENT_TARGETS.get(slot)
    if targets is None:
        if items:
            return Complements(items)
        return Complements(
            [], "no_complements_for_slot", f"We don't suggest pieces to go with {product.category.name.lower()}."
        )
    version = current_complement_version()
    vector = _current_vector(product, version) if version else None
    if vector is None or len(items) >= k:
        if items:
            return Complements(items)
        return Complements([], "not_indexed", "Suggestions for this item are still being prepared.")
    exclude = blocked | {product.pk} | {p.pk for p in pins}
    chosen = _ranked(vector, targets, k=k - len(items), exclude=exclude)
    items += _with_reasons(product, chosen, slot=slot)
    if not items:
        return Complements([], "none_available", "Nothing that goes with this is on sale right now.")
    return Complements(items)
