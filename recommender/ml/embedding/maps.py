"""The garment embedder's middle layers, pooled under the garment's mask.

The served 512-d vector comes from the ResNet34's last stage, trained to tell garment
categories apart: by design it keeps little of a garment's fabric, print and finish. Its
middle stages still see them. :func:`pooled_maps` runs a crop through the trunk up to
``layer3`` once and reads two stages:

* ``layer2`` (128 channels, stride 8): edges, stripes, small prints, knit and weave;
* ``layer3`` (256 channels, stride 16): larger motifs and parts (collars, pockets, seams).

Each stage is pooled under the garment's mask, letterboxed exactly like the crop (the white
padding and the white fill around a cut-out garment count for nothing), as the channel-wise
weighted mean and standard deviation: ``MAPS_DIM`` = 2 × (128 + 256) = 768 numbers, in the
order layer2 mean, layer2 std, layer3 mean, layer3 std. The crop is letterboxed to
``MAPS_INPUT_SIZE`` pixels, with the embedder's own normalisation; no test-time flip (means
and deviations over the garment barely change under a mirror image).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from recommender.ml.embedding.model import GarmentEmbedder
from recommender.ml.embedding.preprocess import PreprocessConfig, letterbox, letterbox_geometry, normalize

MAPS_INPUT_SIZE = 128
MAPS_CHANNELS: tuple[int, int] = (128, 256)
MAPS_DIM = 2 * sum(MAPS_CHANNELS)


def letterbox_mask(mask: np.ndarray, size: int) -> np.ndarray:
    """float32 [size, size] coverage of ``mask`` placed where :func:`letterbox` puts its crop (0 in the padding)."""
    height, width = mask.shape
    new_width, new_height, left, top = letterbox_geometry(width, height, size)
    resized = Image.fromarray(np.asarray(mask, dtype=np.uint8) * 255).resize(
        (new_width, new_height), Image.Resampling.BILINEAR, reducing_gap=None
    )
    canvas = np.zeros((size, size), dtype=np.float32)
    canvas[top : top + new_height, left : left + new_width] = np.asarray(resized, dtype=np.float32) / 255.0
    return canvas


def _pool(features: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Channel-wise mean and std of [N, C, h, w] ``features`` under [N, 1, H, W] ``weights`` (area-resized)."""
    w = torch.nn.functional.adaptive_avg_pool2d(weights, (features.shape[-2], features.shape[-1]))
    total = w.sum(dim=(2, 3)).clamp(min=1e-6)
    mean = (features * w).sum(dim=(2, 3)) / total
    var = ((features - mean[..., None, None]) ** 2 * w).sum(dim=(2, 3)) / total
    return torch.cat([mean, var.clamp(min=0).sqrt()], dim=1)


def pooled_maps(
    model: GarmentEmbedder,
    crops: Sequence[Image.Image],
    masks: Sequence[np.ndarray],
    *,
    config: PreprocessConfig,
    batch_size: int = 32,
) -> np.ndarray:
    """float32 [N, MAPS_DIM]: each crop's ``layer2`` and ``layer3`` maps pooled under its (boolean) mask."""
    if len(crops) != len(masks):
        raise ValueError(f"{len(crops)} crops but {len(masks)} masks")
    if not crops:
        return np.zeros((0, MAPS_DIM), dtype=np.float32)
    config = PreprocessConfig(size=MAPS_INPUT_SIZE, mean=config.mean, std=config.std)
    trunk = model.trunk
    out = []
    for start in range(0, len(crops), batch_size):
        chunk = range(start, min(start + batch_size, len(crops)))
        images = normalize(np.stack([letterbox(crops[i], MAPS_INPUT_SIZE) for i in chunk]), config)
        # An empty mask (nothing found) pools the whole crop rather than nothing.
        weights = torch.from_numpy(
            np.stack([letterbox_mask(masks[i] if masks[i].any() else ~masks[i], MAPS_INPUT_SIZE) for i in chunk])
        )[:, None]
        with torch.inference_mode():
            x = trunk.maxpool(trunk.relu(trunk.bn1(trunk.conv1(images))))
            mid = trunk.layer2(trunk.layer1(x))
            deep = trunk.layer3(mid)
            out.append(torch.cat([_pool(mid, weights), _pool(deep, weights)], dim=1).float().numpy())
    return np.concatenate(out).astype(np.float32, copy=False)
