"""The analysis of a product photo (garment mask, colours, pattern), as the shop receives it.

The shop stores and shows what another app measures; it does not measure. An app that can analyse
photos registers a function in its ``AppConfig.ready`` (the recommender does); :func:`analyse` is
what the shop calls when it needs the analysis at once (imports naming demo products from their
colours, ``process_now``). With nothing registered a photo is simply not analysed: products are
named without a colour and keep the colours they have.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image


@dataclass(frozen=True)
class PhotoAnalysis:
    """Plain values: colours main first (``name``, ``family``, ``share``, ``lab``, ``hex``), the pattern,
    why the colour is unknown when it is, and the garment mask as PNG bytes (empty when not made)."""

    colours: list[dict] = field(default_factory=list)
    pattern: str = ""
    note: str = ""
    mask_png: bytes = b""

    @property
    def family(self) -> str:
        return self.colours[0]["family"] if self.colours else ""

    @property
    def dominant_hex(self) -> str:
        return self.colours[0]["hex"] if self.colours else ""

    @property
    def main_name(self) -> str:
        return self.colours[0]["name"] if self.colours else ""


Analyser = Callable[[Image.Image], PhotoAnalysis]
_analysers: list[Analyser] = []


def register(analyser: Analyser) -> None:
    """Make ``analyser`` the one that analyses product photos (registering it twice is harmless)."""
    _analysers[:] = [analyser]


def is_registered() -> bool:
    """Whether product photos are analysed at all (by some installed app)."""
    return bool(_analysers)


def analyse(image: Image.Image) -> PhotoAnalysis | None:
    """The photo's analysis, or ``None`` when no app analyses photos."""
    return _analysers[0](image) if _analysers else None
