"""What a product photo shows: its garment mask, colours and pattern, measured for the shop.

The recommender owns the analysis of product photos. Indexing
(:func:`recommender.services.indexing.products_embed`) measures each new photo once, with the mask
it also needs for the vectors, and hands the shop plain values
(``shop.services.catalog.product_photo_analysed``). :func:`photo_analyse` is registered in
``shop.photo_analysis`` (``RecommenderConfig.ready``) for what the shop needs at once: naming
imported demo products from their colours, and ``process_now``.

Colours are read from the garment's own pixels, through its foreground mask
(``recommender.inference.product_garment_mask``), in CIELAB, and named from the palette
(``core.colour.palette``: "navy", "sand", "burgundy", each in one of the shop's filter families).
A photo without foreground (blank, or all background) gets no colour: it is "unknown", with the
reason, never a guess.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from recommender import inference
from recommender.inference import GarmentLook, mask_png, measure_garment
from shop.photo_analysis import PhotoAnalysis

NO_FOREGROUND = "No garment was found in the photo (blank, or all background): the colour is unknown."


def look_analysis(look: GarmentLook, *, mask: bytes = b"") -> PhotoAnalysis:
    """The shop's view of a measured garment: named colours (main first), pattern, and why not when unknown."""
    if not look.colours:
        return PhotoAnalysis(note=NO_FOREGROUND, mask_png=mask)
    return PhotoAnalysis(colours=[c.as_dict() for c in look.colours], pattern=look.pattern or "", mask_png=mask)


def measure_colours(image: Image.Image, mask: np.ndarray) -> PhotoAnalysis:
    """One to three named colours with shares and the pattern, from the mask's pixels only."""
    return look_analysis(measure_garment(image, mask))


def photo_analyse(image: Image.Image) -> PhotoAnalysis:
    """Segment the product photo and measure its garment (mask included, as PNG)."""
    mask = inference.product_garment_mask(image)
    return look_analysis(measure_garment(image, mask), mask=mask_png(mask))
