"""Serving: garment features in, query and candidate vectors out.

::

    from recommender.ml.complement.inference import COMPLEMENT_SLOTS, get_complement_model
    model = get_complement_model()                                   # loaded once per process
    q = model.encode(features, slot="top", role="query")             # [N, D], unit vectors
    c = model.encode(features, slot="bottom", role="candidate")
    scores = q @ c.T                                                 # higher = goes better with it

Features come from :func:`recommender.ml.complement.features.complement_features`, with the
embedder whose sha256 is ``model.embedder_sha256``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from recommender.ml.complement import WEIGHTS_NAME
from recommender.ml.complement.features import FEATURE_DIM, FEATURE_VERSION
from recommender.ml.complement.model import ROLES, SLOTS, ComplementEnsemble, ComplementNet, load_complement_net
from recommender.ml.loading import LoadOnce
from recommender.ml.weights import WeightsError

#: Which slots complete each slot's look: what a query of that slot is compared with.
COMPLEMENT_SLOTS: dict[str, tuple[str, ...]] = {
    "top": ("bottom",),
    "outerwear": ("bottom",),
    "bottom": ("top", "outerwear"),
    "dress": ("outerwear",),
}


class ComplementModel:
    """The shipped two-tower model, ready to encode garment features."""

    def __init__(self, net: ComplementNet | ComplementEnsemble, meta: dict[str, Any]) -> None:
        self.net = net.eval()
        self.meta = meta
        self.version: str = str(meta.get("sha256", "untracked"))
        self.dim: int = net.config.output_dim
        self.embedder_sha256: str = str(meta.get("embedder_sha256", ""))
        self.feature_version: str = str(meta.get("feature_version", FEATURE_VERSION))

    @classmethod
    def load(cls, name: str = WEIGHTS_NAME, directory: str | os.PathLike | None = None) -> ComplementModel:
        """Load and hash-check the weights; refuse weights made for other features."""
        net, weights = load_complement_net(name, directory=directory)
        if weights.meta.get("feature_version") != FEATURE_VERSION:
            raise WeightsError(
                f"The complement model '{name}' expects features {weights.meta.get('feature_version')!r}, "
                f"but this code makes {FEATURE_VERSION!r}: retrain it (docs/models/complement.md)."
            )
        return cls(net, weights.meta)

    def encode(self, features: np.ndarray, *, slot: str, role: str) -> np.ndarray:
        """[N, D] float32 unit vectors for [N, F] features of garments of ``slot``, as ``role``."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {role!r}")
        if slot not in SLOTS:
            raise ValueError(f"slot must be one of {SLOTS}, not {slot!r}")
        features = np.asarray(features, dtype=np.float32)
        if features.ndim == 1:
            features = features[None]
        if features.ndim != 2 or features.shape[1] != FEATURE_DIM:
            raise ValueError(f"features must be [N, {FEATURE_DIM}], not {list(features.shape)}")
        if len(features) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        with torch.inference_mode():
            vectors = self.net(torch.from_numpy(features), slot=slot, role=role).numpy()
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)).astype(np.float32)


#: The process-wide :class:`ComplementModel`: ``get_complement_model()`` for the shipped weights,
#: or with ``name`` / ``directory`` for others; each loaded once.
get_complement_model: LoadOnce[ComplementModel] = LoadOnce(lambda **kwargs: ComplementModel.load(**kwargs))
