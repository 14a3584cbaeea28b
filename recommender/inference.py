"""The one door from the Django side to the models in ``recommender/ml``: every service, selector,
command and task that needs a model in service asks here.

Which weights are served is a setting (``RECOMMENDER_EMBEDDER_WEIGHTS``: name and
directory); the model version is the weights' sha256 from the manifest, read without
loading the model, so a web process can tell stale vectors from current ones cheaply.
"""

from __future__ import annotations

from django.conf import settings

from recommender.ml.weights import WeightsError, read_manifest
from shop.errors import ApplicationError


def _embedder_source() -> tuple[str, str | None]:
    source = settings.RECOMMENDER_EMBEDDER_WEIGHTS
    return source["name"], source.get("directory")


def current_model_version() -> str:
    """sha256 of the embedder weights in service (raises ``WeightsError`` if they are missing)."""
    name, directory = _embedder_source()
    return read_manifest(name, directory=directory)["sha256"]


def embedder():
    """The embedder for the configured weights, loaded once per process."""
    import torch

    from recommender.ml.embedding.inference import get_embedder

    name, directory = _embedder_source()
    torch.set_num_threads(settings.RECOMMENDER_TORCH_THREADS)
    return get_embedder(name=name, directory=directory)


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


def complement_model():
    """The complete-the-look model in service, loaded once per process, or a clear error.

    Which weights: ``settings.RECOMMENDER_COMPLEMENT_WEIGHTS`` (``{"name", "directory"}``) when set,
    else the shipped ``complement-ccp``."""
    import torch

    from recommender.ml.complement import WEIGHTS_NAME
    from recommender.ml.complement.inference import get_complement_model

    source = getattr(settings, "RECOMMENDER_COMPLEMENT_WEIGHTS", None) or {"name": WEIGHTS_NAME}
    torch.set_num_threads(settings.RECOMMENDER_TORCH_THREADS)
    try:
        return get_complement_model(name=source.get("name", WEIGHTS_NAME), directory=source.get("directory"))
    except WeightsError as exc:
        raise ApplicationError(f"The complement model is unavailable: {exc}", code="model_unavailable") from exc
