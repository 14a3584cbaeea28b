"""What the product page shows next to a product: one selector per section."""

from __future__ import annotations

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from recommender.selectors.cached import complements_for, similar_products
from recommender.selectors.freshness import recommendations_state
from shop.models import Product


def product_recommendations(*, product: Product, cheaper: bool = False) -> dict:
    """What the product page shows: real neighbours, or nothing.

    The sections are computed only when the page renders them: a page whose sections are
    cached under ``recommendations_state`` (the models in service and the catalog's change
    counter, :mod:`recommender.selectors.freshness`) runs no recommendation query at all."""
    state = recommendations_state()  # one read of the counters for the whole page
    return {
        "complete_the_look": SimpleLazyObject(
            lambda: complements_for(product=product, k=settings.RECOMMENDER_COMPLEMENTS_ON_PAGE, state=state)
        ),
        "similar_items": SimpleLazyObject(
            lambda: similar_products(
                product=product, k=settings.RECOMMENDER_SIMILAR_ON_PAGE, cheaper=cheaper, state=state
            )
        ),
        "similar_cheaper": cheaper,
        "recommendations_state": state.results,
        "recommendations_seconds": settings.RECOMMENDER_RESULT_CACHE_SECONDS,
    }
