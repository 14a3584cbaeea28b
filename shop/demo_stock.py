"""How far the demo shop's stocking has come, for the home page while ``make run`` stocks it.

``manage.py stock_demo`` (run in the background by ``make run``) reports each step here; the
home page reads it and says "N of M products" until the stocking is done. The progress lives
in the cache with a timeout, so a stocking process that was stopped stops being announced.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

CACHE_KEY = "shop:demo-stock"
#: A report older than this is no longer shown (the stocking process reports every few seconds).
STALE_SECONDS = 300


@dataclass(frozen=True)
class DemoStock:
    STAGES = ("products", "outfits", "indexing")

    stage: str  # one of STAGES
    stocked: int  # demo products in the shop
    indexed: int  # of those, analysed for recommendations
    total: int  # demo products once stocked


def demo_stock_report(*, stage: str, stocked: int, indexed: int, total: int) -> None:
    if stage not in DemoStock.STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    cache.set(
        CACHE_KEY,
        {"stage": stage, "stocked": stocked, "indexed": indexed, "total": total},
        timeout=STALE_SECONDS,
    )


def demo_stock_finish() -> None:
    cache.delete(CACHE_KEY)


def demo_stock_progress() -> DemoStock | None:
    """The stocking under way, or None when none is (done, never started, or stopped reporting)."""
    state = cache.get(CACHE_KEY)
    if not isinstance(state, dict):
        return None
    try:
        return DemoStock(
            stage=str(state["stage"]),
            stocked=int(state["stocked"]),
            indexed=int(state["indexed"]),
            total=int(state["total"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
