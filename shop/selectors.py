"""Reads: the catalog as shoppers, curators and the API see it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, TrigramWordSimilarity
from django.db import connection
from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce, Concat, Lower

from shop.errors import ApplicationError
from shop.models import Cart, Category, Colour, Order, Product
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
# PostgreSQL full-text search over what a shopper types about a garment (name, category, colour
# names, pattern, brand; never the description, whose boilerplate matched "red" in "measured"),
# whole words with English stemming ("dresses" finds "dress"), plus trigram word similarity for
# typos ("denin" finds "denim"). Every word must match, one way or the other; results are ranked.
SEARCH_CONFIG = "english"
SEARCH_MAX_WORDS = 8
SEARCH_TYPO_MIN_LENGTH = 4  # shorter words have too few trigrams to tell a typo from another word
SEARCH_TYPO_SIMILARITY = 0.4
_WORD = re.compile(r"\w+", re.UNICODE)


class _ColourNamesText(Func):
    """The product's colour names as text (``["navy", "sand"]``), for the search document."""

    template = "COALESCE(jsonb_path_query_array(%(expressions)s, '$[*].name')::text, '')"
    output_field = TextField()


def _search_words(q: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(q.replace("_", " "))][:SEARCH_MAX_WORDS]


def _stop_words(words: list[str]) -> set[str]:
    """Words that PostgreSQL's English dictionary drops ("the", "with"): they match everything."""
    if not words:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT w FROM unnest(%s::text[]) AS w WHERE numnode(plainto_tsquery(%s::regconfig, w)) = 0",
            [words, SEARCH_CONFIG],
        )
        return {row[0] for row in cursor.fetchall()}


def _search(qs: QuerySet[Product], q: str) -> QuerySet[Product]:
    words = [w for w in dict.fromkeys(_search_words(q)) if w]
    if not words:  # only punctuation or symbols: nothing to look for
        return qs.none().annotate(search_rank=Value(0.0, output_field=FloatField()))
    content = [w for w in words if w not in _stop_words(words)]
    if not content:
        return qs.annotate(search_rank=Value(0.0, output_field=FloatField()))
    document = (
        SearchVector("name", weight="A", config=SEARCH_CONFIG)
        + SearchVector("category__name", weight="A", config=SEARCH_CONFIG)
        + SearchVector(_ColourNamesText("colours"), weight="A", config=SEARCH_CONFIG)
        + SearchVector("colour", "pattern", weight="B", config=SEARCH_CONFIG)
        + SearchVector("brand", weight="B", config=SEARCH_CONFIG)
    )
    plain_text = Lower(
        Concat(
            "name",
            Value(" "),
            "category__name",
            Value(" "),
            _ColourNamesText("colours"),
            Value(" "),
            "colour",
            Value(" "),
            "pattern",
            Value(" "),
            "brand",
            output_field=TextField(),
        )
    )
    any_word = SearchQuery(content[0], config=SEARCH_CONFIG)
    for word in content[1:]:
        any_word |= SearchQuery(word, config=SEARCH_CONFIG)
    annotations = {"search_document": document, "search_text": plain_text}
    match = Q()
    similarity_sum = Value(0.0, output_field=FloatField())
    for i, word in enumerate(content):
        word_match = Q(search_document=SearchQuery(word, config=SEARCH_CONFIG))
        if len(word) >= SEARCH_TYPO_MIN_LENGTH:
            annotations[f"search_sim_{i}"] = TrigramWordSimilarity(Value(word), "search_text")
            word_match |= Q(**{f"search_sim_{i}__gte": SEARCH_TYPO_SIMILARITY})
            similarity_sum = similarity_sum + F(f"search_sim_{i}")
        match &= word_match
    return (
        qs.annotate(**annotations)
        .filter(match | Q(sku__iexact="".join(words)) | Q(sku__iexact=q.strip().replace("\x00", "")))
        .annotate(
            search_rank=ExpressionWrapper(
                Coalesce(SearchRank(F("search_document"), any_word), 0.0) + 0.1 * similarity_sum,
                output_field=FloatField(),
            )
        )
    )


def product_list(*, filters: ProductFilters = ProductFilters(), include_inactive: bool = False) -> QuerySet[Product]:
    qs = Product.objects.select_related("category")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if filters.q:
        qs = _search(qs, filters.q)
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
    return qs.filter(slug=slug).first() if slug is not None else qs.filter(pk=pk).first()


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
