"""The garments of one outfit photo, in complement slots: top, bottom, dress, outerwear.

Annotated CCP photos are cut with their true fine labels (:func:`outfit_from_annotation`);
tagged CCP photos and, later, customer photos with the shipped segmenter's output
(:func:`outfit_from_segmentation`). Both cut through
:func:`recommender.ml.segmentation.inference.describe_labels`, so a garment's crop and mask
look the same whichever labels made them.

A coarse ``top`` becomes ``outerwear`` when its fine label is one of :data:`OUTERWEAR_LABELS`
(the majority fine label under the mask for annotated photos; from the tags otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image

from recommender.ml.datasets.ccp import COARSE_CLASSES, LabelMapping
from recommender.ml.segmentation.inference import Garment, Segmentation, describe_labels

#: Fine CCP labels worn over another top. ``vest`` and ``suit`` stay tops: in CCP a vest is
#: mostly a sleeveless top and a suit label covers the jacket and the shirt together.
OUTERWEAR_LABELS: frozenset[str] = frozenset({"blazer", "cape", "cardigan", "coat", "jacket"})

SLOTS: tuple[str, ...] = ("top", "bottom", "dress", "outerwear")


@dataclass(frozen=True)
class OutfitGarment:
    """One garment of an outfit photo; ``bbox`` is (x0, y0, x1, y1) in photo pixels, x1/y1 exclusive."""

    slot: str
    fine_label: str
    bbox: tuple[int, int, int, int]
    pixel_share: float
    confidence: float
    crop: Image.Image = field(repr=False)
    #: Crop-sized bool mask of the garment's own pixels.
    mask: np.ndarray | None = field(repr=False)


@dataclass(frozen=True)
class OutfitReading:
    """What one photo says about an outfit; ``dropped`` is a short reason when it is not usable."""

    garments: list[OutfitGarment]
    dropped: str | None = None

    def garment(self, slot: str) -> OutfitGarment | None:
        return next((g for g in self.garments if g.slot == slot), None)

    @property
    def usable(self) -> bool:
        return self.dropped is None


def slot_of(coarse: str, fine_label: str) -> str:
    """The complement slot of a garment of coarse class ``coarse`` with this fine label."""
    if coarse == "top" and fine_label in OUTERWEAR_LABELS:
        return "outerwear"
    return coarse


def _from_garment(garment: Garment, fine_label: str) -> OutfitGarment:
    return OutfitGarment(
        slot=slot_of(garment.kind, fine_label),
        fine_label=fine_label,
        bbox=garment.bbox,
        pixel_share=garment.pixel_share,
        confidence=garment.confidence,
        crop=garment.crop,
        mask=garment.mask,
    )


def _majority_fine_label(fine_map: np.ndarray, garment: Garment, mapping: LabelMapping) -> str:
    x0, y0, x1, y1 = garment.bbox
    under = fine_map[y0:y1, x0:x1][garment.mask]
    if under.size == 0:
        return ""
    counts = np.bincount(under, minlength=len(mapping.fine_names))
    return mapping.fine_name(int(counts.argmax()))


def outfit_from_annotation(image: Image.Image, fine_map: np.ndarray, mapping: LabelMapping) -> OutfitReading:
    """Garments of an annotated photo, cut with its true labels; each carries its majority fine label."""
    fine_map = np.asarray(fine_map)
    segmentation = describe_labels(image, mapping.coarse(fine_map), classes=COARSE_CLASSES)
    garments = [_from_garment(g, _majority_fine_label(fine_map, g, mapping)) for g in segmentation.garments]
    if not garments:
        return OutfitReading(garments=[], dropped="no garment in the annotation")
    return OutfitReading(garments=garments)


def _coarse_of_tag(tag: str) -> str | None:
    from recommender.ml.datasets.ccp import _DEFAULT_COARSE_BY_NAME

    return _DEFAULT_COARSE_BY_NAME.get(tag)


def _fine_guess(coarse: str, tags: Sequence[str]) -> str:
    """Best fine label for a garment of class ``coarse`` from the photo's tags ("" when none fits).

    When the tags name a jacket and a shirt, the visible top is taken to be the outer one: in
    the annotated photos it covers most of the top mask in such outfits."""
    candidates = [t for t in tags if _coarse_of_tag(t) == coarse]
    if not candidates:
        return ""
    if coarse == "top":
        outer = [t for t in candidates if t in OUTERWEAR_LABELS]
        if outer:
            return outer[0]
    return candidates[0]


def relabel_with_tags(labels: np.ndarray, tagged: set[str]) -> np.ndarray:
    """The segmenter's class map with garment classes the tags rule out given to the tagged ones.

    The U-Net's usual mistake on street photos is the class, not the outline: trousers read as
    a dress, a dress split into a top and a skirt. When the tags say there is no dress, dress
    pixels below the top's lower edge become the bottom and the rest the top; when they say
    dress and no bottom (or no top), those pixels become the dress."""
    top, bottom, dress = (COARSE_CLASSES.index(c) for c in ("top", "bottom", "dress"))
    out = labels.copy()
    if "dress" not in tagged and (out == dress).any():
        mask = out == dress
        if "top" in tagged and "bottom" in tagged:
            top_rows = np.nonzero((out == top).any(axis=1))[0]
            split = int(np.percentile(top_rows, 90)) if len(top_rows) else 0
            rows = np.arange(out.shape[0])[:, None]
            out[mask & (rows > split)] = bottom
            out[mask & (rows <= split)] = top
        elif "bottom" in tagged:
            out[mask] = bottom
        elif "top" in tagged:
            out[mask] = top
    if "dress" in tagged:
        for name, index in (("bottom", bottom), ("top", top)):
            if name not in tagged:
                out[out == index] = dress
    return out


def outfit_from_segmentation(
    image: Image.Image, segmentation: Segmentation, tags: Sequence[str] | None = None
) -> OutfitReading:
    """Garments found by the segmenter.

    With ``tags`` (the photo's fine label names), the class map is first reconciled with the
    tags (:func:`relabel_with_tags`); a photo whose garments still disagree with the tags (a
    tagged class not found, or a class found that no tag names) is dropped with the reason."""
    if tags is None:
        garments = [_from_garment(g, "") for g in segmentation.garments]
        if not garments:
            return OutfitReading(garments=[], dropped="no garment found")
        return OutfitReading(garments=garments)
    tags = [str(t) for t in tags]
    tagged = {c for c in (_coarse_of_tag(t) for t in tags) if c is not None}
    if not tagged:
        return OutfitReading(garments=[], dropped="tags name no top, bottom or dress")
    labels = relabel_with_tags(segmentation.label_map, tagged)
    if not np.array_equal(labels, segmentation.label_map):
        confidence = {g.kind: g.confidence for g in segmentation.garments}
        fallback = min(confidence.values(), default=0.5)
        found_garments = [
            replace(g, confidence=confidence.get(g.kind, fallback))
            for g in describe_labels(image, labels, classes=COARSE_CLASSES).garments
        ]
    else:
        found_garments = segmentation.garments
    found = {g.kind for g in found_garments}
    missing = [c for c in ("top", "bottom", "dress") if c in tagged and c not in found]
    if missing:
        return OutfitReading(garments=[], dropped=f"tags say {' and '.join(missing)}; none found")
    extra = [c for c in ("top", "bottom", "dress") if c in found and c not in tagged]
    if extra:
        return OutfitReading(garments=[], dropped=f"found {' and '.join(extra)}; no tag names it")
    return OutfitReading(garments=[_from_garment(g, _fine_guess(g.kind, tags)) for g in found_garments])


#: Classes of a folder-per-class catalog (``clothing-small``) and their complement slots;
#: classes not listed (hats, shoes) complete no look.
CATALOG_SLOTS: dict[str, str] = {
    "t-shirt": "top",
    "shirt": "top",
    "longsleeve": "top",
    "outwear": "outerwear",
    "pants": "bottom",
    "shorts": "bottom",
    "skirt": "bottom",
    "dress": "dress",
}


def catalog_garment(image: Image.Image, segmentation: Segmentation, slot: str) -> tuple[Image.Image, np.ndarray | None]:
    """The crop and mask that stand for a catalog product of ``slot``: the segmenter's garment of
    that class (a top for outerwear), else its largest garment, else the whole photo (mask None:
    colour is then read from the photo's non-white pixels)."""
    coarse = "top" if slot == "outerwear" else slot
    garments = sorted(segmentation.garments, key=lambda g: (g.kind != coarse, -g.pixel_share))
    if garments:
        return garments[0].crop, garments[0].mask
    return image.convert("RGB"), None
