"""Rankings as the selectors compute them, and what a vector write changes in them.

A ranking is product ids nearest first with their distances (:class:`RankedList`); when products'
vectors are written after it was computed (:class:`Written`), they are merged into it rather than
searching again. The selectors that rank (``complements``, ``similar``) build and merge these; the
cache that keeps them (:mod:`recommender.selectors.freshness`) tells them what was written since.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class RankedList:
    """Product ids, nearest first, with their distances: every vector nearer than ``bound`` is in it
    (``inf``: the search returned every match). What a cached ranking keeps so that products written
    since can be merged into it."""

    ids: tuple[int, ...] = ()
    distances: tuple[float, ...] = ()
    bound: float = math.inf

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, float]], *, limit: int) -> RankedList:
        """From a search's ``(product id, distance)`` rows, nearest first, asked for ``limit`` rows."""
        rows = list(rows)
        ids = tuple(int(pk) for pk, _ in rows)
        distances = tuple(float(d) for _, d in rows)
        return cls(ids, distances, distances[-1] if len(rows) >= limit else math.inf)

    def merged(self, changed: Iterable[int], fresh: Iterable[tuple[int, float]], *, limit: int) -> RankedList:
        """This list after the ``changed`` products were written: they leave it, and those of ``fresh``
        (their current rows that match the search, with their distances) come back in where they rank.
        A row beyond ``bound`` stays out: what lies between the cut and it was never read."""
        changed = set(changed)
        rows = [(pk, d) for pk, d in zip(self.ids, self.distances, strict=True) if pk not in changed]
        rows += [(int(pk), float(d)) for pk, d in fresh if d <= self.bound]
        rows.sort(key=lambda row: row[1])
        bound = self.bound
        if len(rows) > limit:
            rows, bound = rows[:limit], rows[limit - 1][1]
        return RankedList(tuple(pk for pk, _ in rows), tuple(d for _, d in rows), bound)


@dataclass(frozen=True)
class Written:
    """The products whose vectors were written since a ranking was computed, and their slots (before
    and after the write)."""

    slots: dict[int, frozenset[str]]

    def __contains__(self, product_id: int) -> bool:
        return product_id in self.slots

    def __bool__(self) -> bool:
        return bool(self.slots)

    def of_slots(self, slots) -> frozenset[int]:
        """The written products that are, or were, of one of ``slots``: the only ones a ranking of
        those slots can gain or lose."""
        slots = set(slots)
        return frozenset(pk for pk, written in self.slots.items() if written & slots)
