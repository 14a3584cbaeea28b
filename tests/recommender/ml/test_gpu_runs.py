"""The prepared GPU runs, smoke-tested on CPU with tiny packs: packs, training scripts, parts and export."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from recommender.ml.segmentation.inference import Segmenter
from recommender.ml.weights import WEIGHTS_DIR, WeightsError, file_sha256, weights_paths
from training.gpu import packs, train_embedder, train_segmentation
from training.gpu.export import export_run
from training.gpu.parts import join_parts, save_parts
from training.segmentation.resnet_unet import ResNet34UNet

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    """clothing-small's layout (train/ and validation/) over the committed catalog fixtures."""
    root = tmp_path_factory.mktemp("catalog")
    for split in ("train", "validation"):
        (root / split).mkdir()
        for class_dir in sorted(p for p in (FIXTURES / "clothing").iterdir() if p.is_dir()):
            os.symlink(class_dir, root / split / class_dir.name)
    return root


@pytest.fixture(scope="module")
def seg_pack(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("packs") / "segmentation.npz"
    packs.segmentation_pack(FIXTURES / "ccp", out, size=(64, 32), progress=False)
    return out


@pytest.fixture(scope="module")
def emb_pack(tmp_path_factory, catalog: Path) -> Path:
    out = tmp_path_factory.mktemp("packs") / "embedder.npz"
    packs.embedder_pack(catalog, FIXTURES / "ccp", out, size=32, progress=False)
    return out


def test_segmentation_pack_holds_photos_labels_and_the_fixed_split_without_pickles(seg_pack: Path) -> None:
    with np.load(seg_pack, allow_pickle=False) as raw:
        assert raw["images"].dtype == np.uint8 and raw["offsets"].dtype == np.int64
    pack = packs.read_pack(seg_pack)
    assert pack["images"].shape == (3, 64, 32, 3)
    assert pack["labels"].shape == (3, 64, 32) and set(np.unique(pack["labels"])) <= {0, 1, 2, 3}
    assert sorted(pack["split"].tolist()) == [packs.TRAIN, packs.TRAIN, packs.VAL]
    assert pack["meta"]["split"]["val_ids"] == [str(pack["ids"][pack["split"] == packs.VAL][0])]


def test_embedder_pack_letterboxes_catalog_and_street_crops_at_the_serving_size(emb_pack: Path) -> None:
    pack = packs.read_pack(emb_pack)
    assert pack["images"].shape[1:] == (32, 32, 3)
    assert {packs.CATALOG, packs.STREET} == set(pack["domains"].tolist())
    assert (pack["split"][pack["domains"] == packs.CATALOG] == packs.TRAIN).sum() == 6


def test_the_tree_size_counts_tracked_files() -> None:
    tracked = packs.tree_bytes(Path(__file__).resolve().parents[3])
    assert tracked > weights_paths("resnet34-garments", WEIGHTS_DIR)[0].stat().st_size


def test_parts_stay_under_the_limit_and_join_back_hash_checked(tmp_path: Path) -> None:
    state = {f"w{i}": torch.randn(64, 64) for i in range(6)}  # 8 KiB each in fp16
    files = save_parts(state, tmp_path, "m", max_bytes=300 * 1024 + 20 * 1024)
    parts = [p for p in files if p.suffix == ".safetensors"]
    assert len(parts) == 1
    files = save_parts(state, tmp_path / "small", "m", max_bytes=256 * 1024 + 17 * 1024)
    parts = [p for p in files if p.suffix == ".safetensors"]
    assert len(parts) == 3 and all(p.stat().st_size <= 256 * 1024 + 17 * 1024 for p in parts)
    joined = join_parts(tmp_path / "small", "m")
    assert set(joined) == set(state)
    assert torch.allclose(joined["w3"], state["w3"], atol=1e-2)
    parts[1].write_bytes(parts[1].read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(WeightsError, match="sha256"):
        join_parts(tmp_path / "small", "m")


def test_segmentation_script_trains_on_cpu_within_its_budget_and_exports_as_a_servable_model(
    seg_pack: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    before = file_sha256(weights_paths("unet-ccp", WEIGHTS_DIR)[0])
    summary = train_segmentation.main(
        [
            *("--pack", str(seg_pack), "--out", str(out), "--minutes", "1", "--epochs", "2"),
            *("--batch-size", "2", "--val-every", "1", "--device", "cpu", "--threads", "1"),
        ]
    )
    assert summary is None  # main prints; the files are the result
    metrics = json.loads((out / "metrics.json").read_text())
    assert [record["epoch"] for record in metrics["history"]] == [1, 2]
    assert "val_miou" in metrics["history"][-1]
    assert metrics["manifest"]["encoder_weights"]["name"] == "resnet34-garments"
    assert metrics["manifest"]["config"]["input_size"] == [64, 32]
    assert all((out / name).stat().st_size <= 16 * 1024 * 1024 for name in metrics["files"])
    assert len(metrics["files"]) + 1 <= 8  # parts + index + metrics.json: what the device gives back
    manifest = export_run(out, "unet-gpu", weights_dir=tmp_path / "weights")
    assert (tmp_path / "weights" / "unet-gpu.md").read_text().startswith("# unet-gpu")
    assert manifest["architecture"] == "resnet34-unet"
    segmenter = Segmenter.load("cpu", "unet-gpu", tmp_path / "weights", tta_flip=True)
    assert isinstance(segmenter.model, ResNet34UNet)
    assert file_sha256(weights_paths("unet-ccp", WEIGHTS_DIR)[0]) == before


def test_segmentation_script_stops_at_its_wall_clock_budget(seg_pack: Path, tmp_path: Path) -> None:
    train_segmentation.main(
        [
            *("--pack", str(seg_pack), "--out", str(tmp_path), "--minutes", "0.01", "--epochs", "50"),
            *("--batch-size", "2", "--device", "cpu", "--threads", "1"),
        ]
    )
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert len(metrics["history"]) < 50 and "val_miou" in metrics["history"][-1]


def test_embedder_script_trains_balanced_batches_and_export_protects_the_shipped_embedder(
    emb_pack: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    train_embedder.main(
        [
            *("--pack", str(emb_pack), "--out", str(out), "--minutes", "1", "--epochs", "1"),
            *("--batch-size", "8", "--device", "cpu", "--threads", "1"),
        ]
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["manifest"]["input_size"] == 32
    assert metrics["manifest"]["init"].startswith("finetuned from resnet34-garments@")
    assert {"catalog_top1", "street_p10", "score"} <= set(metrics["history"][-1])
    with pytest.raises(WeightsError, match="another name"):
        export_run(out, "resnet34-garments", weights_dir=tmp_path / "weights")
    manifest = export_run(out, "resnet34-garments-gpu", weights_dir=tmp_path / "weights")
    assert manifest["architecture"] == "resnet34" and manifest["test_time_flip"] is True


def test_balanced_batches_draw_street_and_catalog_of_every_class() -> None:
    pools = {
        (0, packs.CATALOG): np.arange(0, 90),
        (0, packs.STREET): np.arange(90, 100),
        (1, packs.CATALOG): np.arange(100, 110),
    }
    picks = train_embedder.balanced_batch(pools, [0, 1], 4000, np.random.default_rng(0))
    street_share = np.isin(picks, np.arange(90, 100)).mean()
    class_one_share = (picks >= 100).mean()
    assert 0.2 < street_share < 0.3  # half of class 0's draws, although street is 10 % of its photos
    assert 0.45 < class_one_share < 0.55


def test_the_schedule_is_fitted_to_the_steady_pace_not_the_first_epochs_start_up() -> None:
    from training.gpu.budget import PACE_EPOCH, WallClock

    clock = WallClock(6.0, reserve=20.0)
    clock.started -= 12.5  # a slow first epoch (11.8 s on a GPU) and a steady second one (0.7 s)
    assert PACE_EPOCH == 2
    assert clock.affordable_epochs(0.7, done=2) >= 450  # (360 - 20 - 12.5) / 0.7 + 2
    assert clock.affordable_epochs(11.8, done=1) < 30  # what planning after the first epoch gave
