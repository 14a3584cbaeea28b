"""``manage.py evaluate_complements``: the FITB numbers the project is measured with, one JSON line last."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from recommender.ml.complement.inference import get_complement_model
from tests.conftest import make_complement_weights

FIXTURES = Path(__file__).parent / "ml" / "fixtures"
KEYS = {"questions", "fitb", "top_to_bottom", "bottom_to_top", "method", "protocol"}


@pytest.fixture
def complement_weights(tmp_path, settings, embedder_weights_dir):
    from recommender.ml.weights import read_manifest

    embedder_sha = read_manifest("resnet34-garments", directory=embedder_weights_dir)["sha256"]
    directory = make_complement_weights(tmp_path / "complement", embedder_sha256=embedder_sha)
    settings.RECOMMENDER_COMPLEMENT_WEIGHTS = {"name": "complement-ccp", "directory": str(directory)}
    yield directory
    get_complement_model.cache_clear()


def _run(**options) -> tuple[dict, str]:
    out = io.StringIO()
    call_command("evaluate_complements", ccp=str(FIXTURES / "ccp"), no_progress=True, stdout=out, **options)
    lines = out.getvalue().strip().splitlines()
    return json.loads(lines[-1]), out.getvalue()


def test_the_command_asks_both_ways_for_every_outfit_and_prints_the_json_line_last(complement_weights):
    result, text = _run(candidates=2)
    assert set(result) == KEYS
    # Two fixture photos show a top and a bottom (the third is a dress): two questions each.
    assert result["questions"] == 4
    assert result["method"] == "model" and result["protocol"] == "same-photo"
    assert result["fitb"] == pytest.approx((result["top_to_bottom"] + result["bottom_to_top"]) / 2)
    for method in ("model", "colour", "similarity", "random", "ring (leak)"):
        assert method in text  # every method is scored on the same questions in the same run
    assert "warning" not in text  # the test model expects the test embedder


def test_baselines_are_reported_on_the_same_questions_by_method(complement_weights):
    colour, _ = _run(candidates=2, method="colour")
    random, _ = _run(candidates=2, method="random", seed=0)
    assert colour["method"] == "colour" and random["method"] == "random"
    assert colour["questions"] == random["questions"] == 4


def test_the_catalog_query_protocol_replaces_each_question_by_a_catalog_item(complement_weights):
    result, text = _run(candidates=2, query_gallery=str(FIXTURES / "clothing"))
    assert set(result) == KEYS | {"query_match"}  # the catalog protocol also says how questions were matched
    assert result["protocol"] == "catalog-query" and result["questions"] == 4
    assert result["query_match"] == "look"  # by default the catalog item that looks like the garment
    assert "ring" not in text  # the leak probe only means something on same-photo questions


@pytest.mark.parametrize("query_match", ["look", "embedding"])
def test_the_json_line_says_how_catalog_questions_were_matched_and_warns_when_colour_is_lost(
    complement_weights, query_match
):
    result, text = _run(
        candidates=2, method="colour", query_gallery=str(FIXTURES / "clothing"), query_match=query_match
    )
    assert set(result) == KEYS | {"query_match"}
    assert result["protocol"] == "catalog-query" and result["query_match"] == query_match
    lines = text.strip().splitlines()
    assert f"catalog-query ({query_match} match)" in lines[0]
    warned = [line for line in lines if line.startswith("warning: colour is at")]
    # the warning comes before the JSON line (still last), exactly when colour is below 0.30
    assert warned == ([lines[-2]] if result["fitb"] < 0.30 else [])
    if warned:
        assert f"colour is at {result['fitb']:.3f}" in warned[0] and "cannot tell methods apart" in warned[0]


def test_an_unknown_query_match_is_refused(complement_weights):
    with pytest.raises(CommandError):
        _run(candidates=2, query_gallery=str(FIXTURES / "clothing"), query_match="colour")


def test_asking_for_more_candidates_than_the_folder_holds_is_a_clear_error(complement_weights):
    with pytest.raises(CommandError, match="too few"):
        _run(candidates=4)


def test_a_folder_that_is_not_ccp_is_refused(complement_weights, tmp_path):
    with pytest.raises(CommandError):
        call_command("evaluate_complements", ccp=str(tmp_path), no_progress=True, stdout=io.StringIO())
