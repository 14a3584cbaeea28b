"""The one door from the Django side to the models in ``recommender/ml``: every service, selector,
command and task that needs a model in service asks here.

Which weights are served is a setting (``RECOMMENDER_EMBEDDER_WEIGHTS``: name and
directory); the model version is the weights' sha256 from the manifest, read without
loading the model, so a web process can tell stale vectors from current ones cheaply.
"""

from __future__ import annotations

import numpy as np
from django.conf import settings
from PIL import Image

from core.errors import ApplicationError
from recommender.ml.weights import WeightsError, manifest_version


def _embedder_source() -> tuple[str, str | None]:
    source = settings.RECOMMENDER_EMBEDDER_WEIGHTS
    return source["name"], source.get("directory")


def current_model_version() -> str:
    """sha256 of the embedder weights in service (raises ``WeightsError`` if they are missing)."""
    name, directory = _embedder_source()
    return manifest_version(name, directory=directory)[0]


def look_weights():
    """The look-alike weights in service (tuned on the validation split; ``look_weights.json``)."""
    from recommender.ml.colour.look import load_weights

    return load_weights()


def current_look_version(model_version: str) -> str:
    """Identifies look vectors made by this embedder with the weights and colour features in service."""
    from recommender.ml.colour.look import look_version

    return look_version(model_version, look_weights())


def embedder():
    """The embedder for the configured weights, loaded once per process."""
    import torch

    from recommender.ml.embedding.inference import get_embedder

    name, directory = _embedder_source()
    torch.set_num_threads(settings.RECOMMENDER_TORCH_THREADS)
    return get_embedder(name=name, directory=directory)


def _complement_source() -> tuple[str, str | None]:
    source = settings.RECOMMENDER_COMPLEMENT_WEIGHTS
    return source["name"], source.get("directory")


def current_complement_version() -> str:
    """sha256 of the complement model in service. Raises ``WeightsError`` if it is missing, or if it was
    trained on another embedder's features than the one in service: such a model serves nothing (and
    no product waits for its vectors) until it is retrained."""
    name, directory = _complement_source()
    version, expected = manifest_version(name, directory=directory)
    embedder = current_model_version()
    if expected != embedder:
        raise WeightsError(
            f"The complement model {version[:12]} expects embedder {str(expected)[:12]}, "
            f"not {embedder[:12]}: retrain it (docs/models/complement.md)."
        )
    return version


def complement_model():
    """The complement model ("goes with") for the configured weights, loaded once per process."""
    import torch

    from recommender.ml.complement.inference import get_complement_model

    name, directory = _complement_source()
    torch.set_num_threads(settings.RECOMMENDER_TORCH_THREADS)
    return get_complement_model(name=name, directory=directory)


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


def product_garment_mask(image: Image.Image) -> np.ndarray:
    """The garment's pixels in a catalog product photo: a photo-sized bool array, all False when no
    foreground is found. Colours and complement features of catalog products read only these pixels.

    The method was chosen by measurement (docs/LOOKALIKES.md): the U-Net's foreground through
    rembg, blended with a background model read from the photo's own frame and refined by
    garment/background colour models (``recommender.ml.segmentation.product_mask``, ``blend``)."""
    from recommender.ml.segmentation.background import remove_background
    from recommender.ml.segmentation.product_mask import product_mask

    alpha = np.asarray(remove_background(image).getchannel("A"))
    return product_mask(image, alpha, method="blend")


def stylist_priors():
    """The stylist's priors in service: which categories and colours street outfits wear together
    (``weights/stylist-ccp.json``, or ``RECOMMENDER_STYLIST_PRIORS``)."""
    from recommender.ml.stylist.priors import load_priors

    return load_priors(settings.RECOMMENDER_STYLIST_PRIORS)
