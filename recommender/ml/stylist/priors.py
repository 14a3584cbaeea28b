"""The stylist's priors, as served: how often street outfits wear one garment with another.

Fitted by :mod:`training.stylist.fit` on the training photos of our street outfits and
shipped as ``weights/stylist-ccp.json`` (tables of smoothed conditional probabilities, with
their sha256 as the version). Each table answers one question a stylist asks:

* ``categories`` — with a T-shirt, which bottoms: trousers, shorts or a skirt?
  ``P(category of the piece | category of the product)`` per slot of the look.
* ``colours`` — with a red top, which bottoms' colour families?
  ``P(family of the piece | family of the product)`` per pair of slots. A bright top mostly
  meets neutrals or a contrasting colour, and the table says so because the street does.
* ``patterns`` — a print with a print is rare in the street: ``P(pattern | pattern)``.
* ``layers`` — which layer goes over a dress: a cardigan, a jacket, a blazer or a coat
  (``P(layer type | dress)``), so a light dress is not offered parkas first.

Scores are natural logs, so that signals add; :data:`FLOOR` bounds a pairing never seen.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

PRIORS_PATH = Path(__file__).resolve().parent.parent / "weights" / "stylist-ccp.json"

#: The log score of a pairing the tables have no row for: neither helped nor hurt.
NEUTRAL = 0.0
#: The lowest probability a table entry is read as (a pairing never seen in the street).
FLOOR = 1e-3

#: Fine street labels of layers worn over a dress (the ``layers`` table's columns).
LAYER_TYPES: tuple[str, ...] = ("cardigan", "jacket", "blazer", "coat")
#: A street layer's fine label as one of :data:`LAYER_TYPES`.
LAYER_TYPE_OF_FINE: dict[str, str] = {
    "cardigan": "cardigan",
    "jacket": "jacket",
    "blazer": "blazer",
    "suit": "blazer",
    "coat": "coat",
    "cape": "coat",
}


class PriorsError(RuntimeError):
    """The priors file is missing or does not match its recorded hash."""


def _digest(tables: dict) -> str:
    return hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, eq=False)
class StylistPriors:
    """The fitted tables and what made them."""

    tables: dict
    meta: dict = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.meta.get("sha256", "")

    @staticmethod
    def _log(table: dict, given: str, value: str) -> float:
        row = table.get(given)
        if not row or not value:
            return NEUTRAL
        return math.log(max(float(row.get(value, 0.0)), FLOOR))

    def category_score(self, product_category: str, piece_slot: str, piece_category: str) -> float:
        """log P(the piece's category | the product's category) among the pieces of its slot."""
        return self._log(self.tables["categories"].get(piece_slot, {}), product_category, piece_category)

    def slot_share(self, product_category: str, product_slot: str, piece_slot: str) -> float:
        """log of the share of street outfits with a garment of the product's category (else slot) that
        also wear a garment of ``piece_slot``: shorts are seldom worn under a coat."""
        slots = self.tables["slots"]
        row = slots.get(product_category) or slots.get(product_slot, {})
        return math.log(max(float(row.get(piece_slot, 0.0)), FLOOR))

    def colour_score(self, product_slot: str, product_family: str, piece_slot: str, piece_family: str) -> float:
        """log P(the piece's colour family | the product's), for this pair of slots."""
        table = self.tables["colours"].get(f"{product_slot}>{piece_slot}", {})
        return self._log(table, product_family, piece_family)

    def colour_base(self, product_slot: str, piece_slot: str, piece_family: str) -> float:
        """log P(the piece's colour family) for this pair of slots, whatever the product's colour."""
        table = self.tables["colours"].get(f"{product_slot}>{piece_slot}", {})
        return self._log(table, "*", piece_family)

    def pattern_score(self, product_pattern: str, piece_pattern: str) -> float:
        """log P(the piece's pattern | the product's pattern), tops and bottoms together."""
        return self._log(self.tables["patterns"], product_pattern, piece_pattern)

    def layer_types(self, product_category: str) -> dict[str, float]:
        """P(layer type | product category): which layers street outfits wear over it."""
        return dict(self.tables["layers"].get(product_category, {}))

    def support(self, product_slot: str, piece_slot: str, product_family: str) -> int:
        """How many street outfits the colour row of this product's family was learned from."""
        return int(self.tables["colour_counts"].get(f"{product_slot}>{piece_slot}", {}).get(product_family, 0))


def priors_from_file(path: str | os.PathLike) -> StylistPriors:
    """Read a priors file, checking its hash."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PriorsError(f"Cannot read stylist priors {path}: {exc}") from exc
    tables, meta = data.get("tables"), data.get("meta", {})
    if not isinstance(tables, dict) or meta.get("sha256") != _digest(tables):
        raise PriorsError(f"Stylist priors {path} do not match their recorded sha256.")
    return StylistPriors(tables, meta)


@functools.cache
def load_priors(path: str | None = None) -> StylistPriors:
    """The priors in service (loaded once per process)."""
    return priors_from_file(path or PRIORS_PATH)


def priors_write(path: str | os.PathLike, tables: dict, meta: dict) -> dict:
    """Write ``tables`` with their hash and ``meta``; returns the manifest part."""
    meta = {**meta, "sha256": _digest(tables)}
    Path(path).write_text(json.dumps({"meta": meta, "tables": tables}, indent=1, sort_keys=True) + "\n")
    return meta
