"""The exact commands the project is measured with: each prints one JSON line last."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

FIXTURES = Path(__file__).parent / "ml" / "fixtures"


def last_json_line(out: io.StringIO) -> dict:
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_evaluate_segmentation_prints_iou_per_class_for_a_ccp_folder():
    out = io.StringIO()
    call_command("evaluate_segmentation", ccp=str(FIXTURES / "ccp"), no_progress=True, stdout=out)
    result = last_json_line(out)
    assert result["images"] == 3
    assert set(result["iou"]) == {"background", "top", "bottom", "dress"}
    assert result["miou"] == pytest.approx(sum(result["iou"].values()) / 4, abs=1e-3)
    assert result["iou"]["top"] > 0.3  # the shipped U-Net, not an all-background guess


def test_evaluate_retrieval_prints_top1_and_precision_at_k():
    out = io.StringIO()
    tree = FIXTURES / "clothing"
    call_command("evaluate_retrieval", gallery=tree, queries=tree, k=1, no_cache=True, stdout=out)
    result = last_json_line(out)
    assert {"queries", "gallery", "k", "top1", "precision_at_k", "colour_agreement", "ranking"} <= set(result)
    assert result["ranking"] == "look" and 0 <= result["colour_agreement"] <= 1
    assert result["queries"] == result["gallery"] == len(list(tree.glob("*/*.jpg")))
    assert result["k"] == 1 and 0 <= result["top1"] <= 1


def test_evaluation_commands_refuse_folders_that_are_not_datasets(tmp_path):
    with pytest.raises(CommandError):
        call_command("evaluate_segmentation", ccp=str(tmp_path), no_progress=True, stdout=io.StringIO())
    with pytest.raises(CommandError, match="not a folder"):
        call_command("evaluate_retrieval", gallery=tmp_path / "nope", queries=tmp_path, stdout=io.StringIO())
