"""What the product page shows next to a product: one selector per section."""

from __future__ import annotations

from django.conf import settings

from recommender.selectors.complements import complements_for
from recommender.selectors.similar import similar_products
from shop.models import Product


def product_recommendations(*, product: Product, cheaper: bool = False) -> dict:
    """What the product page shows: real neighbours, or nothing."""
    return {
        "complete_the_look": complements_for(product=product, k=settings.RECOMMENDER_COMPLEMENTS_ON_PAGE),
        "similar_items": similar_products(product=product, k=settings.RECOMMENDER_SIMILAR_ON_PAGE, cheaper=cheaper),
        "similar_cheaper": cheaper,
    }
