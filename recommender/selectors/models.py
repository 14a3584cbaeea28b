"""What is in service: each model's name, version and measured metrics, for the curators' models page."""

from __future__ import annotations

from django.conf import settings

from recommender.inference import WEIGHTS_PATH, WeightsError, active_background_model, look_weights, read_manifest


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
    cards.append(look_card())
    return cards


def look_card() -> dict:
    """The look-alike ranking: its weights (tuned on the validation split) and what they measured."""
    import json

    weights = look_weights()
    shown: dict[str, float] = {f"weight {part}": value for part, value in vars(weights).items()}
    try:
        data = json.loads(WEIGHTS_PATH.read_text())
    except (OSError, ValueError):
        data = {}
    look, baseline = data.get("look", {}), data.get("baseline_embedding", {})
    for protocol in ("catalog", "street"):
        for metric, label in (("colour_agreement", "colour agreement"), ("precision_at_k", "P@10")):
            if f"{protocol}_{metric}" in look:
                shown[f"val {protocol} {label}"] = look[f"{protocol}_{metric}"]
            if metric in baseline.get(protocol, {}):
                shown[f"val {protocol} {label} (embedding only)"] = baseline[protocol][metric]
    return {
        "role": "Look-alikes (shape + colour + pattern)",
        "name": WEIGHTS_PATH.name,
        "version": weights.digest()[:12],
        "metrics": {key: f"{value:.3f}" for key, value in shown.items() if isinstance(value, int | float)},
    }


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
    try:
        return active_background_model()
    except Exception as exc:  # noqa: BLE001 - shown to curators as-is, never fatal for the page
        return {"name": "none", "source": f"unavailable: {exc}", "path": ""}
