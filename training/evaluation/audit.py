"""Audit of "Complete the look" over a whole catalog, as a shopper would notice its faults.

Every top, bottom, outerwear and dress on sale goes through the page's own selector
(``complements_for``); the same figures are computed for random picks from the same slots
(as many per slot as the shop shows), so each figure has its chance level beside it:

* ``same_colour_share`` — for colourful products, the share of suggestions in the product's own
  colour family (a red tee offered red bottoms);
* ``duplicate_pair_share`` — the share of pairs of suggestions on one page of the same category
  and colour family (five white shirts);
* ``with_shoes_share`` — the share of products whose look includes shoes;
* ``full_share`` — the share of products with at least :data:`FULL` suggestions.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

from django.conf import settings

from recommender.ml.stylist.looks import NEUTRALS
from recommender.selectors.cached import complements_for
from shop.models import Category, Product

#: A product page is "full" with this many suggestions or more.
FULL = 4
AUDITED_SLOTS = (Category.Slot.TOP, Category.Slot.BOTTOM, Category.Slot.OUTERWEAR, Category.Slot.DRESS)


@dataclass
class _Tally:
    products: int = 0
    colourful_items: int = 0
    same_colour: int = 0
    pairs: int = 0
    duplicate_pairs: int = 0
    with_shoes: int = 0
    full: int = 0

    def add(self, product: Product, items: list[Product]) -> None:
        self.products += 1
        if product.colour and product.colour not in NEUTRALS:
            self.colourful_items += len(items)
            self.same_colour += sum(1 for item in items if item.colour == product.colour)
        for a, b in combinations(items, 2):
            self.pairs += 1
            self.duplicate_pairs += a.category_id == b.category_id and bool(a.colour) and a.colour == b.colour
        self.with_shoes += any(item.category.slot == Category.Slot.SHOES for item in items)
        self.full += len(items) >= FULL

    def figures(self) -> dict[str, float | int]:
        def share(n: int, d: int) -> float:
            return round(n / d, 4) if d else 0.0

        return {
            "products": self.products,
            "same_colour_share": share(self.same_colour, self.colourful_items),
            "duplicate_pair_share": share(self.duplicate_pairs, self.pairs),
            "with_shoes_share": share(self.with_shoes, self.products),
            "full_share": share(self.full, self.products),
        }


def _random_picks(product: Product, shown: list[Product], by_slot: dict[str, list[Product]], rng) -> list[Product]:
    picks: list[Product] = []
    for slot in dict.fromkeys(item.category.slot for item in shown):
        wanted = sum(1 for item in shown if item.category.slot == slot)
        choices = [p for p in by_slot.get(slot, []) if p.pk != product.pk]
        picks += rng.sample(choices, min(wanted, len(choices)))
    return picks


def complements_audit(*, k: int | None = None, seed: int = 0, products: Iterable[Product] | None = None) -> dict:
    """The audit's figures for the shop's suggestions and, under ``"random"``, for random picks."""
    k = k or settings.RECOMMENDER_COMPLEMENTS_ON_PAGE
    rng = random.Random(seed)
    if products is None:
        products = Product.objects.filter(is_active=True, category__slot__in=AUDITED_SLOTS).select_related("category")
    on_sale = Product.objects.filter(is_active=True, stock__gt=0).select_related("category").order_by("pk")
    by_slot: dict[str, list[Product]] = {}
    for p in on_sale:
        by_slot.setdefault(p.category.slot, []).append(p)
    shop, chance = _Tally(), _Tally()
    for product in products.order_by("pk") if hasattr(products, "order_by") else products:
        shown = [item.product for item in complements_for(product=product, k=k).items]
        shop.add(product, shown)
        chance.add(product, _random_picks(product, shown, by_slot, rng))
    return {**shop.figures(), "random": chance.figures()}
