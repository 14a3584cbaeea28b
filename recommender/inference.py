"""The one door from the Django side to ``recommender/ml``: every service, selector, view, admin,
command and task of the recommender that needs a model in service, or a helper of ``ml/``, asks here
(``tests/test_architecture.py`` holds the rule: outside ``recommender/ml`` and ``training/``, only this
module imports ``recommender.ml``).

Two kinds of names:

* the models in service — the embedder, the segmenter, the complement model, the stylist's priors,
  the catalog garment masks — loaded once per process, and their versions;
* pure helpers that need no weights, re-exported as they are: colour science (CIELAB, CIEDE2000,
  look vectors, pattern features), image decoding, the stylist's scoring, label maps, the weights'
  manifest and errors. The heavy ones (complement features, the street outfit readers) are imported
  when first called.

Which weights are served is a setting (``RECOMMENDER_EMBEDDER_WEIGHTS``: name and
directory); the model version is the weights' sha256 from the manifest, read without
loading the model, so a web process can tell stale vectors from current ones cheaply.
"""

from __future__ import annotations

import numpy as np
from django.conf import settings
from PIL import Image

from core.errors import ApplicationError
from core.images import ImageError, open_image
from recommender.ml.colour.lab import colour_statistics, delta_e_2000
from recommender.ml.colour.look import (
    LOOK_DIM,
    WEIGHTS_PATH,
    GarmentLook,
    look_vector,
    measure_garment,
    named_colour_features,
)
from recommender.ml.colour.palette import FAMILY, name_lab
from recommender.ml.colour.pattern import pattern_features
from recommender.ml.datasets.ccp import DatasetError, list_samples
from recommender.ml.segmentation.background import active_background_model
from recommender.ml.segmentation.box import box_garment
from recommender.ml.segmentation.inference import CLASS_COLOURS, overlay
from recommender.ml.segmentation.product_mask import mask_png, read_mask_png
from recommender.ml.stylist.looks import (
    LOOK_SLOTS,
    PIECE_SLOTS,
    Garb,
    Scored,
    layer_preference,
    layer_term,
    model_terms,
    pick_varied,
    piece_score,
    split_counts,
)
from recommender.ml.stylist.priors import LAYER_TYPE_OF_FINE, StylistPriors
from recommender.ml.stylist.street import CATEGORY_OF_FINE
from recommender.ml.weights import WeightsError, manifest_version, read_manifest

__all__ = [
    "CATEGORY_OF_FINE",
    "CLASS_COLOURS",
    "LAYER_TYPE_OF_FINE",
    "LOOK_DIM",
    "LOOK_SLOTS",
    "PIECE_SLOTS",
    "WEIGHTS_PATH",
    "FAMILY",
    "DatasetError",
    "Garb",
    "GarmentLook",
    "ImageError",
    "Scored",
    "StylistPriors",
    "WeightsError",
    "active_background_model",
    "annotated_outfits",
    "box_garment",
    "colour_statistics",
    "complement_features",
    "complement_model",
    "current_complement_version",
    "current_look_version",
    "current_model_version",
    "delta_e_2000",
    "embedder",
    "layer_preference",
    "layer_term",
    "list_samples",
    "look_vector",
    "look_weights",
    "mask_png",
    "measure_garment",
    "model_terms",
    "name_lab",
    "named_colour_features",
    "open_image",
    "overlay",
    "pattern_features",
    "pick_varied",
    "piece_score",
    "product_garment_mask",
    "read_manifest",
    "read_mask_png",
    "segmenter",
    "split_counts",
    "stylist_priors",
    "tagged_outfits",
]


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


def complement_features(*args, **kwargs):
    """The complement model's input features of garment crops (``recommender.ml.complement.features``)."""
    from recommender.ml.complement.features import complement_features as features

    return features(*args, **kwargs)


def annotated_outfits(*args, **kwargs):
    """The annotated street outfits of the CCP dataset (``recommender.ml.complement.data``)."""
    from recommender.ml.complement.data import annotated_outfits as outfits

    return outfits(*args, **kwargs)


def tagged_outfits(*args, **kwargs):
    """Street outfits tagged by the segmenter (``recommender.ml.complement.data``)."""
    from recommender.ml.complement.data import tagged_outfits as outfits

    return outfits(*args, **kwargs)
