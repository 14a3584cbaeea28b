"""Django-side use of the vision models: segment an uploaded photo for people to look at."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from django.conf import settings
from PIL import Image

from recommender.ml.weights import WeightsError, read_manifest
from shop.errors import ApplicationError

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


def segmenter(device: str | None = None):
    """The process-wide U-Net (loaded once), configured as it serves, or a clear error.

    Evaluation uses this same function, so the measured numbers are those of the served
    configuration (test-time flip included when ``RECOMMENDER_SEGMENTATION_TTA`` is on)."""
    import torch

    from recommender.ml.segmentation.inference import get_segmenter

    torch.set_num_threads(settings.RECOMMENDER_TORCH_THREADS)
    try:
        return get_segmenter(device=device, tta_flip=settings.RECOMMENDER_SEGMENTATION_TTA)
    except WeightsError as exc:
        raise ApplicationError(f"The segmentation model is unavailable: {exc}", code="model_unavailable") from exc


def segmentation_preview(*, image: Image.Image) -> SegmentationPreview:
    """Garments found in ``image`` with an overlay picture; nothing is stored."""
    from recommender.ml.segmentation.inference import overlay

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


def model_cards() -> list[dict]:
    """What is in service: name, version and measured metrics from each manifest."""
    cards = []
    for name, role in (
        ("unet-ccp", "Segmentation (U-Net)"),
        (settings.RECOMMENDER_EMBEDDER_WEIGHTS["name"], "Garment vectors (ResNet34)"),
    ):
        directory = settings.RECOMMENDER_EMBEDDER_WEIGHTS.get("directory") if role.startswith("Garment") else None
        try:
            meta = read_manifest(name, directory=directory)
        except WeightsError as exc:
            cards.append({"role": role, "name": name, "error": str(exc)})
            continue
        cards.append(
            {
                "role": role,
                "name": name,
                "version": meta.get("sha256", "")[:12],
                "metrics": _headline_metrics(meta),
                "bytes": meta.get("bytes"),
            }
        )
    return cards


def _headline_metrics(meta: dict) -> dict[str, str]:
    """Validation figures worth showing a curator, rounded; training losses are left out."""
    if "val_metrics" in meta:  # segmentation: IoU per class on the fixed validation split, as served
        served_with_flip = settings.RECOMMENDER_SEGMENTATION_TTA and "val_metrics_tta_flip" in meta
        val = meta["val_metrics_tta_flip"] if served_with_flip else meta["val_metrics"]
        shown = {"val mIoU": val.get("miou")} | {f"val IoU {k}": v for k, v in val.get("iou", {}).items()}
    else:
        metrics = meta.get("served_metrics") or meta.get("metrics", {})  # as served (e.g. with test-time flip)
        keys = ("catalog_top1", "catalog_p10", "street_top1", "street_p10")
        shown = {f"val {key.replace('_', ' ')}": metrics.get(key) for key in keys if key in metrics}
    return {key: f"{value:.3f}" for key, value in shown.items() if isinstance(value, int | float)}


def background_model() -> dict[str, str]:
    from recommender.ml.segmentation.background import active_background_model

    try:
        return active_background_model()
    except Exception as exc:  # noqa: BLE001 - shown to curators as-is, never fatal for the page
        return {"name": "none", "source": f"unavailable: {exc}", "path": ""}
