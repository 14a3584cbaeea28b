"""rembg background removal on the project's U-Net exported to ONNX, or on an installed official model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from PIL import Image

from recommender.ml.segmentation import background
from recommender.ml.segmentation.model import UNetConfig, build_unet, load_unet
from recommender.ml.weights import save_weights

TINY = UNetConfig(base=4, input_size=(32, 32))


@pytest.fixture
def tiny_weights(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    save_weights("unet-ccp", build_unet(TINY).state_dict(), {"config": TINY.to_dict()}, directory=tmp_path / "w")
    return tmp_path / "w"


@pytest.fixture
def empty_rembg_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "u2net"
    home.mkdir()
    monkeypatch.setenv("U2NET_HOME", str(home))
    return home


def test_onnx_export_outputs_one_foreground_channel_equal_to_one_minus_background(
    tiny_weights: Path, tmp_path: Path
) -> None:
    path = background.export_onnx(tmp_path / "m.onnx", weights_dir=tiny_weights)
    x = np.random.default_rng(0).standard_normal((1, 3, 320, 320)).astype(np.float32)
    (onnx_out,) = ort.InferenceSession(str(path)).run(None, {"input": x})
    model, config, _ = load_unet(directory=tiny_weights)
    with torch.inference_mode():
        expected = background.ForegroundWrapper(model, config)(torch.from_numpy(x)).numpy()
    assert onnx_out.shape == (1, 1, 320, 320)
    assert np.allclose(onnx_out, expected, atol=1e-4)
    assert 0.0 <= onnx_out.min() and onnx_out.max() <= 1.0


def test_project_model_is_active_when_no_official_model_is_installed(
    tiny_weights: Path, empty_rembg_home: Path
) -> None:
    info = background.active_background_model(weights_dir=tiny_weights)
    assert info["name"].startswith("unet-ccp-") and "project U-Net" in info["source"]
    assert Path(info["path"]).is_file() and Path(info["path"]).is_relative_to(empty_rembg_home)


def test_an_installed_official_model_takes_precedence(empty_rembg_home: Path) -> None:
    (empty_rembg_home / "u2net.onnx").write_bytes(b"operator-installed")
    info = background.active_background_model()
    assert info == {
        "name": "u2net",
        "source": "rembg official model (operator-installed)",
        "path": str(empty_rembg_home / "u2net.onnx"),
    }


def test_remove_background_returns_rgba_at_the_photo_size(tiny_weights: Path, empty_rembg_home: Path) -> None:
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (70, 50, 3), dtype=np.uint8)).convert("L")
    cutout = background.remove_background(image, weights_dir=tiny_weights)
    assert cutout.mode == "RGBA" and cutout.size == (50, 70)
