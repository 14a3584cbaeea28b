"""Preprocessing shared by training, evaluation and inference, and the training augmentation.

There is exactly one way an image becomes network input — :func:`preprocess`: stretch
to the model's input size (bilinear), scale to [0, 1], normalise with the config's
mean/std. Training crops first and then calls the same function, so a model never sees
input that was prepared differently from what it gets in production.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageEnhance

from core.images import to_rgb
from recommender.ml.segmentation.model import UNetConfig

Box = tuple[float, float, float, float]


def preprocess(image: Image.Image, config: UNetConfig, box: Box | None = None) -> torch.Tensor:
    """A 3xHxW float tensor at ``config.input_size``; ``box`` (x0, y0, x1, y1) crops first."""
    height, width = config.input_size
    resized = to_rgb(image).resize((width, height), Image.Resampling.BILINEAR, box=box)
    array = np.asarray(resized, dtype=np.float32) / 255.0
    mean = np.asarray(config.mean, dtype=np.float32)
    std = np.asarray(config.std, dtype=np.float32)
    return torch.from_numpy(((array - mean) / std).transpose(2, 0, 1).copy())


def resize_labels(labels: np.ndarray, size: tuple[int, int], box: Box | None = None) -> np.ndarray:
    """Nearest-neighbour resize of an HxW class map to ``size`` = (height, width): no invented classes."""
    height, width = size
    resized = Image.fromarray(labels).resize((width, height), Image.Resampling.NEAREST, box=box)
    return np.asarray(resized, dtype=np.uint8)


class TrainAugment:
    """Random scale/crop, horizontal flip and colour jitter, driven by an explicit numpy generator.

    Taking the generator as an argument (rather than using global RNG) makes each
    sample's augmentation a function of (seed, epoch, index), so a resumed run sees
    exactly the batches the uninterrupted run would have seen.
    """

    def __init__(
        self,
        config: UNetConfig,
        *,
        min_area: float = 0.45,
        aspect_jitter: float = 0.2,
        jitter: float = 0.3,
    ) -> None:
        self.config = config
        self.min_area = min_area
        self.aspect_jitter = aspect_jitter
        self.jitter = jitter

    def crop_box(self, width: int, height: int, rng: np.random.Generator) -> Box:
        """A random box covering ``min_area``..100 % of the photo, aspect ratio jittered slightly."""
        area = rng.uniform(self.min_area, 1.0)
        ratio = np.exp(rng.uniform(-self.aspect_jitter, self.aspect_jitter))
        box_w = min(width, width * np.sqrt(area * ratio))
        box_h = min(height, height * np.sqrt(area / ratio))
        x0 = rng.uniform(0, width - box_w)
        y0 = rng.uniform(0, height - box_h)
        return (x0, y0, x0 + box_w, y0 + box_h)

    def colour_jitter(self, image: Image.Image, rng: np.random.Generator) -> Image.Image:
        for enhancer in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
            image = enhancer(image).enhance(rng.uniform(1 - self.jitter, 1 + self.jitter))
        return image

    def __call__(
        self, image: Image.Image, labels: np.ndarray, rng: np.random.Generator
    ) -> tuple[torch.Tensor, np.ndarray]:
        box = self.crop_box(image.width, image.height, rng)
        if rng.random() < 0.5:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            labels = labels[:, ::-1].copy()
            box = (image.width - box[2], box[1], image.width - box[0], box[3])
        image = self.colour_jitter(image, rng)
        return preprocess(image, self.config, box), resize_labels(labels, self.config.input_size, box)
