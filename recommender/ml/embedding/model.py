"""The garment embedding network, its builder and its loader.

Three layers, so each can be used (and tested) alone:

* :class:`GarmentEmbedder` — ResNet34 trunk → global average pool → 512-d → L2 norm.
  A cosine classification head sits beside it for training only; ``forward``
  never uses it, so the served vector is exactly the pooled, normalised feature.
* :func:`build_embedder` — a fresh module from an :class:`EmbedderConfig`, starting
  from ImageNet weights when they are already in the torch hub cache (never downloaded).
* :func:`load_embedder` — the module rebuilt from a shipped manifest with its
  hash-checked weights attached.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import ResNet, ResNet34_Weights, resnet34

from recommender.ml.embedding import WEIGHTS_NAME
from recommender.ml.weights import Weights, WeightsError, load_weights

log = logging.getLogger(__name__)

EMBEDDING_DIM = 512


@dataclass(frozen=True)
class EmbedderConfig:
    """Architecture settings, stored in the manifest under ``config``."""

    num_classes: int = 10
    #: Logit scale of the cosine head; 16 keeps softmax sharp on unit vectors (NormFace).
    scale: float = 16.0


class CosineHead(nn.Module):
    """Logits = scale · cos(embedding, class centre): trains the very geometry kNN uses."""

    def __init__(self, dim: int, num_classes: int, scale: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_classes, dim) * 0.01)
        self.scale = scale

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.scale * embeddings @ F.normalize(self.weight, dim=1).t()


class GarmentEmbedder(nn.Module):
    """Image batch (N, 3, S, S) → unit vectors (N, 512)."""

    def __init__(self, trunk: ResNet, config: EmbedderConfig) -> None:
        super().__init__()
        self.trunk = trunk
        self.head = CosineHead(EMBEDDING_DIM, config.num_classes, config.scale)
        self.config = config

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.trunk(images).float(), dim=1)


def imagenet_checkpoint() -> Path | None:
    """The torchvision ImageNet ResNet34 file if it is already in the hub cache, else None."""
    filename = os.path.basename(ResNet34_Weights.IMAGENET1K_V1.url)
    path = Path(torch.hub.get_dir()) / "checkpoints" / filename
    return path if path.is_file() else None


def _resnet34_trunk(init: str) -> tuple[ResNet, str]:
    """ResNet34 without its classifier (fc → Identity, so the output is the 512-d pool)."""
    trunk = resnet34(weights=None)
    checkpoint = imagenet_checkpoint() if init in ("auto", "imagenet") else None
    if init == "imagenet" and checkpoint is None:
        raise WeightsError("ImageNet ResNet34 weights are not in the torch hub cache; this code never downloads")
    if checkpoint is not None:
        trunk.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
        log.info("ResNet34 trunk initialised from ImageNet weights at %s", checkpoint)
    trunk.fc = nn.Identity()
    return trunk, ("imagenet" if checkpoint is not None else "scratch")


def build_embedder(config: EmbedderConfig, *, init: str = "auto") -> tuple[GarmentEmbedder, str]:
    """A new module and how its trunk started (``"imagenet"`` or ``"scratch"``).

    ``init``: ``"auto"`` (ImageNet when cached), ``"imagenet"`` (required), ``"scratch"``.
    """
    if init not in ("auto", "imagenet", "scratch"):
        raise ValueError(f"init must be auto, imagenet or scratch, not {init!r}")
    trunk, started_from = _resnet34_trunk(init)
    return GarmentEmbedder(trunk, config), started_from


def config_from_meta(meta: Mapping[str, Any]) -> EmbedderConfig:
    return EmbedderConfig(**meta["config"])


def config_to_meta(config: EmbedderConfig) -> dict[str, Any]:
    return asdict(config)


def load_embedder(
    name: str = WEIGHTS_NAME,
    *,
    directory: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
) -> tuple[GarmentEmbedder, Weights]:
    """The shipped model in eval mode on ``device``, plus its weights (manifest, hash)."""
    weights = load_weights(name, directory=directory)
    model, _ = build_embedder(config_from_meta(weights.meta), init="scratch")
    model.load_state_dict(weights.state_dict, strict=True)
    return model.to(device).eval(), weights
