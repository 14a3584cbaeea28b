"""Segmentation networks: the served U-Net, and the configuration shared with the research one.

Two architectures, chosen by ``UNetConfig.architecture`` (stored in the manifest, so
:func:`load_unet` rebuilds whichever one a weights file holds):

* ``"unet"`` — the U-Net of Ronneberger et al. (2015) with BatchNorm and a configurable
  width. ``base=64`` is the classic 64-128-256-512-1024 design (31 M parameters) that
  needs a GPU; ``base=16`` has 1/16 of the compute and trains on a CPU in an hour.
* ``"resnet34-unet"`` — the same encoder–decoder shape with skip connections, but the
  encoder is a ResNet34 (strides 2, 4, 8, 16, 32) that starts from the project's own
  garment embedder (``resnet34-garments``), and
  the decoder upsamples bilinearly through ``decoder_widths``. At 320x224 it costs about
  1/8 of the classic U-Net's multiply-adds. It lives in ``training.segmentation.resnet_unet``,
  which registers it in :data:`BUILDERS` when imported; the shipped segmenter is a ``"unet"``.

Everything the model needs to rebuild itself lives in :class:`UNetConfig`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from recommender.ml.datasets.ccp import COARSE_CLASSES
from recommender.ml.weights import WeightsError, load_weights, weights_paths

#: ImageNet statistics: a neutral choice that also suits a later pretrained encoder.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Four 2x2 poolings: spatial sizes must be multiples of 16 inside the seed U-Net.
DOWNSAMPLING = 16

ARCHITECTURES = ("unet", "resnet34-unet")
#: Total stride of each architecture: the input is padded to a multiple of it.
STRIDE = {"unet": DOWNSAMPLING, "resnet34-unet": 32}


@dataclass(frozen=True)
class UNetConfig:
    """Architecture and preprocessing of one trained model (stored in the manifest as ``config``)."""

    base: int = 16
    input_size: tuple[int, int] = (256, 176)  # (height, width) fed to the network
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    classes: tuple[str, ...] = field(default=COARSE_CLASSES)
    #: ``"unet"`` (the seed design, width ``base``) or ``"resnet34-unet"`` (``decoder_widths``).
    architecture: str = "unet"
    #: Decoder widths of the ResNet34 U-Net, deepest first: at strides 16, 8, 4 and 2 (the
    #: class logits are made at stride 2 and upsampled bilinearly, like DeepLab's).
    decoder_widths: tuple[int, ...] = (256, 128, 64, 32)

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, not {self.architecture!r}")
        if self.architecture == "resnet34-unet" and len(self.decoder_widths) != 4:
            raise ValueError(f"decoder_widths needs 4 widths (strides 16, 8, 4, 2), got {self.decoder_widths}")
        stride = STRIDE[self.architecture]
        height, width = self.input_size
        if height % stride or width % stride:
            raise ValueError(f"input_size {self.input_size} must be multiples of {stride} for {self.architecture}")

    def to_dict(self) -> dict[str, Any]:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UNetConfig:
        known: dict[str, Any] = {
            name: tuple(data[name]) if isinstance(data[name], list) else data[name]
            for name in cls.__dataclass_fields__
            if name in data
        }
        return cls(**known)


def _double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3x3 conv + BatchNorm + ReLU: the unit every U-Net level is made of."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class Up(nn.Module):
    """2x2 transposed conv, concatenate the skip connection, two convs."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)
        self.conv = _double_conv(out_channels * 2, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([skip, self.up(x)], dim=1))


class UNet(nn.Module):
    """Encoder widths base·(1, 2, 4, 8), bottleneck base·16, mirrored decoder, 1x1 class head.

    ``forward`` returns logits at the input's size for any input size: odd sizes are
    reflect-padded to a multiple of 16 and the logits cropped back.
    """

    def __init__(self, base: int = 16, num_classes: int = len(COARSE_CLASSES), in_channels: int = 3) -> None:
        super().__init__()
        widths = [base * factor for factor in (1, 2, 4, 8)]
        self.down = nn.ModuleList()
        previous = in_channels
        for width in widths:
            self.down.append(_double_conv(previous, width))
            previous = width
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = _double_conv(widths[-1], base * 16)
        self.up = nn.ModuleList(Up(w * 2, w) for w in reversed(widths))
        self.head = nn.Conv2d(base, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        pad_h, pad_w = -height % DOWNSAMPLING, -width % DOWNSAMPLING
        if pad_h or pad_w:
            # Reflect needs pad < size; replicate works for tiny inputs too.
            mode = "reflect" if pad_h < height and pad_w < width else "replicate"
            x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for block, skip in zip(self.up, reversed(skips), strict=True):
            x = block(x, skip)
        return self.head(x)[..., :height, :width]


def _pad_to(x: torch.Tensor, stride: int) -> torch.Tensor:
    height, width = x.shape[-2:]
    pad_h, pad_w = -height % stride, -width % stride
    if pad_h or pad_w:
        mode = "reflect" if pad_h < height and pad_w < width else "replicate"
        x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
    return x


#: Networks by architecture name. The served segmenter is the plain U-Net; research architectures
#: (``training.segmentation.resnet_unet``) add their builder here when imported.
BUILDERS: dict[str, Callable[[UNetConfig], nn.Module]] = {
    "unet": lambda config: UNet(base=config.base, num_classes=len(config.classes)),
}
#: Per architecture: the tensors a weights file leaves out, rebuilt from the embedder it shares them with.
SHARED_ENCODER: dict[str, Callable[[Mapping[str, torch.Tensor]], dict[str, torch.Tensor]]] = {}


def build_unet(config: UNetConfig) -> nn.Module:
    """A fresh, randomly initialised network of the config's architecture."""
    builder = BUILDERS.get(config.architecture)
    if builder is None:
        raise WeightsError(
            f"No network of architecture {config.architecture!r} is registered; "
            "research architectures come with the training package (training.segmentation)."
        )
    return builder(config)


def load_unet(
    name: str = "unet-ccp",
    *,
    directory: str | os.PathLike | None = None,
    device: torch.device | str = "cpu",
) -> tuple[nn.Module, UNetConfig, dict[str, Any]]:
    """The shipped model in eval mode, its config and its manifest (hash-checked by ``load_weights``)."""
    weights = load_weights(name, directory=directory)
    if "config" not in weights.meta:
        raise WeightsError(f"The manifest of '{name}' has no 'config'; it was not written by the segmentation trainer.")
    config = UNetConfig.from_dict(weights.meta["config"])
    model = build_unet(config)
    state = dict(weights.state_dict)
    encoder_source = weights.meta.get("encoder_weights")
    if encoder_source:
        # Tensors left out of the file are the embedder's, byte for byte: load them from it,
        # and only from the exact version the model was trained with.
        embedder_dir = directory if directory and weights_paths(encoder_source["name"], directory)[1].exists() else None
        embedder = load_weights(encoder_source["name"], directory=embedder_dir)
        if embedder.sha256 != encoder_source["sha256"]:
            raise WeightsError(
                f"'{name}' shares its encoder with {encoder_source['name']}@{encoder_source['sha256'][:12]}, "
                f"but the weights found are version {embedder.version}"
            )
        if config.architecture not in SHARED_ENCODER:
            raise WeightsError(
                f"'{name}' shares tensors with {encoder_source['name']}, which {config.architecture} cannot."
            )
        state = {**SHARED_ENCODER[config.architecture](embedder.state_dict), **state}
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise WeightsError(f"The weights of '{name}' do not fit the network in its manifest: {exc}") from exc
    return model.to(device).eval(), config, weights.meta
