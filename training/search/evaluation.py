"""How well search finds what shoppers mean: hit@8 and precision@8 over a list of queries, each
with the categories and colours a person expects, on the current catalog, next to what a random
ranking of the catalog would score."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from math import comb
from pathlib import Path
from typing import Any

from core.colour.palette import FAMILY
from shop.models import Product

K = 8
#: A second or third colour counts for a query's colour when it covers this much of the garment.
COLOUR_SHARE = 0.25


@dataclass(frozen=True)
class ShopperQuery:
    query: str
    categories: frozenset[str]  # category slugs or names, lower case; empty = any
    colours: frozenset[str]  # colour families or palette names; empty = any


def read_queries(path: Path) -> list[ShopperQuery]:
    """Rows of a CSV with the columns query, categories, colours ('|'-separated, empty = any)."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"query", "categories", "colours"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path.name}: missing columns {', '.join(sorted(missing))}")
        return [
            ShopperQuery(
                query=row["query"].strip(),
                categories=frozenset(c.strip().lower() for c in (row["categories"] or "").split("|") if c.strip()),
                colours=frozenset(c.strip().lower() for c in (row["colours"] or "").split("|") if c.strip()),
            )
            for row in reader
            if (row["query"] or "").strip()
        ]


def is_relevant(product: Product, query: ShopperQuery) -> bool:
    category = product.category
    if query.categories and not {category.slug.lower(), category.name.lower()} & query.categories:
        return False
    if not query.colours:
        return True
    measured = {product.colour} if product.colour else set()
    for index, entry in enumerate(product.colours or []):
        name = str(entry.get("name", ""))
        if index == 0 or float(entry.get("share") or 0) >= COLOUR_SHARE:
            measured |= {name, FAMILY.get(name, "")}
    return bool(measured & query.colours)


def _random_scores(n: int, relevant: int) -> tuple[float, float]:
    """Expected hit@K and precision@K of a uniformly random ranking of ``n`` products."""
    if n == 0 or relevant == 0:
        return 0.0, 0.0
    k = min(K, n)
    hit = 1 - comb(n - relevant, k) / comb(n, k)
    return hit, (k * relevant / n) / min(K, relevant)


def evaluate(queries: Iterable[ShopperQuery], *, ranked: Callable[[str], list[Product]]) -> dict:
    """``ranked(query)`` is the search under test: its results in order."""
    catalog = list(Product.objects.filter(is_active=True).select_related("category"))
    rows: list[dict[str, Any]] = []
    for query in queries:
        relevant = {p.pk for p in catalog if is_relevant(p, query)}
        results = ranked(query.query)
        top = [p.pk for p in results[:K]]
        found = sum(pk in relevant for pk in top)
        random_hit, random_precision = _random_scores(len(catalog), len(relevant))
        rows.append(
            {
                "query": query.query,
                "relevant": len(relevant),
                "results": len(results),
                "hit": bool(found),
                "precision": found / min(K, len(relevant)) if relevant else 0.0,
                "random_hit": random_hit,
                "random_precision": random_precision,
            }
        )
    scored = [r for r in rows if r["relevant"]]

    def mean(key: str) -> float:
        return round(sum(float(r[key]) for r in scored) / len(scored), 3) if scored else 0.0

    return {
        "queries": len(scored),
        "hit_at_8": mean("hit"),
        "precision_at_8": mean("precision"),
        "zero_results": sum(r["results"] == 0 for r in scored),
        "random_hit_at_8": mean("random_hit"),
        "random_precision_at_8": mean("random_precision"),
        "catalog": len(catalog),
        "skipped_no_relevant_item": [r["query"] for r in rows if not r["relevant"]],
        "misses": [r["query"] for r in scored if not r["hit"]],
    }
