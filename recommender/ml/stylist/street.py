"""What each street photo wears, garment by garment: the catalog category, colour family and pattern.

Annotated CCP photos give every garment its own pixels, shoes and hats included, so each one's
colour and pattern are measured exactly as a catalog photo's are (:func:`measure_garment`).
Tagged photos only say which garments are present: they count for categories, not colours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import numpy as np

from core.images import open_image
from recommender.ml.colour.look import measure_garment
from recommender.ml.complement.outfits import CATALOG_SLOTS
from recommender.ml.datasets.ccp import CCPSample, read_fine_labels, read_label_names

#: CCP's fine labels in the shop's catalog categories (the slugs of ``shop.services.imports.KNOWN_CLASSES``).
CATEGORY_OF_FINE: dict[str, str] = {
    **dict.fromkeys(("t-shirt", "top", "bodysuit", "vest"), "t-shirt"),
    **dict.fromkeys(("shirt", "blouse"), "shirt"),
    **dict.fromkeys(("sweater", "jumper", "sweatshirt", "hoodie"), "longsleeve"),
    **dict.fromkeys(("coat", "jacket", "blazer", "cape", "cardigan", "suit"), "outwear"),
    **dict.fromkeys(("jeans", "pants", "leggings"), "pants"),
    "shorts": "shorts",
    "skirt": "skirt",
    **dict.fromkeys(("dress", "romper"), "dress"),
    **dict.fromkeys(
        ("boots", "clogs", "flats", "heels", "loafers", "pumps", "sandals", "shoes", "sneakers", "wedges"), "shoes"
    ),
    "hat": "hat",
}

#: The slot of each catalog category, as the shop files them (shoes and hats complete no look themselves).
SLOT_OF_CATEGORY: dict[str, str] = {**CATALOG_SLOTS, "shoes": "shoes", "hat": "accessory"}

#: A garment smaller than this share of the photo is a stray label, not something worn.
MIN_SHARE = {"shoes": 0.002, "hat": 0.002}
DEFAULT_MIN_SHARE = 0.01


@dataclass(frozen=True)
class StreetGarment:
    photo: str
    fine: str
    category: str
    #: Main colour family and the families with shares (empty: tagged photo, colour unknown).
    family: str = ""
    families: tuple[tuple[str, float], ...] = ()
    pattern: str = ""
    lab: tuple[float, float, float] | None = None

    @property
    def slot(self) -> str:
        return SLOT_OF_CATEGORY[self.category]


def annotated_garments(sample: CCPSample) -> list[StreetGarment]:
    """Every garment of one annotated photo, measured under its own pixels (one per catalog category:
    its fine labels' pixels together, named by the largest)."""
    names = read_label_names(sample.photo_path.parent.parent)
    labels = read_fine_labels(sample)
    image = open_image(sample.photo_path)
    if image.size != (labels.shape[1], labels.shape[0]):
        image = image.resize((labels.shape[1], labels.shape[0]))
    counts = np.bincount(labels.ravel(), minlength=len(names))
    by_category: dict[str, list[int]] = {}
    for index in np.nonzero(counts)[0]:
        category = CATEGORY_OF_FINE.get(names[index])
        if category is not None:
            by_category.setdefault(category, []).append(int(index))
    garments = []
    for category, indices in by_category.items():
        share = counts[indices].sum() / labels.size
        if share < MIN_SHARE.get(category, DEFAULT_MIN_SHARE):
            continue
        mask = np.isin(labels, indices)
        look = measure_garment(image, mask)
        fine = names[max(indices, key=lambda i: counts[i])]
        colours = tuple((c.family, round(float(c.share), 3)) for c in look.colours)
        lab = (
            cast(tuple[float, float, float], tuple(round(float(v), 1) for v in look.colours[0].lab))
            if look.colours
            else None
        )
        garments.append(
            StreetGarment(sample.id, fine, category, colours[0][0] if colours else "", colours, look.pattern or "", lab)
        )
    return garments


def tagged_garments(photo_id: str, tag_names: Iterable[str]) -> list[StreetGarment]:
    """The garments a tagged photo lists (categories only)."""
    found: dict[str, str] = {}
    for name in tag_names:
        category = CATEGORY_OF_FINE.get(name)
        if category is not None:
            found.setdefault(category, name)
    return [StreetGarment(photo_id, fine, category) for category, fine in found.items()]
