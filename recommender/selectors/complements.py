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
from django.db import connection, transaction
from django.db.models import Exists, Q, QuerySet, Subquery
from pgvector.django import CosineDistance

from recommender.ml.colour.lab import delta_e_2000
from recommender.models import COMPLEMENT_TARGETS, ComplementRule, ComplementVector, OutfitPhoto
from recommender.selectors.availability import first_on_sale, products_in_order
from recommender.selectors.freshness import (
    RankedList,
    RecommendationState,
    Written,
    cached_while_unchanged,
    ranking_cached,
    rules_cached,
)
from recommender.selectors.hnsw import hnsw_scan
from recommender.selectors.indexing import current_complement_version, current_version
from shop.models import Product

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


def _rules(product: Product) -> tuple[set[int], list[int]]:
    """The curators' rules for ``product`` in one query: the ids blocked with it (either direction),
    and the ids of its pinned complements in the curators' order, none blocked (on sale or not)."""
    rules = ComplementRule.objects.filter(Q(product=product) | Q(other=product)).order_by("position", "pk")
    blocked: set[int] = set()
    pins: list[int] = []
    for kind, product_id, other_id in rules.values_list("kind", "product_id", "other_id"):
        if kind == ComplementRule.Kind.BLOCK:
            blocked.add(other_id if product_id == product.pk else product_id)
        elif product_id == product.pk:
            pins.append(other_id)
    return blocked, [pk for pk in pins if pk not in blocked]


def _current_vector(product: Product, version: str) -> QuerySet[ComplementVector]:
    """The product's complement vectors made by ``version`` from its current photo (one row or none)."""
    return ComplementVector.objects.filter(product=product, model_version=version, image_sha256=product.image_sha256)


@dataclass(frozen=True)
class ComplementQuery:
    """ "What goes with this?": a complement query vector, the slots that answer it, and the model that made it.

    ``query`` is a vector, or a scalar subquery that reads a product's own query vector inside the
    ranking query (it never travels to Python and back); ``requires`` then says that row exists."""

    query: Sequence[float] | Subquery
    targets: tuple[str, ...]
    model_version: str
    exclude_product_id: int | None = None
    requires: Exists | None = None


def _product_question(product: Product, targets: tuple[str, ...], version: str) -> ComplementQuery:
    """How a product asks what goes with it: its own current query vector, read by the database."""
    own = _current_vector(product, version)
    return ComplementQuery(
        Subquery(own.values("query")[:1]), targets, version, exclude_product_id=product.pk, requires=Exists(own)
    )


def _ranked_candidates(question: ComplementQuery) -> QuerySet[ComplementVector]:
    """The candidates of the question's slots, nearest its query vector first (a partial HNSW index's scan)."""
    qs = ComplementVector.objects.filter(slot__in=list(question.targets), model_version=question.model_version)
    if question.requires is not None:
        qs = qs.filter(question.requires)
    return (
        qs.exclude(product_id=question.exclude_product_id)
        .annotate(distance=CosineDistance("candidate", question.query))
        .order_by("distance")
    )


def _ranked_candidate_ids(question: ComplementQuery, *, limit: int) -> list[int]:
    """Product ids of the best candidates for the question (approximate: one HNSW query)."""
    with hnsw_scan(limit):
        return list(_ranked_candidates(question).values_list("product_id", flat=True)[:limit])


def _exact_candidate_ids(question: ComplementQuery, *, k: int, exclude: set[int]) -> list[int]:
    """Exact search with every filter in SQL: k rows whenever k qualify."""
    qs = ComplementVector.objects.filter(
        slot__in=list(question.targets),
        model_version=question.model_version,
        product__is_active=True,
        product__stock__gt=0,
    )
    if question.requires is not None:
        qs = qs.filter(question.requires)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        return list(
            qs.exclude(product_id__in=exclude)
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


def complements_for_query(*, question: ComplementQuery, k: int, colour: dict | None = None) -> list[Suggestion]:
    """What goes with a garment that is not a product (a garment in a customer's photo), best first."""
    ranked = _ranked_candidate_ids(question, limit=settings.RECOMMENDER_CANDIDATES)
    chosen = _available_in_order(ranked, question, k=k, exclude=set())
    colours = dict(ComplementVector.objects.filter(product__in=chosen).values_list("product_id", "colour"))
    return [
        Suggestion(p, _colour_sentence("", (colour or {}).get("lab_mean"), "", colours.get(p.pk, {}).get("lab_mean")))
        for p in chosen
    ]


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


@dataclass(frozen=True)
class _Evidence:
    """What a pairing's reason is made of: street outfits that back it, and the two garments' colours."""

    support: int = 0
    outfit_photo: OutfitPhoto | None = None
    lab: tuple[float, ...] | None = None


def _evidence(product: Product, candidate_ids: Sequence[int]) -> tuple[tuple[float, ...] | None, dict[int, _Evidence]]:
    """The product's own colour (CIELAB mean) and, per candidate, the street outfits like both and its colour.

    Two queries at most: each product's colour and the street outfits like it, stored when it was
    indexed (``services.complements.street_support_refresh``), then the backing outfits' photos."""
    embedder_version = current_version()
    rows = ComplementVector.objects.filter(product_id__in=[product.pk, *candidate_ids]).values_list(
        "product_id", "colour__lab_mean", "street_photos", "street_distances", "street_version"
    )
    labs, like = {}, {}
    for product_id, lab, photos, distances, version in rows:
        labs[product_id] = tuple(lab) if lab else None
        like[product_id] = dict(zip(photos, distances, strict=True)) if version and version == embedder_version else {}
    like_product = like.get(product.pk, {})
    support, best = {}, {}
    for pk in candidate_ids:
        like_candidate = like.get(pk, {})
        shared = set(like_product) & set(like_candidate)
        support[pk] = len(shared)
        if len(shared) >= MIN_STREET_SUPPORT:
            best[pk] = min(shared, key=lambda photo: like_product[photo] + like_candidate[photo])
    outfit_photos = OutfitPhoto.objects.in_bulk(list(set(best.values()))) if best else {}
    evidence = {pk: _Evidence(support[pk], outfit_photos.get(best.get(pk)), labs.get(pk)) for pk in candidate_ids}
    return labs.get(product.pk), evidence


def _with_reasons(product: Product, chosen: list[Product], ranking: _Ranking) -> list[Suggestion]:
    """Each suggestion with the street outfits that back it, else a sentence about its colours.

    The evidence was gathered with the ranking; only a piece found by the exact search's fallback
    needs a query. The colour names come from the products as they are now (curators edit them)."""
    evidence, own_lab = ranking.evidence, ranking.lab
    missing = [p.pk for p in chosen if p.pk not in evidence]
    if missing:
        own_lab, found = _evidence(product, missing)
        evidence = {**evidence, **found}
    suggestions = []
    for candidate in chosen:
        found = evidence.get(candidate.pk, _Evidence())
        if found.support >= MIN_STREET_SUPPORT:
            reason = f"Worn together in {found.support} street outfits like this"
        else:
            reason = _colour_sentence(product.colour, own_lab, candidate.colour, found.lab)
        suggestions.append(Suggestion(candidate, reason, outfit_photo=found.outfit_photo))
    return suggestions


@dataclass(frozen=True)
class _Ranking:
    """How a product's complements rank, whatever is on sale now and whatever the curators' rules say:
    cached until categories change, vectors written since merged in. The rules are read with each result."""

    #: The model's best candidates, best first; ``None``: not indexed.
    ranked: RankedList | None = None
    #: The complement model that ranked them (the exact search that fills a short list asks it too).
    version: str | None = None
    #: The product's own colour, and what backs each ranked pairing (for the reasons).
    lab: tuple[float, ...] | None = None
    evidence: dict[int, _Evidence] = field(default_factory=dict)


def _ranking(product: Product, targets: tuple[str, ...] | None) -> _Ranking:
    version = current_complement_version() if targets is not None else None
    if version is None:
        return _Ranking()
    # One query: the product's own vector is read inside the HNSW query, which finds nothing without it.
    limit = settings.RECOMMENDER_CANDIDATES
    with hnsw_scan(limit):
        rows = _ranked_candidates(_product_question(product, targets, version)).values_list("product_id", "distance")
        ranked = RankedList.from_rows(rows[:limit], limit=limit)
    if not ranked.ids and not _current_vector(product, version).exists():
        return _Ranking()
    # Evidence for the pieces a page is likely to show; one found further down is looked up when shown.
    lab, evidence = _evidence(product, ranked.ids[: 3 * settings.RECOMMENDER_COMPLEMENTS_ON_PAGE])
    return _Ranking(ranked, version, lab, evidence)


def _merged_ranking(product: Product, targets: tuple[str, ...] | None, ranking: _Ranking, written: Written):
    """``ranking`` after the vectors of the ``written`` products changed: one query for the distances of
    those of the answering slots (and one for the reasons of any that now rank among the first), none
    when there are none. ``None``: search again (the product's own vectors changed, or it had none)."""
    if ranking.ranked is None or targets is None or product.pk in written:
        return None
    written = written.of_slots(targets)
    if not written:
        return ranking
    question = _product_question(product, targets, ranking.version)
    fresh = _ranked_candidates(question).filter(product_id__in=written).order_by().values_list("product_id", "distance")
    ranked = ranking.ranked.merged(written, fresh, limit=settings.RECOMMENDER_CANDIDATES)
    evidence = {pk: found for pk, found in ranking.evidence.items() if pk not in written}
    missing = [pk for pk in ranked.ids[: 3 * settings.RECOMMENDER_COMPLEMENTS_ON_PAGE] if pk in written]
    if missing:
        evidence.update(_evidence(product, missing)[1])
    return _Ranking(ranked, ranking.version, ranking.lab, evidence)


def complements_for(*, product: Product, k: int | None = None, state: RecommendationState | None = None) -> Complements:
    """What goes with ``product``: the curators' pins first, then the model's best, each with a reason.

    Cached until the catalog changes (a rule too); the ranking behind it until categories change,
    vectors written since merged in (:mod:`recommender.selectors.freshness`). ``state``: the one the
    page read for all its sections."""
    k = k or settings.RECOMMENDER_COMPLEMENTS_ON_PAGE
    return cached_while_unchanged(
        "complements", (product.pk, k), lambda: _complements_for(product, k, state), state=state
    )


def _complements_for(product: Product, k: int, state: RecommendationState | None) -> Complements:
    slot = product.category.slot
    targets = COMPLEMENT_TARGETS.get(slot)
    ranking = ranking_cached(
        "complements",
        (product.pk, slot),
        lambda: _ranking(product, targets),
        merge=lambda cached, written: _merged_ranking(product, targets, cached, written),
        state=state,
    )
    # The curators' rules are cached apart from the ranking: a pin or a block never invalidates a ranking.
    blocked, pin_order = rules_cached("complements", (product.pk,), lambda: _rules(product), state=state)
    pins = set(pin_order)
    ranked = [
        pk for pk in (ranking.ranked.ids if ranking.ranked is not None else ()) if pk not in blocked and pk not in pins
    ]
    # One query for what is on sale now: the pins in the curators' order, then the model's best.
    shown = first_on_sale([*pin_order, *ranked], k=k)
    items = [Suggestion(p, "Picked by our stylists", pinned=True) for p in shown if p.pk in pins]
    if targets is None:
        if items:
            return Complements(items)
        return Complements(
            [], "no_complements_for_slot", f"We don't suggest pieces to go with {product.category.name.lower()}."
        )
    if ranking.ranked is None or len(items) >= k:
        if items:
            return Complements(items)
        return Complements([], "not_indexed", "Suggestions for this item are still being prepared.")
    chosen = [p for p in shown if p.pk not in pins]
    if len(items) + len(chosen) < k:  # too few of the ranked are on sale: an exact search fills the list
        exclude = blocked | pins | {product.pk}
        ids = _exact_candidate_ids(
            _product_question(product, targets, ranking.version), k=k - len(items), exclude=exclude
        )
        if len(ids) > len(chosen):
            chosen = products_in_order(ids)
    items += _with_reasons(product, chosen, ranking)
    if not items:
        return Complements([], "none_available", "Nothing that goes with this is on sale right now.")
    return Complements(items)
