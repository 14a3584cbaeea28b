"""A torch Dataset over CCP with the project's coarse classes, held in memory.

With one or two CPU cores, decoding an 830-px JPEG and a MATLAB file per step costs
about as much as the forward pass, so every sample is decoded once, shrunk to
``cache_scale`` times the input size (room for the scale/crop augmentation), and kept
in RAM (about 0.3 KB per pixel row; ~200 MB for CCP's training split at 256x176).
"""

from __future__ import annotations

import os

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from tqdm import tqdm

from recommender.ml.datasets.ccp import CCPSample, LabelMapping, list_samples, read_sample, split_ids
from recommender.ml.segmentation.model import UNetConfig
from recommender.ml.segmentation.transforms import TrainAugment, preprocess, resize_labels

VAL_FRACTION = 0.15
SPLIT_SEED = 0


def train_val_samples(ccp_dir: str | os.PathLike) -> tuple[list[CCPSample], list[CCPSample]]:
    """The project's fixed split (seed 0, 15 % validation) of every annotated photo in ``ccp_dir``."""
    samples = list_samples(ccp_dir)
    train_ids, val_ids = split_ids([s.id for s in samples], val_fraction=VAL_FRACTION, seed=SPLIT_SEED)
    by_id = {s.id: s for s in samples}
    return [by_id[i] for i in train_ids], [by_id[i] for i in val_ids]


class CCPSegmentation(Dataset):
    """(image tensor 3xHxW, label tensor HxW int64) pairs at the config's input size.

    ``augment=True`` keeps a downscaled copy of each photo and draws a fresh crop/flip/
    colour change per (epoch, index); ``augment=False`` stores :func:`preprocess` of the
    full photo, exactly what inference computes.
    """

    def __init__(
        self,
        samples: list[CCPSample],
        mapping: LabelMapping,
        config: UNetConfig,
        *,
        augment: bool,
        seed: int = 0,
        cache_scale: float = 1.5,
        progress: bool = True,
    ) -> None:
        self.ids = [s.id for s in samples]
        self.config = config
        self.augment = TrainAugment(config) if augment else None
        self.seed = seed
        self.epoch = 0
        height, width = config.input_size
        cache_size = (round(height * cache_scale), round(width * cache_scale))
        self.items: list[tuple[object, np.ndarray]] = []
        for sample in tqdm(samples, desc="decoding CCP", disable=not progress, mininterval=5):
            image, labels = read_sample(sample, mapping)
            if self.augment is not None:
                small = image.resize(cache_size[::-1], Image.Resampling.BILINEAR)
                self.items.append((small, resize_labels(labels, cache_size)))
            else:
                self.items.append((preprocess(image, config), resize_labels(labels, config.input_size)))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, labels = self.items[index]
        if self.augment is not None:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            image, labels = self.augment(image, labels, rng)
        return image, torch.from_numpy(labels.astype(np.int64))
