"""A two-step CPU training run on tiny synthetic data checkpoints, resumes and exports loadable weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.io import savemat

from core.images import open_image
from recommender.ml.embedding.inference import Embedder
from recommender.ml.weights import file_sha256
from training.embedding import train
from training.embedding.data import list_image_tree

FIXTURES = Path(__file__).parent / "fixtures" / "clothing"
LABELS = ["null", "jeans", "t-shirt", "skin"]


def make_catalog(root: Path) -> Path:
    for split in ("train", "validation"):
        for label, colour in (("pants", (20, 30, 120)), ("t-shirt", (200, 40, 40))):
            (root / split / label).mkdir(parents=True)
            for i in range(3):
                Image.new("RGB", (40, 56), tuple(c + 10 * i for c in colour)).save(root / split / label / f"{i}.jpg")
    return root


def make_ccp(root: Path) -> Path:
    (root / "photos").mkdir(parents=True)
    (root / "annotations" / "pixel-level").mkdir(parents=True)
    coarse = {"null": "background", "jeans": "bottom", "t-shirt": "top", "skin": "background"}
    (root / "coarse_labels.json").write_text(
        json.dumps(
            {
                "classes": ["background", "top", "bottom", "dress"],
                "labels": [{"index": i, "name": n, "coarse": coarse[n]} for i, n in enumerate(LABELS)],
            }
        )
    )
    for sample in range(1, 5):
        labels = np.zeros((96, 64), dtype=np.uint8)
        labels[5:45, 10:54] = LABELS.index("t-shirt")
        labels[45:90, 12:52] = LABELS.index("jeans")
        Image.new("RGB", (64, 96), (90, 90, 90 + sample)).save(root / "photos" / f"{sample:04d}.jpg")
        savemat(root / "annotations" / "pixel-level" / f"{sample:04d}.mat", {"groundtruth": labels})
    return root


def run(tmp_path: Path, *extra: str) -> None:
    train.main(
        [
            "--catalog",
            str(tmp_path / "catalog"),
            "--ccp",
            str(tmp_path / "ccp"),
            "--out",
            str(tmp_path / "run"),
            "--size",
            "32",
            "--batch-size",
            "4",
            "--threads",
            "1",
            "--device",
            "cpu",
            "--init",
            "scratch",
            *extra,
        ]
    )


def test_two_training_steps_write_a_checkpoint_metrics_and_loadable_weights(tmp_path):
    make_catalog(tmp_path / "catalog")
    make_ccp(tmp_path / "ccp")
    run(tmp_path, "--epochs", "1", "--max-steps", "2", "--export", "--weights-dir", str(tmp_path / "weights"))

    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [(r["epoch"], r["step"]) for r in records] == [(1, 2)]
    assert {"catalog_top1", "catalog_p10", "street_p10", "train_loss"} <= records[0].keys()
    manifest = json.loads((tmp_path / "weights" / "resnet34-garments.json").read_text())
    assert manifest["input_size"] == 32
    assert manifest["command"].startswith("python -m training.embedding.train --catalog")
    assert manifest["data"]["street_validation_crops"] == 2

    embedder = Embedder.load(device="cpu", directory=tmp_path / "weights", backend="torch")
    vectors = embedder.embed([open_image(path) for path, _ in list_image_tree(FIXTURES)])
    assert vectors.shape == (6, 512)
    assert embedder.version == file_sha256(tmp_path / "weights" / "resnet34-garments.safetensors")


def test_a_resumed_run_continues_from_the_last_epoch(tmp_path):
    make_catalog(tmp_path / "catalog")
    make_ccp(tmp_path / "ccp")
    run(tmp_path, "--epochs", "1", "--max-steps", "1")
    run(tmp_path, "--epochs", "2", "--max-steps", "2", "--resume")

    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [(r["epoch"], r["step"]) for r in records] == [(1, 1), (2, 2)]


def test_finetuning_starts_from_shipped_weights_and_records_its_parent(tmp_path):
    make_catalog(tmp_path / "catalog")
    make_ccp(tmp_path / "ccp")
    run(tmp_path, "--epochs", "1", "--max-steps", "1", "--export", "--weights-dir", str(tmp_path / "parent"))
    parent = Embedder.load(device="cpu", directory=tmp_path / "parent", backend="torch")
    images = [open_image(path) for path, _ in list_image_tree(FIXTURES)]
    before = parent.embed(images)

    train.main(
        [
            *("--catalog", str(tmp_path / "catalog"), "--ccp", str(tmp_path / "ccp")),
            *("--out", str(tmp_path / "child-run"), "--size", "32", "--batch-size", "4", "--threads", "1"),
            *("--device", "cpu", "--epochs", "1", "--max-steps", "1", "--lr", "1e-9"),
            *("--finetune", "resnet34-garments", "--finetune-dir", str(tmp_path / "parent")),
            *("--export", "--weights-dir", str(tmp_path / "child")),
        ]
    )
    manifest = json.loads((tmp_path / "child" / "resnet34-garments.json").read_text())
    assert manifest["init"].startswith(f"finetuned from resnet34-garments@{parent.version[:12]} (1 epochs at 32 px")
    child = Embedder.load(device="cpu", directory=tmp_path / "child", backend="torch")
    # A near-zero learning rate keeps the parent's weights: the child starts from them, not from scratch.
    # (BatchNorm statistics still move in one training step, so the vectors agree closely, not exactly.)
    assert (child.embed(images) * before).sum(axis=1).min() > 0.95
