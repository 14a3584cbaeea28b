"""Product-photo analysis: thumbnail, garment colours and pattern (no ORM).

Colours are read from the garment's own pixels, through its foreground mask
(``recommender.inference.product_garment_mask``), in CIELAB, and named from the palette in
``recommender/ml/colour/palette.py`` ("navy", "sand", "burgundy"; each belongs to one of the
shop's filter families). A photo without foreground (blank, or all background) gets no colour:
it is "unknown", with the reason, never a guess.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from recommender.ml.colour.look import measure_garment
from recommender.ml.segmentation.product_mask import mask_png

THUMBNAIL_SIZE = (480, 640)
NO_FOREGROUND = "No garment was found in the photo (blank, or all background): the colour is unknown."


@dataclass(frozen=True)
class ColourAnalysis:
    colours: list[dict] = field(default_factory=list)  # main first: name, family, share, lab, hex
    pattern: str = ""
    note: str = ""

    @property
    def family(self) -> str:
        return self.colours[0]["family"] if self.colours else ""

    @property
    def dominant_hex(self) -> str:
        return self.colours[0]["hex"] if self.colours else ""

    @property
    def main_name(self) -> str:
        return self.colours[0]["name"] if self.colours else ""


@dataclass(frozen=True)
class ImageAnalysis:
    thumbnail_jpeg: bytes
    mask_png: bytes
    colour: ColourAnalysis


def measure_colours(image: Image.Image, mask: np.ndarray) -> ColourAnalysis:
    """One to three named colours with shares and the pattern, from the mask's pixels only."""
    look = measure_garment(image, mask)
    if not look.colours:
        return ColourAnalysis(note=NO_FOREGROUND)
    return ColourAnalysis(colours=[c.as_dict() for c in look.colours], pattern=look.pattern or "")


def analyse_product_image(image: Image.Image, mask: np.ndarray) -> ImageAnalysis:
    thumb = image.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    buffer = io.BytesIO()
    thumb.convert("RGB").save(buffer, format="JPEG", quality=85, optimize=True)
    return ImageAnalysis(thumbnail_jpeg=buffer.getvalue(), mask_png=mask_png(mask), colour=measure_colours(image, mask))
