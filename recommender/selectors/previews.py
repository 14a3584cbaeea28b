"""A segmentation preview of a photo for curators to look at; nothing is stored."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from PIL import Image

from recommender.inference import overlay, segmenter

PREVIEW_SIDE = 900


@dataclass(frozen=True)
class GarmentView:
    kind: str
    pixel_share: float
    confidence: float
    bbox: tuple[int, int, int, int]
    crop_data_uri: str


@dataclass(frozen=True)
class SegmentationPreview:
    overlay_data_uri: str
    garments: list[GarmentView]
    model_version: str


def _data_uri(image: Image.Image, *, side: int, fmt: str = "JPEG") -> str:
    image = image.copy()
    image.thumbnail((side, side))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, quality=85)
    mime = "image/png" if fmt == "PNG" else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode()}"


def segmentation_preview(*, image: Image.Image) -> SegmentationPreview:
    """Garments found in ``image`` with an overlay picture; nothing is stored."""
    model = segmenter()
    result = model.segment([image])[0]
    garments = [
        GarmentView(
            kind=g.kind,
            pixel_share=round(g.pixel_share, 3),
            confidence=round(g.confidence, 3),
            bbox=g.bbox,
            crop_data_uri=_data_uri(g.crop, side=240),
        )
        for g in result.garments
    ]
    return SegmentationPreview(
        overlay_data_uri=_data_uri(overlay(image, result), side=PREVIEW_SIDE),
        garments=garments,
        model_version=getattr(model, "version", ""),
    )
