"""The complement model: a type-aware two-tower network over garment features.

Every garment gets a *query* vector (what it asks for) and a *candidate* vector (what it
offers); a pair scores ``<query(a), candidate(b)>``, both unit vectors, so serving is one
inner-product (cosine) nearest-neighbour query per section. Each role has a trunk shared by
every slot and one projection head per slot (top, bottom, dress, outerwear): a top asks for
a bottom in its own way, and a bottom offers itself to a top in its own way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from recommender.ml.complement import WEIGHTS_NAME
from recommender.ml.complement.features import EMBEDDING_DIM, FEATURE_DIM, FEATURE_LAYOUT, MAPS_DIM
from recommender.ml.weights import Weights, load_weights

HISTOGRAM_DIM = FEATURE_LAYOUT["lab_histogram"]
#: Where the square-rooted Lab histogram sits in the features (right after the embedding).
HISTOGRAM = slice(EMBEDDING_DIM, EMBEDDING_DIM + HISTOGRAM_DIM)
#: Where the pooled middle-layer maps sit (last).
MAPS = slice(FEATURE_DIM - MAPS_DIM, FEATURE_DIM)

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
    #: Independently trained members (other seeds) whose unit vectors are concatenated, each scaled by
    #: 1/sqrt(members): a pair scores the members' mean score, still one inner product. With the colour
    #: residual the members share one histogram block, weighted by their mean share (the same scores).
    members: int = 1
    #: Whitened PCA components the pooled maps are reduced to before the towers; 0 = the raw maps.
    maps_pca: int = 0

    @property
    def input_dim(self) -> int:
        """Width of the towers' input: the features with the maps reduced."""
        return self.feature_dim - MAPS_DIM + self.maps_pca if self.maps_pca else self.feature_dim

    @property
    def output_dim(self) -> int:
        return self.dim * self.members + (HISTOGRAM_DIM if self.colour_residual else 0)

    def member(self) -> ComplementConfig:
        """The configuration of one member."""
        return replace(self, members=1)


class ComplementNet(nn.Module):
    """Features [N, F] of one slot → unit vectors [N, dim] for one role."""

    def __init__(self, config: ComplementConfig) -> None:
        super().__init__()
        self.config = config
        if config.maps_pca:
            # Whitened PCA of the pooled maps (fitted on the training garments), part of the weights.
            self.maps_mean = nn.Buffer(torch.zeros(MAPS_DIM))
            self.maps_basis = nn.Buffer(torch.zeros(MAPS_DIM, config.maps_pca))
        # Feature standardisation (training set mean and std, after the PCA), part of the weights.
        self.feature_mean = nn.Buffer(torch.zeros(config.input_dim))
        self.feature_std = nn.Buffer(torch.ones(config.input_dim))
        width = config.hidden or config.input_dim
        self.trunks = nn.ModuleDict(
            {
                role: nn.Dropout(config.dropout)
                if not config.hidden
                else nn.Sequential(
                    nn.Linear(config.input_dim, config.hidden),
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

    def learnt(self, features: torch.Tensor, *, slot: str, role: str) -> torch.Tensor:
        """The learnt unit vectors [N, dim], before any colour residual."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {role!r}")
        if slot not in SLOTS:
            raise ValueError(f"slot must be one of {SLOTS}, not {slot!r}")
        x = (self.reduce(features) - self.feature_mean) / self.feature_std
        return F.normalize(self.heads[f"{role}_{slot}"](self.trunks[role](x)), dim=-1)

    def reduce(self, features: torch.Tensor) -> torch.Tensor:
        """[N, F] features → [N, input_dim]: the maps replaced by their PCA components (if configured)."""
        if not self.config.maps_pca:
            return features
        maps = (features[..., MAPS] - self.maps_mean) @ self.maps_basis
        return torch.cat([features[..., : MAPS.start], maps], dim=-1)

    def fit(self, features: torch.Tensor) -> None:
        """Fit the maps' PCA and then the standardisation on [N, F] training features."""
        if self.config.maps_pca:
            maps = features[..., MAPS].double()
            mean = maps.mean(dim=0)
            eigenvalues, eigenvectors = torch.linalg.eigh(torch.cov((maps - mean).T))
            top = eigenvalues.argsort(descending=True)[: self.config.maps_pca]
            basis = eigenvectors[:, top] / eigenvalues[top].clamp(min=1e-8).sqrt()
            self.maps_mean.copy_(mean.float())
            self.maps_basis.copy_(basis.float())
        with torch.no_grad():
            reduced = self.reduce(features)
        self.feature_mean.copy_(reduced.mean(dim=0))
        self.feature_std.copy_(reduced.std(dim=0).clamp(min=1e-3))

    def colour_share(self) -> torch.Tensor:
        """The learnt weight of the colour histogram's similarity in a pair's score (colour residual only)."""
        return torch.sigmoid(self.colour_logit)

    def forward(self, features: torch.Tensor, *, slot: str, role: str) -> torch.Tensor:
        learnt = self.learnt(features, slot=slot, role=role)
        if not self.config.colour_residual:
            return learnt
        share = self.colour_share()
        return torch.cat([learnt * (1 - share).sqrt(), _histogram(features) * share.sqrt()], dim=-1)


def _histogram(features: torch.Tensor) -> torch.Tensor:
    return F.normalize(features[..., HISTOGRAM], dim=-1)


class ComplementEnsemble(nn.Module):
    """Members of one configuration, trained apart: features [N, F] → [N, output_dim], unit length."""

    def __init__(self, config: ComplementConfig) -> None:
        super().__init__()
        self.config = config
        self.members = nn.ModuleList(ComplementNet(config.member()) for _ in range(config.members))

    @classmethod
    def of(cls, members: list[ComplementNet]) -> ComplementEnsemble:
        ensemble = cls(replace(members[0].config, members=len(members)))
        for mine, trained in zip(ensemble.members, members, strict=True):
            mine.load_state_dict(trained.state_dict())
        return ensemble

    def forward(self, features: torch.Tensor, *, slot: str, role: str) -> torch.Tensor:
        n = len(self.members)
        if not self.config.colour_residual:
            return torch.cat([m(features, slot=slot, role=role) for m in self.members], dim=-1) / n**0.5
        # mean_i[(1 - s_i)·learnt_i + s_i·colour] = Σ_i (1 - s_i)/n·learnt_i + mean(s)·colour: one colour block.
        members = cast("Sequence[ComplementNet]", self.members)  # built from ComplementNet only
        shares = [m.colour_share() for m in members]
        parts = [
            m.learnt(features, slot=slot, role=role) * ((1 - share) / n).sqrt()
            for m, share in zip(members, shares, strict=True)
        ]
        mean_share = torch.stack(shares).mean()
        return torch.cat([*parts, _histogram(features) * mean_share.sqrt()], dim=-1)


def build_complement_net(config: ComplementConfig | None = None) -> ComplementNet | ComplementEnsemble:
    config = config or ComplementConfig()
    return ComplementNet(config) if config.members == 1 else ComplementEnsemble(config)


def config_to_meta(config: ComplementConfig) -> dict[str, Any]:
    return asdict(config)


def config_from_meta(meta: Mapping[str, Any]) -> ComplementConfig:
    return ComplementConfig(**meta["config"])  # weights from before ensembles have one member


def load_complement_net(
    name: str = WEIGHTS_NAME, *, directory: str | os.PathLike | None = None
) -> tuple[ComplementNet | ComplementEnsemble, Weights]:
    """The shipped module in eval mode, after the hash check (``WeightsError`` otherwise)."""
    weights = load_weights(name, directory=directory)
    net = build_complement_net(config_from_meta(weights.meta))
    net.load_state_dict(weights.state_dict)
    return net.eval(), weights
