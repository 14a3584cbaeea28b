"""Batched augmentation on the training device: crops, flips and colour, all tensor operations.

With the whole pack on the GPU as uint8, a step never waits for PIL: each batch is cropped
and resized with one ``grid_sample`` (bilinear for photos, nearest for label maps, so no
class is invented and 255 = ignored stays 255), mirrored, colour-jittered and normalised.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def crop_grids(
    count: int,
    out_size: tuple[int, int],
    *,
    min_area: float,
    max_aspect: float,
    generator: torch.Generator,
    device: torch.device,
) -> torch.Tensor:
    """Sampling grids (N, H, W, 2) of random boxes covering ``min_area``..1 of the image, half of them mirrored."""
    area = torch.empty(count).uniform_(min_area, 1.0, generator=generator)
    log_ratio = torch.empty(count).uniform_(-math.log(max_aspect), math.log(max_aspect), generator=generator)
    ratio = log_ratio.exp()
    scale_x = (area * ratio).sqrt().clamp(max=1.0)
    scale_y = (area / ratio).sqrt().clamp(max=1.0)
    shift_x = (torch.rand(count, generator=generator) * 2 - 1) * (1 - scale_x)
    shift_y = (torch.rand(count, generator=generator) * 2 - 1) * (1 - scale_y)
    flip = torch.where(torch.rand(count, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(count, 2, 3)
    theta[:, 0, 0] = scale_x * flip
    theta[:, 0, 2] = shift_x
    theta[:, 1, 1] = scale_y
    theta[:, 1, 2] = shift_y
    height, width = out_size
    return F.affine_grid(theta.to(device), [count, 1, height, width], align_corners=False)


def colour_jitter(images: torch.Tensor, strength: float, generator: torch.Generator) -> torch.Tensor:
    """Brightness, contrast and saturation factors in [1 - strength, 1 + strength], per image; images in [0, 1]."""
    count = images.shape[0]

    def factors() -> torch.Tensor:
        values = torch.empty(count).uniform_(1 - strength, 1 + strength, generator=generator)
        return values.to(images.device).view(count, 1, 1, 1)

    images = images * factors()
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    images = (images - mean) * factors() + mean
    grey = (0.299 * images[:, 0:1] + 0.587 * images[:, 1:2] + 0.114 * images[:, 2:3]).expand_as(images)
    images = (images - grey) * factors() + grey
    return images.clamp(0, 1)


def normalise(images: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """[0, 1] NCHW → mean/std normalised, as ``preprocess`` does."""
    mean_t = torch.tensor(mean, device=images.device).view(1, 3, 1, 1)
    std_t = torch.tensor(std, device=images.device).view(1, 3, 1, 1)
    return (images - mean_t) / std_t


def augment_segmentation(
    images: torch.Tensor,
    labels: torch.Tensor,
    out_size: tuple[int, int],
    *,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    generator: torch.Generator,
    min_area: float = 0.45,
    jitter: float = 0.3,
) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 NHWC photos + uint8 NHW labels → normalised float NCHW inputs + int64 NHW targets."""
    grids = crop_grids(
        images.shape[0],
        out_size,
        min_area=min_area,
        max_aspect=math.exp(0.2),
        generator=generator,
        device=images.device,
    )
    pixels = images.permute(0, 3, 1, 2).float() / 255
    pixels = F.grid_sample(pixels, grids, mode="bilinear", padding_mode="border", align_corners=False)
    targets = F.grid_sample(labels[:, None].float(), grids, mode="nearest", padding_mode="border", align_corners=False)
    pixels = colour_jitter(pixels, jitter, generator)
    return normalise(pixels, mean, std), targets[:, 0].round().long()


def augment_embedding(
    images: torch.Tensor,
    *,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    generator: torch.Generator,
    min_area: float = 0.55,
    jitter: float = 0.3,
    grey_share: float = 0.05,
) -> torch.Tensor:
    """Letterboxed uint8 NHWC garments → normalised, randomly cropped (55–100 % area), mirrored, jittered NCHW."""
    count, height, width = images.shape[:3]
    grids = crop_grids(
        count, (height, width), min_area=min_area, max_aspect=4 / 3, generator=generator, device=images.device
    )
    pixels = images.permute(0, 3, 1, 2).float() / 255
    pixels = F.grid_sample(pixels, grids, mode="bilinear", padding_mode="border", align_corners=False)
    pixels = colour_jitter(pixels, jitter, generator)
    grey = torch.rand(count, generator=generator).to(images.device) < grey_share
    luminance = (0.299 * pixels[:, 0:1] + 0.587 * pixels[:, 1:2] + 0.114 * pixels[:, 2:3]).expand_as(pixels)
    pixels = torch.where(grey.view(count, 1, 1, 1), luminance, pixels)
    return normalise(pixels, mean, std)
