"""Size labels: how they are written and the order shoppers expect them in.

Clothes use letters (XS … XXL), shoes EU numbers (36–46, halves allowed), hats and
accessories "One size". Labels sort by ``size_rank`` (One size, then letters small to
large, then numbers), never alphabetically. Pure functions: no database here.
"""

from __future__ import annotations

import re

ONE_SIZE = "One size"
LETTER_SIZES = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL")
_LETTER_ALIASES = {"2XS": "XXS", "2XL": "XXL", "3XL": "XXXL"}
_ONE_SIZE_ALIASES = {"one size", "onesize", "one-size", "os", "o/s"}
_NUMBER = re.compile(r"^\d{1,3}(?:[.,]5)?$")
MAX_LABEL = 20


def size_normalise(label: str) -> str:
    """The label as the shop writes it: ``m`` → ``M``, ``one size`` → ``One size``, ``38,5`` → ``38.5``.

    Raises ``ValueError`` for an empty or overlong label."""
    text = " ".join((label or "").split())
    if not text:
        raise ValueError("A size cannot be empty.")
    if len(text) > MAX_LABEL:
        raise ValueError(f"A size is at most {MAX_LABEL} characters.")
    if text.lower() in _ONE_SIZE_ALIASES:
        return ONE_SIZE
    upper = text.upper()
    if upper in LETTER_SIZES or upper in _LETTER_ALIASES:
        return _LETTER_ALIASES.get(upper, upper)
    if _NUMBER.match(text):
        return text.replace(",", ".")
    return text


def size_rank(label: str) -> int:
    """Sort key of a normalised label: One size, then XXS … XXXL, then numbers, then anything else."""
    if label == ONE_SIZE:
        return 0
    if label in LETTER_SIZES:
        return 100 + 10 * LETTER_SIZES.index(label)
    if _NUMBER.match(label):
        return 1000 + round(float(label.replace(",", ".")) * 10)
    return 9000


def variant_sku_for(product_sku: str, size: str) -> str:
    """The SKU a size gets when none is given: the product's own for "One size", else ``{sku}-{size}``."""
    if size == ONE_SIZE:
        return product_sku
    compact = re.sub(r"\s+", "", size).upper()
    return f"{product_sku}-{compact}"
