"""Complete the look as a stylist would: a whole outfit, varied alternatives, from the street's priors.

A top's look is a bottom plus shoes, a bottom's a top plus shoes, a dress's a layer plus shoes
(:data:`LOOK_SLOTS`). Each piece is scored by several signals added as natural logs, the way
production recommenders blend them:

* the learned complement model, where it covers the slot (its rank among the candidates);
* how many street outfits wear garments that look like both pieces (the same evidence as the
  "worn together" reason);
* how often street outfits wear the piece's *category* with the product's (a T-shirt with
  trousers or a skirt, rarely shorts);
* how often they wear the piece's *colour family* with the product's (a red top mostly meets
  black, navy or grey, rarely its own red);
* for a layer, which layers street outfits with garments *like this one* wear (a light dress
  gets jackets and blazers before coats);
* three colour rules a stylist states outright: one printed piece per look, a colourful product
  is not matched with its own colour (tonal dressing is a choice, not a default), and no dark
  piece on a dark product without something light in the outfit.

The pieces shown are then picked greedily for variety (:func:`pick_varied`): a piece that repeats
the category and colour of one already shown pays a penalty larger than any score gap, so a page
never shows five copies of one idea while anything else is on sale. Pure functions over
:class:`Garb`, so every rule is testable without a database.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from recommender.ml.stylist.priors import LAYER_TYPES, StylistPriors

#: The pieces of a look, by the product's slot: the first is the main piece, then shoes.
LOOK_SLOTS: dict[str, tuple[str, ...]] = {
    "top": ("bottom", "shoes"),
    "outerwear": ("bottom", "shoes"),
    "bottom": ("top", "shoes"),
    "dress": ("outerwear", "shoes"),
}
#: The catalog slots that can fill each look slot.
PIECE_SLOTS: dict[str, tuple[str, ...]] = {
    "bottom": ("bottom",),
    "top": ("top", "outerwear"),
    "outerwear": ("outerwear",),
    "shoes": ("shoes",),
}

#: How much each signal counts (natural-log units).
WEIGHTS = {
    "model": 0.5,
    "street": 0.4,
    "category": 1.0,
    "colour": 1.0,
    "layer": 2.0,
    "rules": 1.0,
    "look_colour": 0.5,
}
#: Colour families that go with anything: a product of another family is "colourful".
NEUTRALS = frozenset({"black", "white", "grey", "beige", "brown", "navy"})
#: A printed, striped or checked piece with a patterned product; a colourful product's own colour
#: family; a dark piece on a dark product.
PATTERN_CLASH = -1.5
#: A patterned piece with a plain product: allowed, but the product leads, so plain pieces come first.
PATTERNED_PIECE = -0.4
OWN_COLOUR = -1.5
#: A layer among a bottom's tops: it is worn over a top, so it comes after the tops that go.
LAYER_FOR_TOP = -0.7
DARK_ON_DARK = -0.7
DARK_L = 32.0
#: Variety: the cost of repeating, in one list, a category and colour already shown (larger than any
#: score gap, so it happens only when nothing else is left), a colour, a category, a pattern.
REPEAT_IDEA, REPEAT_COLOUR, REPEAT_CATEGORY, REPEAT_PATTERN = 10.0, 1.2, 0.25, 0.3
#: How many of the best candidates variety chooses among, beyond the number shown.
VARIETY_POOL = 30
#: A second layer among a bottom's tops: the list is of tops, with a jacket as one idea among them.
REPEAT_LAYER = 1.5
#: A small, stable per-pair tie-breaker, so that equally good shoes differ from page to page.
JITTER = 0.5
PLAIN = ("", "plain")


@dataclass(frozen=True)
class Garb:
    """What the stylist needs to know of a garment."""

    pk: int
    slot: str
    category: str
    family: str = ""
    pattern: str = ""
    lightness: float | None = None

    @property
    def patterned(self) -> bool:
        return self.pattern not in PLAIN

    @property
    def dark(self) -> bool:
        return self.lightness is not None and self.lightness < DARK_L


@dataclass(frozen=True)
class Scored:
    garb: Garb
    score: float
    #: The look slot it fills.
    look_slot: str


def model_terms(distances: dict[int, float]) -> dict[int, float]:
    """The complement model's opinion per candidate: its standardised closeness, clipped to ±2.5."""
    if not distances:
        return {}
    values = list(distances.values())
    mean = sum(values) / len(values)
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) or 1.0
    return {pk: max(-2.5, min(2.5, (mean - d) / spread)) for pk, d in distances.items()}


def layer_preference(
    priors: StylistPriors, product: Garb, street_types: dict[str, int], *, strength: float = 5.0
) -> dict[str, float]:
    """P(layer type | this product): the layers of the street outfits whose garment is like it, pulled
    towards all street outfits with its category by ``strength`` pseudo-outfits.

    ``street_types`` counts those outfits' layers by type, and under ``""`` the outfits without one.
    Garments like it that are seldom worn under any layer are worn in warm weather: coats then count
    for less, in proportion."""
    base = priors.layer_types(product.category) or {t: 1 / len(LAYER_TYPES) for t in LAYER_TYPES}
    n = sum(street_types.get(t, 0) for t in LAYER_TYPES)
    preference = {t: (street_types.get(t, 0) + strength * base.get(t, 0.0)) / (n + strength) for t in LAYER_TYPES}
    usual = math.exp(priors.slot_share(product.category, product.slot, "outerwear"))
    seen = n + street_types.get("", 0)
    layered = (n + strength * usual) / (seen + strength)
    preference["coat"] *= min(1.0, layered / usual)
    total = sum(preference.values())
    return {t: p / total for t, p in preference.items()}


def layer_term(preference: dict[str, float], candidate_types: dict[str, int]) -> float:
    """How well a layer's type (its street look-alikes' labels) fits the preference, against a uniform pick."""
    n = sum(candidate_types.get(t, 0) for t in LAYER_TYPES)
    if not n:
        return 0.0
    fit = sum(candidate_types.get(t, 0) / n * preference[t] for t in LAYER_TYPES)
    return math.log(max(fit * len(LAYER_TYPES), 1e-3))


def _jitter(a: int, b: int) -> float:
    digest = hashlib.blake2b(f"{a}:{b}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") / 2**32


#: How much of the street's overall share of a colour family is taken out of the colour score.
COLOUR_BASE = 0.5
#: The colour score of a piece whose colour is unknown: as if its family were drawn at random.
UNKNOWN_COLOUR = math.log(1 / 13)


def _colour(priors: StylistPriors, product: Garb, piece: Garb) -> float:
    """log P(piece family | product family) less half of log P(piece family): what this colour goes
    with, only half of how common the piece's colour is in the street at all (street light makes
    dark denim black and navy more often than a catalog photo does)."""
    if not piece.family:
        return UNKNOWN_COLOUR * (1 - COLOUR_BASE)
    return priors.colour_score(product.slot, product.family, piece.slot, piece.family) - COLOUR_BASE * (
        priors.colour_base(product.slot, piece.slot, piece.family)
    )


def piece_score(
    priors: StylistPriors,
    product: Garb,
    piece: Garb,
    *,
    look_slot: str,
    model: float | None = None,
    layer: float | None = None,
    partner: Garb | None = None,
    street: int = 0,
) -> float:
    """How well ``piece`` goes with ``product`` (and with the look's ``partner``, for shoes); ``street``:
    how many street outfits have garments that look like both."""
    score = _prior_score(priors, _kind(product), _kind(piece), None if partner is None else _kind(partner))
    score += WEIGHTS["street"] * math.log1p(street)
    if model is not None:
        score += WEIGHTS["model"] * model
    else:
        score += JITTER * _jitter(product.pk, piece.pk)
    if layer is not None:
        score += WEIGHTS["layer"] * layer
    return score


@functools.lru_cache(maxsize=65536)
def _kind(garb: Garb) -> Garb:
    """The garment without its identity: what the priors and rules look at (pieces alike share a score)."""
    dark = None if garb.lightness is None else (0.0 if garb.dark else 100.0)
    return Garb(0, garb.slot, garb.category, garb.family, garb.pattern, dark)


@functools.lru_cache(maxsize=65536)
def _prior_score(priors: StylistPriors, product: Garb, piece: Garb, partner: Garb | None) -> float:
    """The priors' and the colour rules' part of :func:`piece_score` (the same for pieces alike)."""
    score = WEIGHTS["category"] * (
        priors.category_score(product.category, piece.slot, piece.category)
        + priors.slot_share(product.category, product.slot, piece.slot)
    )
    if product.family:
        score += WEIGHTS["colour"] * _colour(priors, product, piece)
    if partner is not None and partner.family:
        score += WEIGHTS["look_colour"] * _colour(priors, partner, piece)
    rules = 0.0
    if product.slot == "bottom" and piece.slot == "outerwear":
        rules += LAYER_FOR_TOP
    if piece.patterned and piece.slot != "shoes":
        rules += PATTERN_CLASH if product.patterned else PATTERNED_PIECE
    if product.family and product.family not in NEUTRALS and piece.family == product.family:
        rules += OWN_COLOUR
    if product.dark and piece.dark and piece.slot != "shoes" and (partner is None or partner.dark):
        rules += DARK_ON_DARK
    return score + WEIGHTS["rules"] * rules


def _repeats(garb: Garb, shown: Iterable[Garb], look_slot: str = "") -> float:
    cost = 0.0
    for other in shown:
        if look_slot and garb.slot != look_slot and other.slot == garb.slot:
            cost += REPEAT_LAYER
        same_category, same_family = garb.category == other.category, bool(garb.family) and garb.family == other.family
        if same_category and same_family:
            cost += REPEAT_IDEA
        elif same_family:
            cost += REPEAT_COLOUR
        elif same_category:
            cost += REPEAT_CATEGORY
        if garb.patterned and garb.pattern == other.pattern:
            cost += REPEAT_PATTERN
    return cost


def pick_varied(scored: Sequence[Scored], n: int, *, shown: Sequence[Garb] = ()) -> list[Scored]:
    """The ``n`` best of ``scored`` for a list that already shows ``shown``, each next pick paying for
    what it repeats of those before it (the costs add up pick by pick: one pass over the candidates
    per pick)."""
    # Variety only ever reaches a little below the best: the first :data:`VARIETY_POOL` per pick are enough.
    left = sorted(scored, key=lambda s: s.score, reverse=True)[: VARIETY_POOL + n]
    costs = [_repeats(s.garb, shown, s.look_slot) for s in left]
    picked: list[Scored] = []
    while left and len(picked) < n:
        best = max(range(len(left)), key=lambda i: left[i].score - costs[i])
        chosen = left.pop(best)
        costs.pop(best)
        picked.append(chosen)
        costs = [cost + _repeats(s.garb, (chosen.garb,), s.look_slot) for s, cost in zip(left, costs, strict=True)]
    return picked


def near_duplicates(a: Garb, b: Garb) -> bool:
    """Two pieces a shopper would call the same idea: one category, one colour family, one pattern."""
    return a.category == b.category and a.family == b.family and (a.pattern or "plain") == (b.pattern or "plain")


def split_counts(k: int, look_slots: Sequence[str], available: dict[str, int]) -> dict[str, int]:
    """How many of ``k`` suggestions each look slot gets: the main piece about two thirds, shoes the
    rest; a slot with too few on sale gives its places to the other."""
    if not look_slots:
        return {}
    main, rest = look_slots[0], list(look_slots[1:])
    counts = {main: k}
    if rest and k >= 2:
        shoes = max(1, round(k / 3))
        counts = {main: k - shoes * len(rest), **{slot: shoes for slot in rest}}
    for slot in list(counts):
        spare = counts[slot] - available.get(slot, 0)
        if spare > 0:
            counts[slot] -= spare
            for other in counts:
                if other != slot and available.get(other, 0) > counts[other]:
                    moved = min(spare, available[other] - counts[other])
                    counts[other] += moved
                    spare -= moved
    return counts
