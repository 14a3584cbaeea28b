"""The quality and speed commands of shop by photo run analyze_photo's pipeline and print one JSON line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from recommender.models import PhotoSearch
from training.benchmarks.photo_search import presence_scores

CCP = Path(__file__).parent / "ml" / "fixtures" / "ccp"


def test_presence_scores_count_each_slot_as_found_or_missed():
    truth = [{"top", "bottom"}, {"top"}, {"dress"}, {"top", "bottom"}]
    found = [{"top", "bottom"}, {"top", "dress"}, set(), {"top"}]
    scores = presence_scores(truth, found)
    assert scores["top"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "tp": 3, "fp": 0, "fn": 0}
    assert scores["bottom"] == {"precision": 1.0, "recall": 0.5, "f1": 0.667, "tp": 1, "fp": 0, "fn": 1}
    assert scores["dress"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 1, "fn": 1}


@pytest.mark.django_db(transaction=True)
def test_evaluate_photo_search_scores_presence_on_labelled_photos(embedder_weights_dir):
    out = io.StringIO()
    call_command("evaluate_photo_search", ccp=str(CCP), split="all", no_progress=True, stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["images"] == 3 and result["errors"] == 0
    assert set(result["slots"]) == {"top", "bottom", "dress"}
    for slot, scores in result["slots"].items():
        assert scores["tp"] + scores["fn"] == result["support"][slot]
    assert result["support"]["top"] >= 2 and result["slots"]["top"]["recall"] == 1.0
    assert not PhotoSearch.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_benchmark_photo_search_reports_each_step_p50_and_p95(embedder_weights_dir):
    out = io.StringIO()
    call_command("benchmark_photo_search", ccp=str(CCP), n=2, side=512, threads=1, split="all", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["photos"] == 2 and result["side"] == 512 and result["threads"] == 1
    assert set(result["ms"]) == {"decode", "segment", "embed", "match", "total", "wall", "cpu"}
    assert all(0 < v["p50"] <= v["p95"] for k, v in result["ms"].items() if k in ("segment", "total", "wall"))
