"""The training CLI runs end to end on CPU in seconds, resumes, and exports only when asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from recommender.ml.segmentation.inference import Segmenter
from recommender.ml.weights import WEIGHTS_DIR, WeightsError, file_sha256, weights_paths
from training.segmentation.train import main, parse_size

FIXTURES = Path(__file__).parent / "fixtures" / "ccp"


def run(out: Path, *extra: str) -> None:
    main(
        [
            "--ccp",
            str(FIXTURES),
            "--out",
            str(out),
            "--base",
            "4",
            "--size",
            "64x48",
            "--batch-size",
            "1",
            "--threads",
            "1",
            "--device",
            "cpu",
            "--no-progress",
            *extra,
        ]
    )


def shipped_hash() -> str | None:
    path = weights_paths("unet-ccp", WEIGHTS_DIR)[0]
    return file_sha256(path) if path.exists() else None


def test_training_two_steps_on_cpu_writes_checkpoints_and_a_metrics_line(tmp_path: Path) -> None:
    before = shipped_hash()
    run(tmp_path / "run", "--epochs", "3", "--max-steps", "2")
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 1 and lines[0]["step"] == 2
    assert set(lines[0]["val_iou"]) == {"background", "top", "bottom", "dress"}
    checkpoint = torch.load(tmp_path / "run" / "last.pt", weights_only=False)
    assert {"model", "optimiser", "scheduler", "epoch", "rng"} <= set(checkpoint)
    assert (tmp_path / "run" / "best.pt").exists()
    assert shipped_hash() == before  # no --export: the shipped weights are untouched


def test_resumed_training_continues_from_the_last_epoch_and_exports(tmp_path: Path) -> None:
    run(tmp_path / "run", "--epochs", "2", "--max-steps", "2")
    run(tmp_path / "run", "--epochs", "2", "--resume", "--export", "--weights-dir", str(tmp_path / "weights"))
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2]
    assert lines[-1]["step"] == 4
    manifest = json.loads((tmp_path / "weights" / "unet-ccp.json").read_text())
    assert manifest["config"]["base"] == 4 and manifest["classes"] == ["background", "top", "bottom", "dress"]
    assert manifest["command"].startswith("python -m training.segmentation.train")
    assert len(manifest["split"]["val_ids"]) == 1 and manifest["split"]["train"] == 2
    segmenter = Segmenter.load("cpu", directory=tmp_path / "weights")
    assert segmenter.config.input_size == (64, 48)


def test_size_argument_is_height_by_width() -> None:
    assert parse_size("256x176") == (256, 176)
    with pytest.raises(Exception, match="HxW"):
        parse_size("big")


def test_finetuning_starts_from_shipped_weights_at_a_new_size_and_records_its_parent(tmp_path: Path) -> None:
    run(tmp_path / "first", "--epochs", "1", "--max-steps", "1", "--export", "--weights-dir", str(tmp_path / "parent"))
    parent = json.loads((tmp_path / "parent" / "unet-ccp.json").read_text())
    run(
        tmp_path / "second",
        *("--epochs", "1", "--max-steps", "1", "--size", "80x64", "--base", "8"),
        *("--finetune", "unet-ccp", "--finetune-dir", str(tmp_path / "parent")),
        *("--export", "--weights-dir", str(tmp_path / "child")),
    )
    child = json.loads((tmp_path / "child" / "unet-ccp.json").read_text())
    assert child["config"]["base"] == 4  # the parent's width wins over --base
    assert child["config"]["input_size"] == [80, 64]
    assert child["init"] == f"finetuned from unet-ccp@{parent['sha256'][:12]} (trained at 64x48, scratch)"
    assert Segmenter.load("cpu", directory=tmp_path / "child").config.input_size == (80, 64)


def test_finetuning_from_corrupt_weights_fails_before_training(tmp_path: Path) -> None:
    run(tmp_path / "first", "--epochs", "1", "--max-steps", "1", "--export", "--weights-dir", str(tmp_path / "parent"))
    tensors = tmp_path / "parent" / "unet-ccp.safetensors"
    tensors.write_bytes(tensors.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(WeightsError, match="corrupt"):
        run(tmp_path / "second", "--epochs", "1", "--finetune", "unet-ccp", "--finetune-dir", str(tmp_path / "parent"))
    assert not (tmp_path / "second" / "metrics.jsonl").exists()
