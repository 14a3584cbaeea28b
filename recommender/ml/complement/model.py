"""The complement model: a type-aware two-tower network over garment features.

Every garment gets a *query* vector (what it asks for) and a *candidate* vector (what it
offers); a pair scores ``<query(a), candidate(b)>``, both unit vectors, so serving is one
inner-product (cosine) nearest-neighbour query per section. Each role has a trunk shared by
every slot and one projection head per slot (top, bottom, dress, outerwear): a top asks for
a bottom in its own way, and a bottom offers itself to a top in its own way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from recommender.ml.complement import WEIGHTS_NAME
from recommender.ml.complement.features import EMBEDDING_DIM, FEATURE_DIM, FEATURE_LAYOUT
from recommender.ml.weights import Weights, load_weights

HISTOGRAM_DIM = FEATURE_LAYOUT["lab_histogram"]
#: Where the square-rooted Lab histogram sits in the features (right after the embedding).
HISTOGRAM = slice(EMBEDDING_DIM, EMBEDDING_DIM + HISTOGRAM_DIM)

ROLES: tuple[str, ...] = ("query", "candidate")
SLOTS: tuple[str, ...] = ("top", "bottom", "dress", "outerwear")


@dataclass(frozen=True)
class ComplementConfig:
    feature_dim: int = FEATURE_DIM
    #: Width of each role's shared hidden layer; 0 = linear towers (a low-rank bilinear score).
    hidden: int = 256
    dim: int = 64
    dropout: float = 0.3
    #: Append the garment's own colour histogram (unit length) to both towers, weighted by a learnt
    #: share: the pair score is then (1 - w)·learnt + w·colour similarity, still one inner product.
    colour_residual: bool = False

    @property
    def output_dim(self) -> int:
        return self.dim + (HISTOGRAM_DIM if self.colour_residual else 0)


class ComplementNet(nn.Module):
    """Features [N, F] of one slot → unit vectors [N, dim] for one role."""

    def __init__(self, config: ComplementConfig) -> None:
        super().__init__()
        self.config = config
        # Feature standardisation (training set mean and std), part of the weights.
        self.feature_mean = nn.Buffer(torch.zeros(config.feature_dim))
        self.feature_std = nn.Buffer(torch.ones(config.feature_dim))
        width = config.hidden or config.feature_dim
        self.trunks = nn.ModuleDict(
            {
                role: nn.Dropout(config.dropout)
                if not config.hidden
                else nn.Sequential(
                    nn.Linear(config.feature_dim, config.hidden),
                    nn.LayerNorm(config.hidden),
                    nn.GELU(),
                    nn.Dropout(config.dropout),
                )
                for role in ROLES
            }
        )
        self.heads = nn.ModuleDict({f"{role}_{slot}": nn.Linear(width, config.dim) for role in ROLES for slot in SLOTS})
        if config.colour_residual:
            self.colour_logit = nn.Parameter(torch.zeros(()))

    def forward(self, features: torch.Tensor, *, slot: str, role: str) -> torch.Tensor:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {role!r}")
        if slot not in SLOTS:
            raise ValueError(f"slot must be one of {SLOTS}, not {slot!r}")
        x = (features - self.feature_mean) / self.feature_std
        learnt = F.normalize(self.heads[f"{role}_{slot}"](self.trunks[role](x)), dim=-1)
        if not self.config.colour_residual:
            return learnt
        share = torch.sigmoid(self.colour_logit)
        histogram = F.normalize(features[..., HISTOGRAM], dim=-1)
        return torch.cat([learnt * (1 - share).sqrt(), histogram * share.sqrt()], dim=-1)


def build_complement_net(config: ComplementConfig | None = None) -> ComplementNet:
    return ComplementNet(config or ComplementConfig())


def config_to_meta(config: ComplementConfig) -> dict[str, Any]:
    return asdict(config)


def config_from_meta(meta: Mapping[str, Any]) -> ComplementConfig:
    return ComplementConfig(**meta["config"])


def load_complement_net(
    name: str = WEIGHTS_NAME, *, directory: str | os.PathLike | None = None
) -> tuple[ComplementNet, Weights]:
    """The shipped module in eval mode, after the hash check (``WeightsError`` otherwise)."""
    weights = load_weights(name, directory=directory)
    net = build_complement_net(config_from_meta(weights.meta))
    net.load_state_dict(weights.state_dict)
    return net.eval(), weights
