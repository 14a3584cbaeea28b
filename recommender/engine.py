"""The Django side's door to the models in ``recommender/ml``.

Which weights are served is a setting (``RECOMMENDER_EMBEDDER_WEIGHTS``: name and
directory); the model version is the weights' sha256 from the manifest, read without
loading the model, so a web process can tell stale vectors from current ones cheaply.
"""

from __future__ import annotations

from django.conf import settings

from recommender.ml.weights import read_manifest


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
