"""The served embedder is at least as accurate as the plain fp32 224-px run of the same weights."""

from __future__ import annotations

from pathlib import Path

from recommender.ml.embedding.inference import Embedder
from training.embedding.benchmark import served_versus_plain
from training.embedding.data import list_image_tree

#: 40 photos of clothing-small's validation split, 4 per class, at most 224 px (CC0; see README.md there).
FIXTURES = Path(__file__).parent / "fixtures" / "catalog-val"


def test_the_served_configuration_retrieves_at_least_as_well_as_plain_fp32_at_224_px(tmp_path: Path) -> None:
    items = list_image_tree(FIXTURES)
    assert len(items) == 40 and len({label for _, label in items}) == 10
    results = served_versus_plain(items, cache_dir=tmp_path, k=3)
    served, plain = results["served"], results["plain"]
    assert plain["input_size"] == 224 and plain["test_time_flip"] is False
    assert served["input_size"] == Embedder.load(device="cpu", cache_dir=tmp_path).preprocess.size
    assert served["top1"] >= plain["top1"]
    assert served["precision_at_k"] >= plain["precision_at_k"]
    assert served["top1"] > 0.3  # well above chance (3 of 39 neighbours share the class)
