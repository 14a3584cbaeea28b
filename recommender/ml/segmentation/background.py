"""Background removal through rembg, on an operator-installed U²-Net or on the project's U-Net.

rembg's ``u2net_custom`` session (rembg/sessions/u2net_custom.py) feeds an ONNX model a
1x3x320x320 image (LANCZOS-resized, divided by its max pixel, ImageNet mean/std), reads
channel 0 of the first output, min-max rescales it to [0, 1] and resizes it back to the
photo. :func:`export_onnx` therefore wraps the U-Net so the graph itself takes that
320x320 input, re-normalises it with the model's own mean/std, resizes it to the model's
input size and returns one channel: the foreground probability 1 − P(background).

Which model runs (see :func:`active_background_model`):

1. an official rembg U²-Net file (``u2net.onnx``, ``u2netp.onnx`` or ``silueta.onnx``) that an
   operator placed in ``~/.u2net`` (or ``$U2NET_HOME``): trained for salient objects, it
   suits flat product photos; it is loaded through ``u2net_custom`` with an explicit path,
   so rembg never tries to download anything;
2. otherwise the project's U-Net, exported once per weights version to
   ``var/rembg/models/u2net_custom/unet-ccp-<version>.onnx`` (``*.onnx`` is never committed).

rembg only opens custom models inside its own home (``$REMBG_HOME``, or ``$U2NET_HOME``),
so when neither is set this module points ``REMBG_HOME`` at ``var/rembg`` in the project.
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from core.images import to_rgb
from recommender.ml.segmentation.model import IMAGENET_MEAN, IMAGENET_STD, UNetConfig, load_unet

#: rembg's u2net_custom input: fixed square size and ImageNet normalisation.
REMBG_SIZE = 320
OFFICIAL_MODELS: tuple[str, ...] = ("u2net.onnx", "u2netp.onnx", "silueta.onnx")
DEFAULT_REMBG_HOME = Path(__file__).resolve().parents[3] / "var" / "rembg"


class ForegroundWrapper(nn.Module):
    """rembg-shaped input → the U-Net at its own size and normalisation → 1 − P(background) at 320x320."""

    rembg_mean: torch.Tensor
    rembg_std: torch.Tensor

    def __init__(self, model: nn.Module, config: UNetConfig) -> None:
        super().__init__()
        self.model = model
        self.input_size = config.input_size
        shape = (1, 3, 1, 1)
        self.register_buffer("rembg_mean", torch.tensor(IMAGENET_MEAN).view(shape))
        self.register_buffer("rembg_std", torch.tensor(IMAGENET_STD).view(shape))
        self.mean = nn.Buffer(torch.tensor(config.mean).view(shape))
        self.std = nn.Buffer(torch.tensor(config.std).view(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pixels = x * self.rembg_std + self.rembg_mean
        x = (pixels - self.mean) / self.std
        x = F.interpolate(x, size=self.input_size, mode="bilinear", align_corners=False)
        background = self.model(x).softmax(dim=1)[:, :1]
        return F.interpolate(1 - background, size=(REMBG_SIZE, REMBG_SIZE), mode="bilinear", align_corners=False)


def export_onnx(
    path: str | os.PathLike, *, name: str = "unet-ccp", weights_dir: str | os.PathLike | None = None
) -> Path:
    """Write the shipped U-Net as a rembg-compatible ONNX file (input 1x3x320x320, output 1x1x320x320)."""
    model, config, _ = load_unet(name, directory=weights_dir)
    wrapper = ForegroundWrapper(model, config).eval()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".onnx.tmp")
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated but needs no onnxscript; the graph has no control flow.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            (torch.zeros(1, 3, REMBG_SIZE, REMBG_SIZE),),
            str(tmp),
            dynamo=False,
            input_names=["input"],
            output_names=["foreground"],
            opset_version=17,
        )
    os.replace(tmp, path)
    return path


def rembg_home() -> Path:
    """rembg's model root, defaulting to ``var/rembg`` so the exported model is inside it."""
    if not os.getenv("U2NET_HOME") and not os.getenv("REMBG_HOME"):
        os.environ["REMBG_HOME"] = str(DEFAULT_REMBG_HOME)
    from rembg.sessions.base import BaseSession

    return Path(BaseSession.rembg_home())


def official_model_path() -> Path | None:
    """An operator-installed rembg U²-Net file in ``~/.u2net`` / ``$U2NET_HOME`` (never downloaded by us)."""
    from rembg.sessions.base import BaseSession

    home = Path(BaseSession.legacy_home())
    for filename in OFFICIAL_MODELS:
        if (home / filename).is_file():
            return home / filename
    return None


def project_onnx_path(*, name: str = "unet-ccp", weights_dir: str | os.PathLike | None = None) -> Path:
    """The project U-Net's ONNX export for the current weights, exported on first use."""
    from recommender.ml.weights import read_manifest

    version = read_manifest(name, directory=weights_dir)["sha256"][:12]
    path = rembg_home() / "models" / "u2net_custom" / f"{name}-{version}.onnx"
    if not path.is_file():
        export_onnx(path, name=name, weights_dir=weights_dir)
    return path


def active_background_model(**kwargs: Any) -> dict[str, str]:
    """``{"name", "source", "path"}`` of the model :func:`remove_background` uses, for the admin.

    Keyword arguments (``name``, ``weights_dir``) go to :func:`project_onnx_path`.
    """
    official = official_model_path()
    if official is not None:
        return {
            "name": official.stem,
            "source": "rembg official model (operator-installed)",
            "path": str(official),
        }
    path = project_onnx_path(**kwargs)
    return {"name": path.stem, "source": "project U-Net (CCP street photos), ONNX export", "path": str(path)}


_sessions: dict[str, Any] = {}
_sessions_lock = threading.Lock()


def _session(model_path: str) -> Any:
    with _sessions_lock:
        if model_path not in _sessions:
            from rembg import new_session

            _sessions[model_path] = new_session("u2net_custom", model_path=model_path)
        return _sessions[model_path]


def remove_background(image: Image.Image, **kwargs: Any) -> Image.Image:
    """``image`` as RGBA with the background transparent (rembg cut-out on the active model)."""
    from rembg import remove

    session = _session(active_background_model(**kwargs)["path"])
    return remove(to_rgb(image), session=session).convert("RGBA")
