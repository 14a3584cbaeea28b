"""The single image → tensor transform shared by training, evaluation and serving.

Embeddings are only comparable when every image takes exactly the same path into
the network, so there is one function, :func:`preprocess`, parameterised by the
input size and normalisation stored in the weights' manifest. Training
augmentation works on the PIL image *before* this function; nothing random happens here.

The transform is split into :func:`letterbox` (PIL → uint8 array) and
:func:`normalize` (uint8 batch → float tensor) only so that training can cache the
deterministic uint8 arrays; :func:`preprocess` is their composition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
#: Padding colour: white, the background of cut-out garments and of most product photos.
PAD_COLOUR: tuple[int, int, int] = (255, 255, 255)


@dataclass(frozen=True)
class PreprocessConfig:
    """What the network expects; stored in (and read back from) the weights' manifest."""

    size: int = 128
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> PreprocessConfig:
        return cls(size=int(meta["input_size"]), mean=tuple(meta["mean"]), std=tuple(meta["std"]))

    def to_meta(self) -> dict[str, Any]:
        return {"input_size": self.size, "mean": list(self.mean), "std": list(self.std)}


def letterbox(image: Image.Image, size: int) -> np.ndarray:
    """Fit ``image`` inside a ``size``×``size`` square without distorting it; pad with white.

    Garments are tall (dresses, trousers) or wide (folded shirts): squashing them
    would change their shape, which is exactly what tells the classes apart.
    """
    image = image.convert("RGB") if image.mode != "RGB" else image
    width, height, left, top = letterbox_geometry(image.width, image.height, size)
    resized = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=None)
    canvas = Image.new("RGB", (size, size), PAD_COLOUR)
    canvas.paste(resized, (left, top))
    return np.array(canvas, dtype=np.uint8)


def letterbox_geometry(width: int, height: int, size: int) -> tuple[int, int, int, int]:
    """Where :func:`letterbox` puts a ``width``×``height`` image: its new width and height, left and top."""
    scale = size / max(width, height)
    new_width = max(1, min(size, round(width * scale)))
    new_height = max(1, min(size, round(height * scale)))
    return new_width, new_height, (size - new_width) // 2, (size - new_height) // 2


def normalize(batch: np.ndarray | torch.Tensor, config: PreprocessConfig) -> torch.Tensor:
    """uint8 NHWC (or HWC) pixels → float32 NCHW (or CHW) tensor, mean/std normalised."""
    tensor = torch.as_tensor(batch)
    squeeze = tensor.ndim == 3
    if squeeze:
        tensor = tensor.unsqueeze(0)
    tensor = tensor.permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(config.mean, dtype=torch.float32, device=tensor.device).view(1, 3, 1, 1)
    std = torch.tensor(config.std, dtype=torch.float32, device=tensor.device).view(1, 3, 1, 1)
    tensor = tensor.sub_(mean).div_(std).contiguous()
    return tensor[0] if squeeze else tensor


def preprocess(image: Image.Image, config: PreprocessConfig) -> torch.Tensor:
    """One RGB PIL image → float32 tensor (3, size, size), ready for the network."""
    return normalize(letterbox(image, config.size), config)


def preprocess_batch(images: Sequence[Image.Image], config: PreprocessConfig) -> torch.Tensor:
    """Several images → (N, 3, size, size); identical, image by image, to :func:`preprocess`."""
    return normalize(np.stack([letterbox(image, config.size) for image in images]), config)
