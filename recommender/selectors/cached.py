"""The recommendation sections as pages, the API, the admin and the panels ask for them: the plain
selectors (:mod:`~recommender.selectors.complements`, :mod:`~recommender.selectors.similar`), each
step wrapped in the cache that fits it (:mod:`~recommender.selectors.freshness`).

The selectors know nothing of caching; this module gives the caches their keys and the selectors'
compute and merge functions, and calls down. For one product's "Complete the look":

    complements_for ─ result cache (catalog writes) ─► _complements
        ├─ ranking cache (ranking writes; vector writes merged) ─► complements.complement_ranking
        │                                                          (merge: complement_ranking_merged)
        ├─ rules cache (rule writes) ─► complements.complement_rules
        ├─ when it ranks a look: ranking cache ─► complements.look_order (merge: look_order_merged),
        │      its shoes from the result cache ─► complements.shoe_pool
        └─ complements.complements_from(ranking, rules, order): what is on sale now, with reasons

Similar items: result cache ─► ranking cache ─► similar.similar_ranking (merge:
similar_ranking_merged) ─► similar.similar_from_ranking.
"""

from __future__ import annotations

from functools import partial

from django.conf import settings

from recommender import inference
from recommender.models import COMPLEMENT_TARGETS
from recommender.selectors import complements, similar
from recommender.selectors.complements import Complements
from recommender.selectors.freshness import (
    RecommendationState,
    cached_while_unchanged,
    ranking_cached,
    rules_cached,
)
from recommender.selectors.recommendations import Recommendations
from shop.models import Product

__all__ = ["complements_for", "similar_for", "similar_products"]


def complements_for(
    *,
    product: Product,
    k: int | None = None,
    state: RecommendationState | None = None,
    priors: inference.StylistPriors | None = None,
) -> Complements:
    """What goes with ``product``: a whole look (one piece per slot), then alternatives per slot, each
    with a reason; the curators' pins first in their slots.

    Cached until the catalog changes (a rule too); the model's ranking behind it until categories
    change, vectors written since merged in. ``state``: the one the page read for all its sections.
    ``priors``: other stylist priors than those in service (compared in panels; the whole result and
    the stylist's order are then never cached)."""
    k = k or settings.RECOMMENDER_COMPLEMENTS_ON_PAGE
    if priors is not None:
        return _complements(product, k, state, priors, cached_order=False)
    return cached_while_unchanged(
        "complements",
        (product.pk, k),
        lambda: _complements(product, k, state, inference.stylist_priors()),
        state=state,
    )


def _complements(
    product: Product,
    k: int,
    state: RecommendationState | None,
    priors: inference.StylistPriors,
    *,
    cached_order: bool = True,
) -> Complements:
    slot = product.category.slot
    targets = COMPLEMENT_TARGETS.get(slot)
    ranking = ranking_cached(
        "complements",
        (product.pk, slot),
        partial(complements.complement_ranking, product, targets),
        merge=partial(complements.complement_ranking_merged, product, targets),
        state=state,
    )
    # The curators' rules are cached apart from the ranking: a pin or a block never invalidates a ranking.
    rules = rules_cached("complements", (product.pk,), partial(complements.complement_rules, product), state=state)
    order = None
    if complements.ranks_a_look(product, ranking):
        # The stylist's order is cached beside the ranking (other priors than those in service: computed
        # each time); what is on sale now and the curators' rules are applied to it for each answer.
        if cached_order:
            order = ranking_cached(
                "look",
                (product.pk, slot),
                lambda: complements.look_order(product, ranking, priors, _shoes(state)),
                merge=partial(complements.look_order_merged, product, targets or ()),
                state=state,
            )
        else:
            order = complements.look_order(product, ranking, priors, _shoes(None))
    return complements.complements_from(product=product, k=k, ranking=ranking, rules=rules, priors=priors, order=order)


def _shoes(state: RecommendationState | None) -> list:
    """Every look chooses among the same shoes: read once per catalog write, whatever their stock."""
    return cached_while_unchanged("shoes", (), partial(complements.shoe_pool, on_sale=False), state=state)


def similar_products(
    *, product: Product, k: int = 8, cheaper: bool = False, state: RecommendationState | None = None
) -> list[Product]:
    """The on-sale, in-stock products that look most like this one: its category first, then its slot,
    nearest first (never the product itself).

    ``cheaper`` keeps only items priced below this product: "the same look for less". The result is
    cached until the catalog changes, the ranking behind it until categories change, vectors written
    since merged in; ``state``: the one the page read for all its sections.
    """
    return cached_while_unchanged(
        "similar",
        (product.pk, k, int(cheaper)),
        lambda: _similar_products(product, k, cheaper, state),
        state=state,
    )


def _similar_products(product: Product, k: int, cheaper: bool, state: RecommendationState | None) -> list[Product]:
    ranking = ranking_cached(
        "similar",
        (product.pk, product.category_id, k),
        partial(similar.similar_ranking, product, k),
        merge=partial(similar.similar_ranking_merged, product, k),
        state=state,
    )
    return similar.similar_from_ranking(product=product, ranking=ranking, k=k, cheaper=cheaper)


def similar_for(*, product: Product, k: int = 8, cheaper: bool = False) -> Recommendations:
    """``similar_products`` with the reason when there are none: the product is not indexed yet, or nothing
    that looks like it is on sale (for less, with ``cheaper``)."""
    items = similar_products(product=product, k=k, cheaper=cheaper)
    return similar.similar_recommendations(product=product, items=items, cheaper=cheaper)
