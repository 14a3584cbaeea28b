"""Complete the look: what goes WITH a product, learned from real street outfits.

A top (or outerwear) gets bottoms, a bottom gets tops and outerwear, a dress gets outerwear.
The ranking is one pgvector HNSW query per section: the product's complement *query* vector
against the *candidate* vectors of the slots that go with it (a partial index per question,
so the slot filter is the index's own condition). Curators' pins come first, in their
order; a blocked pair never shows, in either direction; only on-sale, in-stock items show,
never the product itself. Each suggestion carries a reason a shopper understands.

The section is computed in steps that know nothing of caching — the model's ranking
(:func:`complement_ranking`, :func:`complement_ranking_merged` for vectors written since), the
curators' rules (:func:`complement_rules`), the stylist's order (:func:`look_order`,
:func:`look_order_merged`) and the section from them (:func:`complements_from`);
:mod:`recommender.selectors.cached` serves ``complements_for``, each step wrapped in its cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypedDict

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, FloatField, Q, QuerySet, Subquery, Window
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, RowNumber
from pgvector.django import CosineDistance

from recommender import inference
from recommender.inference import (
    CATEGORY_OF_FINE,
    FAMILY,
    LAYER_TYPE_OF_FINE,
    LOOK_SLOTS,
    PIECE_SLOTS,
    Garb,
    Scored,
    StylistPriors,
    delta_e_2000,
    layer_preference,
    layer_term,
    model_terms,
    name_lab,
    pick_varied,
    piece_score,
    split_counts,
)
from recommender.models import COMPLEMENT_TARGETS, ComplementRule, ComplementVector, Garment, OutfitPhoto
from recommender.selectors.availability import (
    first_on_sale,
    on_sale_in_order,
    products_in_order,
    products_in_order_query,
)
from recommender.selectors.hnsw import hnsw_scan
from recommender.selectors.indexing import current_complement_version, current_version
from recommender.selectors.rankings import RankedList, Written
from recommender.selectors.recommendations import Recommendations
from shop.models import Category, Product

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

#: A pairing is "worn together in N street outfits like this" from this many outfits on.
MIN_STREET_SUPPORT = 2


@dataclass(frozen=True)
class Suggestion:
    product: Product
    reason: str
    pinned: bool = False
    #: A real street outfit that backs the pairing (its garments look like both pieces).
    outfit_photo: OutfitPhoto | None = None
    #: The slot of the look it fills ("bottom", "top", "outerwear", "shoes"), and whether it is
    #: part of the outfit itself (one piece per slot) rather than an alternative.
    slot: str = ""
    in_look: bool = False


#: How the page names each slot's alternatives.
SLOT_HEADINGS = {"bottom": "More bottoms", "top": "More tops", "outerwear": "More layers", "shoes": "More shoes"}


@dataclass(frozen=True)
class Complements(Recommendations):
    """``items`` are ``Suggestion``s: the look first, then the alternatives."""

    @property
    def look(self) -> list[Suggestion]:
        """The outfit itself: one piece per slot."""
        return [item for item in self.items if item.in_look]

    @property
    def alternatives(self) -> list[tuple[str, list[Suggestion]]]:
        """The other suggestions, per slot, as (heading, items)."""
        groups: dict[str, list[Suggestion]] = {}
        for item in self.items:
            if not item.in_look:
                groups.setdefault(item.slot, []).append(item)
        return [(SLOT_HEADINGS.get(slot, "More"), items) for slot, items in groups.items()]


def complement_rules(product: Product) -> tuple[set[int], list[int]]:
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


class _Distance(TypedDict):
    distance: float


def _ranked_candidates(question: ComplementQuery) -> QuerySet[WithAnnotations[ComplementVector, _Distance]]:
    """The candidates of the question's slots, nearest its query vector first (a partial HNSW index's scan)."""
    qs = ComplementVector.objects.filter(slot__in=list(question.targets), model_version=question.model_version)
    if question.requires is not None:
        qs = qs.filter(question.requires)
    if question.exclude_product_id is None:
        qs = qs.exclude(product_id__isnull=True)  # what ``exclude(product_id=None)`` asks: the SQL is unchanged
    else:
        qs = qs.exclude(product_id=question.exclude_product_id)
    return qs.annotate(distance=CosineDistance("candidate", question.query)).order_by("distance")


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


def garment_garb(garment: Garment) -> Garb:
    """What the stylist needs of a garment found in a photo: its slot, the catalog category its fine label
    names (a bottom's trousers, shorts or skirt), the colour family and lightness of its own pixels."""
    lab = (garment.colour or {}).get("lab_mean")
    family = FAMILY.get(str(name_lab(np.asarray(lab))), "") if lab else ""
    return Garb(
        0, garment.slot, CATEGORY_OF_FINE.get(garment.fine_label, ""), family, "", float(lab[0]) if lab else None
    )


def _stylist_picks(question: ComplementQuery, own: Garb, *, k: int, priors: StylistPriors) -> list[Product]:
    """The question's candidates on sale, ordered as the stylist orders a look's pieces: the model's
    closeness with what street outfits wear together, one patterned piece, no repeats of a kind."""
    limit = settings.RECOMMENDER_CANDIDATES
    with hnsw_scan(limit):
        rows = list(_ranked_candidates(question).values_list("product_id", "distance")[:limit])
    distances = dict(rows)
    pool = _garbs_on_sale([pk for pk, _ in rows])
    model = model_terms({g.pk: distances[g.pk] for g in pool})
    scored = [Scored(g, piece_score(priors, own, g, look_slot=g.slot, model=model.get(g.pk)), g.slot) for g in pool]
    return products_in_order([s.garb.pk for s in pick_varied(scored, k)])


def complements_for_query(
    *, question: ComplementQuery, k: int, colour: dict | None = None, own: Garb | None = None
) -> list[Suggestion]:
    """What goes with a garment that is not a product (a garment in a customer's photo), best first: with
    ``own`` (:func:`garment_garb`), in the stylist's order; else in the model's."""
    chosen = _stylist_picks(question, own, k=k, priors=inference.stylist_priors()) if own is not None else []
    if len(chosen) < k:
        ranked = _ranked_candidate_ids(question, limit=settings.RECOMMENDER_CANDIDATES)
        more = _available_in_order(ranked, question, k=k, exclude={p.pk for p in chosen})
        chosen = [*chosen, *more][:k]
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
    """The product's own colour (CIELAB mean) and, per candidate, the street outfits that look like both and its colour.

    An outfit backs a pairing when its garment of the product's slot is among the product's nearest
    street garments and near its colour, and its garment of the candidate's slot is the same for the
    candidate (:data:`LOOK_DELTA_E`): the thumbnail then shows both pieces' kind of garment, in their
    colours. Three queries at most: each product's colour and the street outfits like it, stored when
    it was indexed (``services.complements.street_support_refresh``), the shared outfits' garments,
    and the backing outfits' photos."""
    embedder_version = current_version()
    rows = ComplementVector.objects.filter(product_id__in=[product.pk, *candidate_ids]).values_list(
        "product_id", "slot", "colour__lab_mean", "street_photos", "street_distances", "street_version"
    )
    labs, slots, like = {}, {}, {}
    for product_id, slot, lab, photos, distances, version in rows:
        labs[product_id], slots[product_id] = (tuple(lab) if lab else None), slot
        like[product_id] = dict(zip(photos, distances, strict=True)) if version and version == embedder_version else {}
    like_product = like.get(product.pk, {})
    shared = {pk: set(like_product) & set(like.get(pk, {})) for pk in candidate_ids}
    looks_like = _street_look_check(
        [(photo, slots.get(pk), labs.get(pk)) for pk in [product.pk, *candidate_ids] for photo in shared.get(pk, ())]
        + [(photo, slots.get(product.pk), labs.get(product.pk)) for photos in shared.values() for photo in photos]
    )
    support, best = {}, {}
    for pk in candidate_ids:
        backing = [
            photo
            for photo in shared[pk]
            if (photo, slots.get(product.pk), labs.get(product.pk)) in looks_like
            and (photo, slots.get(pk), labs.get(pk)) in looks_like
        ]
        support[pk] = len(backing)
        if len(backing) >= MIN_STREET_SUPPORT:
            best[pk] = min(backing, key=lambda photo: like_product[photo] + like[pk][photo])
    outfit_photos = OutfitPhoto.objects.in_bulk(list(set(best.values()))) if best else {}
    evidence = {pk: _Evidence(support[pk], outfit_photos.get(best.get(pk)), labs.get(pk)) for pk in candidate_ids}
    return labs.get(product.pk), evidence


#: A street garment "looks like" a product when their colours differ by less than this (CIEDE2000).
LOOK_DELTA_E = 18.0


def _street_look_check(checks: Sequence[tuple[int, str | None, tuple[float, ...] | None]]) -> set[tuple]:
    """Which (street photo, slot, colour) checks hold: the photo has a garment of that slot within
    :data:`LOOK_DELTA_E` of that colour. One query for every photo's garments, one vectorised ΔE."""
    wanted = [(photo, slot, lab) for photo, slot, lab in set(checks) if slot and lab is not None]
    if not wanted:
        return set()
    garments: dict[tuple[int, str], list[tuple[float, ...]]] = {}
    for photo, slot, lab in Garment.objects.filter(
        photo_id__in={c[0] for c in wanted}, is_street=True, colour__lab_mean__isnull=False
    ).values_list("photo_id", "slot", "colour__lab_mean"):
        garments.setdefault((photo, slot), []).append(tuple(lab))
    pairs = [(c, lab) for c in wanted for lab in garments.get((c[0], c[1]), ())]
    if not pairs:
        return set()
    near = delta_e_2000(np.asarray([c[2] for c, _ in pairs]), np.asarray([lab for _, lab in pairs])) < LOOK_DELTA_E
    return {c for (c, _), ok in zip(pairs, near, strict=True) if ok}


def _reasons(product: Product, chosen: list[Product], ranking: _Ranking) -> dict[int, tuple[str, OutfitPhoto | None]]:
    """Each model-ranked piece's reason: the street outfits that look like both, else a sentence about
    their colours. The evidence was gathered with the ranking; only a piece found by the exact search's
    fallback needs a query. The colour names come from the products as they are now (curators edit them)."""
    evidence, own_lab = ranking.evidence, ranking.lab
    missing = [p.pk for p in chosen if p.pk not in evidence]
    if missing:
        own_lab, more = _evidence(product, missing)
        evidence = {**evidence, **more}
    reasons = {}
    for candidate in chosen:
        found = evidence.get(candidate.pk, _Evidence())
        if found.support >= MIN_STREET_SUPPORT:
            reasons[candidate.pk] = (f"Worn together in {found.support} street outfits like this", found.outfit_photo)
        else:
            reasons[candidate.pk] = (_colour_sentence(product.colour, own_lab, candidate.colour, found.lab), None)
    return reasons


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

    def indexed(self) -> tuple[RankedList, str]:
        """The ranked candidates and the model that ranked them, of a product that is indexed."""
        if self.ranked is None or self.version is None:
            raise LookupError("the product has no complement ranking (not indexed)")
        return self.ranked, self.version


def complement_ranking(product: Product, targets: tuple[str, ...] | None) -> _Ranking:
    """How the product's complements rank (one vector search, and the evidence behind the first)."""
    if targets is None:
        return _Ranking()
    version = current_complement_version()
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
    lab, evidence = _evidence(product, ranked.ids)
    return _Ranking(ranked, version, lab, evidence)


def complement_ranking_merged(product: Product, targets: tuple[str, ...] | None, ranking: _Ranking, written: Written):
    """``ranking`` after the vectors of the ``written`` products changed: one query for the distances of
    those of the answering slots (and one for the reasons of any that now rank among the first), none
    when there are none. ``None``: search again (the product's own vectors changed, or it had none)."""
    if ranking.ranked is None or ranking.version is None or targets is None or product.pk in written:
        return None
    changed = written.of_slots(targets)
    if not changed:
        return ranking
    question = _product_question(product, targets, ranking.version)
    fresh = _ranked_candidates(question).filter(product_id__in=changed).order_by().values_list("product_id", "distance")
    ranked = ranking.ranked.merged(changed, fresh, limit=settings.RECOMMENDER_CANDIDATES)
    evidence = {pk: found for pk, found in ranking.evidence.items() if pk not in changed}
    missing = [pk for pk in ranked.ids if pk in changed]
    if missing:
        evidence.update(_evidence(product, missing)[1])
    return _Ranking(ranked, ranking.version, ranking.lab, evidence)


def _garb(product: Product) -> Garb:
    colours = product.colours or []
    lab = colours[0].get("lab") if colours and isinstance(colours[0], dict) else None
    return Garb(
        product.pk,
        product.category.slot,
        product.category.slug,
        product.colour or "",
        product.pattern or "",
        float(lab[0]) if lab else None,
    )


def _garbs(products: QuerySet[Product]) -> list[Garb]:
    """What the stylist needs of each product, read as plain values (no model instances): scoring a
    hundred candidates loads a hundred short rows, and only the few shown are loaded whole."""
    rows = products.annotate(lightness=Cast(KT("colours__0__lab__0"), FloatField())).values_list(
        "pk", "category__slot", "category__slug", "colour", "pattern", "lightness"
    )
    return [
        Garb(pk, slot, slug, colour or "", pattern or "", lightness)
        for pk, slot, slug, colour, pattern, lightness in rows
    ]


def _garbs_on_sale(ids: Sequence[int]) -> list[Garb]:
    """The on-sale, in-stock products among ``ids``, in that order, as :class:`Garb` (one query)."""
    return _garbs(on_sale_in_order(ids)) if ids else []


#: How many shoes of each colour family a look chooses among (the newest on sale).
SHOES_PER_FAMILY = 30


def shoe_pool(*, on_sale: bool) -> list[Garb]:
    """The shoes a look may suggest: the newest of each colour family (on sale and in stock now, or
    whatever their stock: the cached order is filtered for it when shown); one query."""
    shoes = Product.objects.filter(category__slot=Category.Slot.SHOES)
    if on_sale:
        shoes = shoes.filter(is_active=True, stock__gt=0)
    return _garbs(
        shoes.annotate(
            place=Window(RowNumber(), partition_by=[F("colour")], order_by=[F("created_at").desc(), F("pk")])
        )
        .filter(place__lte=SHOES_PER_FAMILY)
        .order_by("pk")
    )


def _street_layers(product_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per product, the layer types (:data:`LAYER_TYPES`) worn in the street outfits stored as like it,
    and under ``""`` how many of those wear none: for a dress or a bottom, the layers worn with garments
    like it; for a layer, what street layers like it are."""
    with connection.cursor() as cursor:
        cursor.execute(_STREET_LAYERS_SQL, {"ids": list(product_ids), "neighbours": STREET_LAYER_NEIGHBOURS})
        rows = cursor.fetchall()
    found: dict[int, dict[str, int]] = {}
    for product_id, fine, count in rows:
        kind = LAYER_TYPE_OF_FINE.get(fine, "" if not fine else None)
        if kind is not None:
            found.setdefault(product_id, {}).setdefault(kind, 0)
            found[product_id][kind] += count
    return found


STREET_LAYER_NEIGHBOURS = 15
_STREET_LAYERS_SQL = """
SELECT cv.product_id, coalesce(g.fine_label, ''), count(*)
FROM recommender_complementvector AS cv
CROSS JOIN LATERAL unnest(cv.street_photos[1:%(neighbours)s]) AS near(photo_id)
LEFT JOIN recommender_garment AS g ON g.photo_id = near.photo_id AND g.is_street AND g.slot = 'outerwear'
WHERE cv.product_id = ANY(%(ids)s)
GROUP BY 1, 2
"""


def _shoe_reason(priors: StylistPriors, product: Product, own: Garb, shoe: Product) -> str:
    """Why these shoes: what street outfits with a garment of this colour wear on their feet, when the
    street says so clearly; else how the colours work together."""
    family = shoe.colour or ""
    table = priors.tables["colours"].get(f"{own.slot}>shoes", {}).get(own.family, {})
    common = sorted(table, key=table.get, reverse=True)[:2]
    if family and family in common and priors.support(own.slot, "shoes", own.family) >= 20:
        noun = {"top": "top", "outerwear": "jacket", "bottom": "bottom", "dress": "dress"}.get(own.slot, "garment")
        return f"Street outfits with a {own.family} {noun} often wear {family} shoes"
    if not family:
        return "A pair to finish the look"
    lab = (shoe.colours or [{}])[0].get("lab") if shoe.colours else None
    own_lab = (product.colours or [{}])[0].get("lab") if product.colours else None
    return _colour_sentence(product.colour, own_lab, shoe.colour, lab)


def ranks_a_look(product: Product, ranking: _Ranking) -> bool:
    """Whether the product's section is a look ranked by the model (else only pins, or why it is empty):
    its slot has complements and the product is indexed. Only then does the section need a look order."""
    slot = product.category.slot
    return bool(LOOK_SLOTS.get(slot, ())) and ranking.ranked is not None and COMPLEMENT_TARGETS.get(slot) is not None


def complements_from(
    *,
    product: Product,
    k: int,
    ranking: _Ranking,
    rules: tuple[set[int], list[int]],
    priors: StylistPriors,
    order: _LookOrder | None,
) -> Complements:
    """The section for ``product`` from its model ranking (:func:`complement_ranking`), the curators'
    ``rules`` (:func:`complement_rules`) and, when it :func:`ranks_a_look`, the stylist's ``order`` of
    its candidates (:func:`look_order`): pins first, what is on sale now, each piece with its reason."""
    slot = product.category.slot
    targets = COMPLEMENT_TARGETS.get(slot)
    look_slots = LOOK_SLOTS.get(slot, ())
    blocked, pin_order = rules
    pinned = first_on_sale(pin_order, k=k)
    # No ranking without targets: ``complement_ranking`` gives none, and ``complement_ranking_merged`` keeps none.
    if not ranks_a_look(product, ranking) or order is None or targets is None:
        items = [Suggestion(p, "Picked by our stylists", pinned=True, slot=p.category.slot) for p in pinned]
        if items:
            return Complements(items)
        if not look_slots:
            return Complements(
                [], "no_complements_for_slot", f"We don't suggest pieces to go with {product.category.name.lower()}."
            )
        return Complements([], "not_indexed", "Suggestions for this item are still being prepared.")

    exclude = blocked | set(pin_order) | {product.pk}
    pinned_by_slot: dict[str, list[Product]] = {}
    for p in pinned:
        look_slot = next((s for s in look_slots if p.category.slot in PIECE_SLOTS[s]), p.category.slot)
        pinned_by_slot.setdefault(look_slot, []).append(p)
    # What is on sale now and the curators' rules are applied to the stylist's order for each answer.
    picks = _picks_from_order(order, k=k, look_slots=look_slots, exclude=exclude, pinned_by_slot=pinned_by_slot)
    if picks is None:  # the order runs short of what is on sale: rank everything again
        picks = _picks(
            product, ranking, priors, look_slots, targets, k=k, exclude=exclude, pinned_by_slot=pinned_by_slot
        )
    return _suggestions(product, ranking, priors, look_slots, picks, pinned_by_slot)


#: How deep the cached stylist's order goes per slot: more than a page shows, so that a few pieces
#: sold out since it was computed are replaced by the next ones.
LOOK_DEPTH = 16


@dataclass(frozen=True)
class _LookOrder:
    """The stylist's order of a product's candidates per look slot, whatever is on sale now: the
    order variety picks them in. ``complete``: the slot's list holds every candidate there was."""

    orders: dict[str, tuple[int, ...]]
    complete: dict[str, bool]
    #: The main slot's pieces worn next to the skin (a top, not a jacket, for a bottom): the first of
    #: them on sale leads the look.
    inner: frozenset[int] = frozenset()


def look_order(product: Product, ranking: _Ranking, priors: StylistPriors, shoes: list[Garb]) -> _LookOrder:
    """The stylist's order of the product's candidates per look slot, whatever is on sale now, among
    ``shoes`` (:func:`shoe_pool`, whatever their stock) for the shoes slot."""
    look_slots = LOOK_SLOTS[product.category.slot]
    ranked, _ = ranking.indexed()
    pool = _garbs(products_in_order_query(ranked.ids))  # whatever their stock
    main_picks, shoe_picks = _scored_picks(
        product, ranking, priors, look_slots, pool, shoes, {look_slots[0]: LOOK_DEPTH, "shoes": LOOK_DEPTH}, {}
    )
    orders = {look_slots[0]: tuple(s.garb.pk for s in main_picks)}
    complete = {look_slots[0]: len(pool) <= LOOK_DEPTH}
    if "shoes" in look_slots:
        orders["shoes"] = tuple(s.garb.pk for s in shoe_picks)
        complete["shoes"] = len(shoes) <= LOOK_DEPTH
    inner = frozenset(s.garb.pk for s in main_picks if s.garb.slot == look_slots[0])
    return _LookOrder(orders, complete, inner)


#: Pieces of each slot's cached order loaded beyond those the section shows, to stand in for any sold out.
SPARE = 4


def look_order_merged(product: Product, targets: tuple[str, ...], order: _LookOrder, written: Written):
    """The cached order after the ``written`` products' vectors changed: kept as it is when none of them
    can be one of its pieces (another slot), else ``None`` (ordered again)."""
    if product.pk in written or written.of_slots((*targets, Category.Slot.SHOES)):
        return None
    return order


def _picks_from_order(
    order: _LookOrder,
    *,
    k: int,
    look_slots: tuple[str, ...],
    exclude: set[int],
    pinned_by_slot: dict[str, list[Product]],
) -> tuple[dict[str, list[int]], dict[int, Product]] | None:
    """The pieces to show per look slot from the cached order, and those products (one query for the
    head of each order, on sale now; a second only when too many of them sold out), or ``None`` when a
    slot's order runs out of pieces on sale before the section is full."""
    pinned = sum(len(p) for p in pinned_by_slot.values())
    ideal = split_counts(k - pinned, look_slots, dict.fromkeys(look_slots, k))
    orders = {slot: [pk for pk in order.orders.get(slot, ()) if pk not in exclude] for slot in look_slots}
    head = [pk for slot in look_slots for pk in orders[slot][: ideal.get(slot, 0) + SPARE]]
    loaded = {p.pk: p for p in on_sale_in_order(head)} if head else {}
    lists = {slot: [pk for pk in orders[slot] if pk in loaded] for slot in look_slots}
    if any(len(lists[slot]) < ideal.get(slot, 0) < len(orders[slot]) for slot in look_slots):
        on_sale = set(on_sale_in_order([pk for slot in look_slots for pk in orders[slot]]).values_list("pk", flat=True))
        lists = {slot: [pk for pk in orders[slot] if pk in on_sale] for slot in look_slots}
    if any(len(lists[slot]) < ideal.get(slot, 0) for slot in look_slots if not order.complete.get(slot, True)):
        return None
    if len(lists[look_slots[0]]) < ideal.get(look_slots[0], 0):
        return None  # the model's ranking runs short: the exact search may fill it
    counts = split_counts(
        k - pinned, look_slots, {slot: len(lists[slot]) + len(pinned_by_slot.get(slot, [])) for slot in look_slots}
    )
    picks = {slot: lists[slot][: counts.get(slot, 0)] for slot in look_slots}
    main = picks[look_slots[0]]
    lead = next((pk for pk in main if pk in order.inner), None)
    if lead is not None and not pinned_by_slot.get(look_slots[0]):
        picks[look_slots[0]] = [lead, *(pk for pk in main if pk != lead)]
    return picks, loaded


def _picks(
    product: Product,
    ranking: _Ranking,
    priors: StylistPriors,
    look_slots: tuple[str, ...],
    targets: tuple[str, ...],
    *,
    k: int,
    exclude: set[int],
    pinned_by_slot: dict[str, list[Product]],
) -> tuple[dict[str, list[int]], dict[int, Product]]:
    """The pieces to show per look slot, scored over every candidate on sale now (no product loaded)."""
    main = look_slots[0]
    # One query for what of the model's ranking is on sale now; an exact search fills a short list.
    ranked, version = ranking.indexed()
    pool = _garbs_on_sale([pk for pk in ranked.ids if pk not in exclude])
    if len(pool) < k:
        ids = _exact_candidate_ids(_product_question(product, targets, version), k=k, exclude=exclude)
        if len(ids) > len(pool):
            pool = _garbs_on_sale(ids)
    shoes = [g for g in shoe_pool(on_sale=True) if g.pk not in exclude]
    pinned = sum(len(p) for p in pinned_by_slot.values())
    counts = split_counts(
        k - pinned,
        look_slots,
        {
            main: len(pool) + len(pinned_by_slot.get(main, [])),
            "shoes": len(shoes) + len(pinned_by_slot.get("shoes", [])),
        },
    )
    main_picks, shoe_picks = _scored_picks(product, ranking, priors, look_slots, pool, shoes, counts, pinned_by_slot)
    return {main: [s.garb.pk for s in main_picks], "shoes": [s.garb.pk for s in shoe_picks]}, {}


def _scored_picks(
    product: Product,
    ranking: _Ranking,
    priors: StylistPriors,
    look_slots: tuple[str, ...],
    pool: list[Garb],
    shoes: list[Garb],
    counts: dict[str, int],
    pinned_by_slot: dict[str, list[Product]],
) -> tuple[list[Scored], list[Scored]]:
    """Score the candidates and pick each slot's pieces for variety: the main slot's, then shoes for the
    look's main piece."""
    main = look_slots[0]
    own = _garb(product)
    ranked, _ = ranking.indexed()
    distances = dict(zip(ranked.ids, ranked.distances, strict=True))
    model = model_terms({g.pk: distances[g.pk] for g in pool if g.pk in distances})
    layers: dict[int, float] = {}
    if any(g.slot == Category.Slot.OUTERWEAR for g in pool):
        types = _street_layers([product.pk, *(g.pk for g in pool if g.slot == Category.Slot.OUTERWEAR)])
        preference = layer_preference(priors, own, types.get(product.pk, {}))
        layers = {pk: layer_term(preference, found) for pk, found in types.items() if pk != product.pk}
    main_scored = [
        Scored(
            g,
            piece_score(
                priors,
                own,
                g,
                look_slot=main,
                model=model.get(g.pk),
                layer=layers.get(g.pk),
                street=ranking.evidence[g.pk].support if g.pk in ranking.evidence else 0,
            ),
            main,
        )
        for g in pool
    ]
    shown_main = [_garb(p) for p in pinned_by_slot.get(main, [])]
    main_picks = pick_varied(main_scored, counts.get(main, 0), shown=shown_main)
    # The outfit's own piece is worn next to the skin: a bottom's look leads with a top, not a jacket.
    inner = next((s for s in main_picks if s.garb.slot == main), None)
    if inner is not None and not shown_main:
        main_picks = [inner, *(s for s in main_picks if s is not inner)]
    partner = shown_main[0] if shown_main else (main_picks[0].garb if main_picks else None)
    shoe_picks: list[Scored] = []
    if "shoes" in look_slots:
        shoe_scored = [
            Scored(g, piece_score(priors, own, g, look_slot="shoes", partner=partner), "shoes") for g in shoes
        ]
        shoe_picks = pick_varied(
            shoe_scored, counts.get("shoes", 0), shown=[_garb(p) for p in pinned_by_slot.get("shoes", [])]
        )
    return main_picks, shoe_picks


def _suggestions(
    product: Product,
    ranking: _Ranking,
    priors: StylistPriors,
    look_slots: tuple[str, ...],
    picked: tuple[dict[str, list[int]], dict[int, Product]],
    pinned_by_slot: dict[str, list[Product]],
) -> Complements:
    """The section: the pins and the picked pieces (loaded whole in one query, unless loaded already),
    each with its reason, the look's piece of each slot first."""
    main = look_slots[0]
    picks, by_pk = picked
    missing = [pk for slot in look_slots for pk in picks.get(slot, []) if pk not in by_pk]
    if missing:
        by_pk = {**by_pk, **{p.pk: p for p in products_in_order(missing)}}
    chosen_main = [by_pk[pk] for pk in picks.get(main, []) if pk in by_pk]
    reasons = _reasons(product, chosen_main, ranking)
    own = _garb(product)
    lists: dict[str, list[Suggestion]] = {}
    for look_slot, products in pinned_by_slot.items():
        lists[look_slot] = [Suggestion(p, "Picked by our stylists", pinned=True, slot=look_slot) for p in products]
    for piece in chosen_main:
        reason, photo = reasons[piece.pk]
        lists.setdefault(main, []).append(Suggestion(piece, reason, outfit_photo=photo, slot=main))
    for pk in picks.get("shoes", []):
        shoe = by_pk.get(pk)
        if shoe is not None:
            reason = _shoe_reason(priors, product, own, shoe)
            lists.setdefault("shoes", []).append(Suggestion(shoe, reason, slot="shoes"))
    order = [*look_slots, *(s for s in lists if s not in look_slots)]
    look = [replace(lists[s][0], in_look=True) for s in order if s in look_slots and lists.get(s)]
    rest = [item for s in order for item in lists.get(s, [])[(1 if s in look_slots else 0) :]]
    items = look + rest
    if not items:
        return Complements([], "none_available", "Nothing that goes with this is on sale right now.")
    return Complements(items)
