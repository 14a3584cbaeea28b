"""Product-photo analysis: thumbnail and measured dominant colour (pure Pillow, no ORM)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from shop.models import Colour

THUMBNAIL_SIZE = (480, 640)

# Reference points for naming a measured colour (sRGB). Nearest wins, in a space that
# weights hue differences more than brightness, which is what a shopper means by a colour.
_NAMED_COLOURS: dict[str, tuple[int, int, int]] = {
    Colour.BLACK: (25, 25, 25),
    Colour.WHITE: (240, 240, 240),
    Colour.GREY: (128, 128, 128),
    Colour.BEIGE: (215, 195, 160),
    Colour.BROWN: (110, 70, 40),
    Colour.RED: (190, 30, 40),
    Colour.PINK: (235, 140, 170),
    Colour.ORANGE: (235, 130, 40),
    Colour.YELLOW: (235, 210, 60),
    Colour.GREEN: (60, 130, 60),
    Colour.BLUE: (60, 110, 200),
    Colour.NAVY: (30, 40, 80),
    Colour.PURPLE: (110, 60, 140),
}


@dataclass(frozen=True)
class ImageAnalysis:
    thumbnail_jpeg: bytes
    dominant_hex: str
    colour: str


def dominant_rgb(image: Image.Image) -> tuple[int, int, int]:
    """The most common colour of the photo's centre, where the garment is.

    Product photos here are a garment on a floor, bed or wall: the central region
    is mostly garment, the border mostly background. We quantise the centre to a
    few colours and take the most populous one.
    """
    width, height = image.size
    box = (int(width * 0.25), int(height * 0.2), int(width * 0.75), int(height * 0.8))
    centre = image.crop(box).convert("RGB")
    centre.thumbnail((96, 96))
    quantised = centre.quantize(colors=5, method=Image.Quantize.MEDIANCUT)
    palette = quantised.getpalette() or []
    counts = sorted(quantised.getcolors() or [], reverse=True)
    if not counts:
        return (128, 128, 128)
    index = counts[0][1]
    return tuple(palette[index * 3 : index * 3 + 3])  # type: ignore[return-value]


def colour_name(rgb: tuple[int, int, int]) -> str:
    r, g, b = rgb

    def distance(ref: tuple[int, int, int]) -> float:
        rr, gg, bb = ref
        mean_r = (r + rr) / 2
        # "Redmean" approximation of perceptual distance.
        return (2 + mean_r / 256) * (r - rr) ** 2 + 4 * (g - gg) ** 2 + (2 + (255 - mean_r) / 256) * (b - bb) ** 2

    return min(_NAMED_COLOURS, key=lambda name: distance(_NAMED_COLOURS[name]))


def analyse_product_image(image: Image.Image) -> ImageAnalysis:
    rgb = dominant_rgb(image)
    thumb = image.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    buffer = io.BytesIO()
    thumb.save(buffer, format="JPEG", quality=85, optimize=True)
    return ImageAnalysis(
        thumbnail_jpeg=buffer.getvalue(),
        dominant_hex="#{:02x}{:02x}{:02x}".format(*rgb),
        colour=str(colour_name(rgb)),
    )
