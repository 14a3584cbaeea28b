"""The Django side's door to the models in ``recommender/ml``.

Which weights are served is a setting (``RECOMMENDER_EMBEDDER_WEIGHTS``: name and
directory); the model version is the weights' sha256 from the manifest, read without
loading the model, so a web process can tell stale vectors from current ones cheaply.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings

from recommender.ml.weights import read_manifest

_lock = threading.Lock()
_embedders: dict[tuple[str, str | None], Any] = {}


def _embedder_source() -> tuple[str, str | None]:
    source = settings.RECOMMENDER_EMBEDDER_WEIGHTS
    return source["name"], source.get("directory")


def current_model_version() -> str:
    """sha256 of the embedder weights in service (raises ``WeightsError`` if they are missing)."""
    name, directory = _embedder_source()
    return read_manifest(name, directory=directory)["sha256"]


def embedder():
    """The embedder for the configured weights, loaded once per process."""
    key = _embedder_source()
    if key not in _embedders:
        with _lock:
            if key not in _embedders:
                import torch

                from recommender.ml.embedding.inference import Embedder

                torch.set_num_threads(settings.RECOMMENDER_TORCH_THREADS)
                _embedders[key] = Embedder.load(name=key[0], directory=key[1])
    return _embedders[key]
