"""The ResNet34 U-Net: shapes, its encoder started from the shipped embedder (hash-checked), training and serving."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image

from recommender.ml.segmentation.inference import Segmenter
from recommender.ml.segmentation.model import UNetConfig, build_unet, load_unet
from recommender.ml.weights import WEIGHTS_DIR, WeightsError, load_weights, weights_paths
from training.segmentation.resnet_unet import ResNet34UNet, freeze_encoder_stages, load_encoder_from_embedder
from training.segmentation.train import main

FIXTURES = Path(__file__).parent / "fixtures" / "ccp"
EMBEDDER = "resnet34-garments"


@pytest.fixture(scope="module")
def embedder_state() -> dict[str, torch.Tensor]:
    return load_weights(EMBEDDER).state_dict


def copy_embedder(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for path in weights_paths(EMBEDDER, WEIGHTS_DIR):
        shutil.copy(path, directory / path.name)
    return directory


@pytest.mark.parametrize(("height", "width"), [(64, 64), (96, 64), (70, 50)])
def test_resnet34_unet_returns_logits_for_every_class_at_the_input_size(height: int, width: int) -> None:
    model = build_unet(UNetConfig(architecture="resnet34-unet", input_size=(64, 64))).eval()
    with torch.inference_mode():
        logits = model(torch.randn(2, 3, height, width))
    assert logits.shape == (2, 4, height, width)


def test_resnet34_unet_config_needs_multiples_of_32_and_survives_the_manifest() -> None:
    with pytest.raises(ValueError, match="multiples of 32"):
        UNetConfig(architecture="resnet34-unet", input_size=(320, 240))
    config = UNetConfig(architecture="resnet34-unet", input_size=(384, 256))
    assert UNetConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match="architecture"):
        UNetConfig(architecture="vit")


def test_encoder_starts_as_the_embedders_trunk(embedder_state) -> None:
    model = build_unet(UNetConfig(architecture="resnet34-unet", input_size=(64, 64)))
    assert not torch.equal(model.encoder.layer4[2].conv2.weight, embedder_state["trunk.layer4.2.conv2.weight"])
    source = load_encoder_from_embedder(model)
    assert source.startswith(f"{EMBEDDER}@")
    assert torch.equal(model.encoder.conv1.weight, embedder_state["trunk.conv1.weight"])
    assert torch.equal(model.encoder.layer4[2].bn2.running_var, embedder_state["trunk.layer4.2.bn2.running_var"])


def test_corrupt_embedder_weights_fail_before_the_encoder_is_touched(tmp_path: Path) -> None:
    directory = copy_embedder(tmp_path / "weights")
    tensors = directory / f"{EMBEDDER}.safetensors"
    data = bytearray(tensors.read_bytes())
    data[-100] ^= 0xFF
    tensors.write_bytes(bytes(data))
    model = build_unet(UNetConfig(architecture="resnet34-unet", input_size=(64, 64)))
    before = model.encoder.conv1.weight.clone()
    with pytest.raises(WeightsError, match="corrupt"):
        load_encoder_from_embedder(model, directory=directory)
    assert torch.equal(model.encoder.conv1.weight, before)


def test_an_unexpected_embedder_version_is_refused(tmp_path: Path) -> None:
    model = build_unet(UNetConfig(architecture="resnet34-unet", input_size=(64, 64)))
    with pytest.raises(WeightsError, match="expected"):
        load_encoder_from_embedder(model, expected_sha256="0" * 64)


def test_frozen_stages_get_no_gradient_and_keep_their_statistics(embedder_state) -> None:
    model = build_unet(UNetConfig(architecture="resnet34-unet", input_size=(64, 64)))
    load_encoder_from_embedder(model)
    frozen = freeze_encoder_stages(model, 2)
    assert frozen == ["conv1", "bn1", "layer1"]
    assert not model.encoder.layer1[0].conv1.weight.requires_grad
    assert model.encoder.layer2[0].conv1.weight.requires_grad
    from training.segmentation.resnet_unet import train_mode

    train_mode(model, frozen)
    model(torch.randn(2, 3, 64, 64)).sum().backward()
    assert model.encoder.layer1[0].conv1.weight.grad is None
    assert torch.equal(model.encoder.bn1.running_mean, embedder_state["trunk.bn1.running_mean"])
    assert not torch.equal(model.encoder.layer2[0].bn1.running_mean, embedder_state["trunk.layer2.0.bn1.running_mean"])


def run(out: Path, *extra: str) -> None:
    main(
        [
            *("--ccp", str(FIXTURES), "--out", str(out), "--arch", "resnet34-unet", "--size", "64x64"),
            *("--batch-size", "2", "--threads", "1", "--device", "cpu", "--no-progress"),
            *extra,
        ]
    )


def test_trainer_trains_the_resnet34_unet_and_ships_only_what_differs_from_the_embedder(tmp_path: Path) -> None:
    run(
        tmp_path / "run",
        *("--epochs", "1", "--max-steps", "1", "--freeze-encoder", "5", "--name", "unet-r34"),
        *("--export", "--weights-dir", str(tmp_path / "weights")),
    )
    manifest = json.loads((tmp_path / "weights" / "unet-r34.json").read_text())
    embedder = json.loads(weights_paths(EMBEDDER, WEIGHTS_DIR)[1].read_text())
    assert manifest["architecture"] == "resnet34-unet"
    assert manifest["config"]["architecture"] == "resnet34-unet"
    assert manifest["encoder_weights"]["sha256"] == embedder["sha256"]
    assert manifest["encoder_weights"]["shared_tensors"] > 100
    assert manifest["bytes"] < 10_000_000  # the decoder alone: the encoder stays in the embedder's file
    segmenter = Segmenter.load("cpu", "unet-r34", tmp_path / "weights")
    assert isinstance(segmenter.model, ResNet34UNet)
    ((labels, confidence),) = segmenter.predict([Image.new("RGB", (50, 80), (200, 30, 30))])
    assert labels.shape == (80, 50) and confidence.shape == (80, 50)


def test_a_shared_encoder_loads_only_with_the_embedder_version_it_was_trained_with(tmp_path: Path) -> None:
    run(
        tmp_path / "run",
        *("--epochs", "1", "--max-steps", "1", "--freeze-encoder", "5", "--name", "unet-r34"),
        *("--export", "--weights-dir", str(tmp_path / "weights")),
    )
    manifest_path = tmp_path / "weights" / "unet-r34.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["encoder_weights"]["sha256"] = "f" * 64
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match="shares its encoder"):
        load_unet("unet-r34", directory=tmp_path / "weights")


def test_trainer_refuses_corrupt_embedder_weights_before_the_first_step(tmp_path: Path) -> None:
    directory = copy_embedder(tmp_path / "weights")
    tensors = directory / f"{EMBEDDER}.safetensors"
    tensors.write_bytes(tensors.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(WeightsError, match="corrupt"):
        run(tmp_path / "run", "--epochs", "1", "--finetune-dir", str(directory))
    assert not (tmp_path / "run" / "metrics.jsonl").exists()
