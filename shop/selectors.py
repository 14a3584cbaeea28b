"""Reads: the catalog as shoppers, curators and the API see it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    QuerySet,
    Sum,
)

from shop.errors import ApplicationError
from shop.models import Cart, Category, Colour, Order, Product
from shop.search.query import search, suggestions
from shop.validators import clean_text

SORTS: dict[str, tuple[str, ...]] = {
    "relevance": ("-search_rank", "-created_at", "-id"),  # with a search; without one it reads as newest
    "newest": ("-created_at", "-id"),
    "price": ("price", "id"),
    "-price": ("-price", "id"),
    "name": ("name", "id"),
}
FILTER_KEYS = ("q", "category", "slot", "colour", "brand", "min_price", "max_price", "in_stock", "sort")


@dataclass(frozen=True)
class ProductFilters:
    q: str = ""
    category: str = ""
    slot: str = ""
    colour: str = ""
    brand: str = ""
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool = False
    sort: str = "newest"

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, strict: bool = False) -> ProductFilters:
        """Parse query parameters. ``strict`` (the API) rejects unknown keys and bad values;
        the pages ignore what they can't use, as a shop should."""
        errors: dict[str, str] = {}
        if strict:
            unknown = sorted(set(params) - set(FILTER_KEYS) - {"page", "page_size", "format"})
            for key in unknown:
                errors[key] = "Unknown filter."

        def text(key: str) -> str:
            return clean_text(params.get(key, ""), max_length=100)

        def price(key: str) -> Decimal | None:
            raw = text(key)
            if not raw:
                return None
            try:
                value = Decimal(raw)
                if not value.is_finite() or value < 0:
                    raise InvalidOperation
                return value
            except InvalidOperation:
                errors[key] = "Must be a non-negative number."
                return None

        slot = text("slot")
        if slot and slot not in Category.Slot.values:
            errors["slot"] = f"Must be one of: {', '.join(Category.Slot.values)}."
            slot = ""
        colour = text("colour")
        if colour and colour not in Colour.values:
            errors["colour"] = f"Must be one of: {', '.join(Colour.values)}."
            colour = ""
        sort = text("sort") or ("relevance" if text("q") else "newest")
        if sort not in SORTS:
            errors["sort"] = f"Must be one of: {', '.join(SORTS)}."
            sort = "newest"
        in_stock_raw = text("in_stock").lower()
        if in_stock_raw not in ("", "0", "1", "true", "false", "on"):
            errors["in_stock"] = "Must be true or false."
        filters = cls(
            q=text("q"),
            category=text("category"),
            slot=slot,
            colour=colour,
            brand=text("brand"),
            min_price=price("min_price"),
            max_price=price("max_price"),
            in_stock=in_stock_raw in ("1", "true", "on"),
            sort=sort,
        )
        if strict and errors:
            raise ApplicationError("Invalid filters.", details=errors, code="invalid_filter")
        return filters


# --- Search -----------------------------------------------------------------------------------
# shop/search/: shoppers' words (synonyms.toml) read as categories, measured colours and patterns,
# matched and ranked in PostgreSQL (full text + pg_trgm). The pages and the API share it.


def search_suggestions(*, q: str, limit: int = 4) -> list[str]:
    """Queries close to ``q`` that find products on sale ("did you mean ..."), for a search without results."""
    on_sale = Product.objects.filter(is_active=True)
    return suggestions(q, available=lambda query: search(on_sale, query).exists(), limit=limit)


def product_list(*, filters: ProductFilters = ProductFilters(), include_inactive: bool = False) -> QuerySet[Product]:
    qs = Product.objects.select_related("category")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if filters.q:
        qs = search(qs, filters.q)
    if filters.category:
        qs = qs.filter(category__slug=filters.category)
    if filters.slot:
        qs = qs.filter(category__slot=filters.slot)
    if filters.colour:
        qs = qs.filter(colour=filters.colour)
    if filters.brand:
        qs = qs.filter(brand__iexact=filters.brand)
    if filters.min_price is not None:
        qs = qs.filter(price__gte=filters.min_price)
    if filters.max_price is not None:
        qs = qs.filter(price__lte=filters.max_price)
    if filters.in_stock:
        qs = qs.filter(stock__gt=0)
    sort = filters.sort if (filters.sort != "relevance" or filters.q) else "newest"
    return qs.order_by(*SORTS[sort])


def new_in(*, limit: int = 8) -> list[Product]:
    """The home page's "New in": the newest on-sale products, taken in turns from each category
    (the newest of every category first, then the second newest, ...), so one busy category
    never fills the row."""
    from django.db.models import Window
    from django.db.models.functions import RowNumber

    ranked = (
        Product.objects.filter(is_active=True)
        .select_related("category")
        .annotate(
            category_rank=Window(
                RowNumber(), partition_by=[F("category_id")], order_by=[F("created_at").desc(), F("id").desc()]
            )
        )
        .filter(category_rank__lte=limit)
        .order_by("category_rank", "-created_at", "-id")
    )
    return list(ranked[:limit])


def product_get(*, slug: str | None = None, pk: int | None = None) -> Product | None:
    qs = Product.objects.select_related("category").prefetch_related("variants").filter(is_active=True)
    if slug is not None:
        return qs.filter(slug=slug).first()
    return qs.filter(pk=pk).first() if pk is not None else None


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


def brand_list() -> list[str]:
    return list(
        Product.objects.filter(is_active=True)
        .exclude(brand="")
        .order_by("brand")
        .values_list("brand", flat=True)
        .distinct()
    )


def cart_lines(*, cart: Cart | None) -> list:
    if cart is None:
        return []
    lines = cart.items.select_related("product", "product__category", "variant").prefetch_related("product__variants")
    return list(lines.order_by("id"))


def cart_total(*, cart: Cart | None) -> Decimal:
    if cart is None:
        return Decimal("0.00")
    line = ExpressionWrapper(F("quantity") * F("product__price"), output_field=DecimalField())
    return cart.items.aggregate(total=Sum(line))["total"] or Decimal("0.00")


def cart_count(*, cart: Cart | None) -> int:
    if cart is None:
        return 0
    return cart.items.aggregate(n=Sum("quantity"))["n"] or 0


def order_list(*, user) -> QuerySet[Order]:
    """A customer's own orders only."""
    return Order.objects.filter(user=user).prefetch_related("items")


def order_get(*, user, number: str) -> Order | None:
    number = clean_text(number, max_length=Order._meta.get_field("number").max_length)
    if not number:
        return None
    return order_list(user=user).prefetch_related("items__product").filter(number=number).first()
