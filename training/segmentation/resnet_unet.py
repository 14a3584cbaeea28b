"""The research segmentation network: a ResNet34 encoder (the embedder's trunk) with a U-Net decoder.

Importing this module registers the ``resnet34-unet`` architecture with the served loader
(``recommender.ml.segmentation.model.BUILDERS``), so training, evaluation and benchmarks can build and
load it; the served segmenter is the plain U-Net and never imports this.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from recommender.ml.segmentation.model import (
    BUILDERS,
    COARSE_CLASSES,
    SHARED_ENCODER,
    STRIDE,
    _double_conv,
    _pad_to,
)
from recommender.ml.weights import WeightsError, load_weights


class DecoderBlock(nn.Module):
    """Bilinear 2x upsampling to the skip connection's size, concatenate it, two 3x3 convs."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = _double_conv(in_channels + skip_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(torch.cat([x, skip], dim=1))


class ResNet34UNet(nn.Module):
    """ResNet34 encoder (torchvision layout, no classifier), U-Net decoder with skips, 1x1 class head.

    Skips come from the stem (64 ch, stride 2), layer1 (64, /4), layer2 (128, /8) and
    layer3 (256, /16); layer4 (512, /32) is the bottleneck. The encoder's parameter
    names are torchvision's under ``encoder.``, which is what lets the embedder's
    ``trunk.*`` tensors load into it unchanged. Logits are made at stride 2 and
    upsampled bilinearly to the input size.
    """

    SKIP_CHANNELS = (256, 128, 64, 64)
    #: Encoder stages in input order; ``freeze_encoder_stages(model, n)`` freezes the first n.
    STAGES = (("conv1", "bn1"), ("layer1",), ("layer2",), ("layer3",), ("layer4",))

    def __init__(self, num_classes: int = len(COARSE_CLASSES), decoder_widths: tuple[int, ...] = (256, 128, 64, 32)):
        super().__init__()
        from torchvision.models import resnet34

        encoder = resnet34(weights=None)
        encoder.fc = nn.Identity()
        self.encoder = encoder
        blocks = []
        previous = 512
        for skip, width in zip(self.SKIP_CHANNELS, decoder_widths, strict=True):
            blocks.append(DecoderBlock(previous, skip, width))
            previous = width
        self.decoder = nn.ModuleList(blocks)
        self.head = nn.Conv2d(previous, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        x = _pad_to(x, STRIDE["resnet34-unet"])
        e = self.encoder
        stem = e.relu(e.bn1(e.conv1(x)))  # /2
        x1 = e.layer1(e.maxpool(stem))  # /4
        x2 = e.layer2(x1)  # /8
        x3 = e.layer3(x2)  # /16
        x = e.layer4(x3)  # /32
        for block, skip in zip(self.decoder, (x3, x2, x1, stem), strict=True):
            x = block(x, skip)
        logits = F.interpolate(self.head(x), scale_factor=2, mode="bilinear", align_corners=False)
        return logits[..., :height, :width]


#: Embedder tensors that are not part of the encoder: its cosine classification head.
_EMBEDDER_ONLY_PREFIXES = ("head.",)


def encoder_state_from_embedder(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The embedder's ResNet34 trunk as ``encoder.*`` tensors (its cosine head dropped)."""
    encoder = {}
    for key, value in state_dict.items():
        if key.startswith("trunk."):
            encoder["encoder." + key.removeprefix("trunk.")] = value
        elif not key.startswith(_EMBEDDER_ONLY_PREFIXES):
            raise WeightsError(f"unexpected tensor {key!r} in the embedder's weights")
    return encoder


def load_encoder_from_embedder(
    model: ResNet34UNet,
    name: str = "resnet34-garments",
    *,
    directory: str | os.PathLike | None = None,
    expected_sha256: str | None = None,
) -> str:
    """Copy the shipped embedder's trunk into ``model.encoder``; return ``NAME@version``.

    The file is hash-checked against its manifest by ``load_weights`` (and, when given,
    against ``expected_sha256``), so corrupt or swapped weights fail here, before training.
    """
    if not isinstance(model, ResNet34UNet):
        raise WeightsError("only a resnet34-unet has a ResNet34 encoder to initialise")
    weights = load_weights(name, directory=directory)
    if weights.meta.get("architecture") != "resnet34":
        raise WeightsError(f"'{name}' is not a ResNet34 embedder (architecture {weights.meta.get('architecture')!r})")
    if expected_sha256 is not None and weights.sha256 != expected_sha256:
        raise WeightsError(f"'{name}' has sha256 {weights.sha256[:12]}…, not the expected {expected_sha256[:12]}…")
    encoder = encoder_state_from_embedder(weights.state_dict)
    missing, unexpected = model.load_state_dict(encoder, strict=False)
    not_loaded = [key for key in missing if key.startswith("encoder.")]
    if not_loaded or unexpected:
        raise WeightsError(f"'{name}' does not fit the ResNet34 encoder: missing {not_loaded}, unexpected {unexpected}")
    return f"{name}@{weights.version}"


def freeze_encoder_stages(model: nn.Module, stages: int) -> list[str]:
    """Freeze the first ``stages`` encoder stages (stem, layer1 … layer4) of a ResNet34 U-Net.

    Frozen stages get no gradient and stay in eval mode (``train_mode`` re-applies that
    after every ``model.train()``), so their tensors remain bit-identical to the embedder's
    and the exported file need not carry them. Returns the frozen module names.
    """
    if stages <= 0:
        return []
    if not isinstance(model, ResNet34UNet):
        raise ValueError("only a resnet34-unet has encoder stages to freeze")
    names = [name for stage in ResNet34UNet.STAGES[:stages] for name in stage]
    for name in names:
        for parameter in getattr(model.encoder, name).parameters():
            parameter.requires_grad_(False)
    return names


def train_mode(model: nn.Module, frozen: list[str]) -> nn.Module:
    """``model.train()`` with the frozen encoder stages kept in eval mode (BatchNorm statistics unchanged)."""
    model.train()
    for name in frozen:
        getattr(model.encoder, name).eval()
    return model


def shared_encoder_tensors(
    state_dict: Mapping[str, torch.Tensor], encoder_state: Mapping[str, torch.Tensor]
) -> set[str]:
    """Keys whose tensors equal the embedder's (after fp16 rounding): the export leaves them out."""
    shared = set()
    for key, value in encoder_state.items():
        mine = state_dict.get(key)
        if mine is not None and mine.shape == value.shape and torch.equal(mine.cpu().half(), value.half()):
            shared.add(key)
    return shared


BUILDERS["resnet34-unet"] = lambda config: ResNet34UNet(
    num_classes=len(config.classes), decoder_widths=config.decoder_widths
)
SHARED_ENCODER["resnet34-unet"] = encoder_state_from_embedder
