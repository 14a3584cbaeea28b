"""Fill-in-the-blank questions, and training on a feature table whose pairs can be learned."""

import numpy as np
import pytest
import torch

from recommender.ml.complement.features import APPEARANCE_DIM
from recommender.ml.complement.model import ComplementConfig
from training.complement.evaluate import (
    GarmentSet,
    bootstrap_ci,
    evaluate_garments,
    make_questions,
    method_scores,
)
from training.complement.train import complement_pairs, cross_validate, train


def _garments(n_photos=12, seed=0, views=1):
    """Photos with a top and a bottom whose colours are linked: the top's hue fixes the bottom's."""
    rng = np.random.default_rng(seed)
    photo, slot, appearance, split = [], [], [], []
    for p in range(n_photos):
        style = rng.normal(size=APPEARANCE_DIM)
        for s, sign in (("top", 1.0), ("bottom", -1.0)):
            photo.append(f"p{p:03d}")
            slot.append(s)
            appearance.append([sign * style + 0.1 * rng.normal(size=APPEARANCE_DIM) for _ in range(views)])
            split.append("val" if p % 4 == 0 else "train")
    n = len(slot)
    embedding = np.full((n, 512), 512**-0.5)  # the embedder says nothing: colour decides
    return {
        "photo": np.asarray(photo),
        "slot": np.asarray(slot),
        "split": np.asarray(split),
        "embedding": embedding.astype(np.float32),
        "appearance": np.asarray(appearance, dtype=np.float32),
        "ring": np.abs(rng.normal(size=(n, 100))).astype(np.float32),
    }


def _set(table):
    return GarmentSet(table["photo"], table["slot"], table["embedding"], table["appearance"][:, 0], table["ring"])


def test_questions_ask_both_ways_with_the_partner_among_garments_of_its_slot_from_other_photos():
    garments = _set(_garments())
    questions = make_questions(garments, candidates=4, seed=0)
    assert len(questions) == 24 and set(questions.direction) == {"top_to_bottom", "bottom_to_top"}
    for query, row, answer in zip(questions.query, questions.candidates, questions.answer, strict=True):
        assert garments.photo[row[answer]] == garments.photo[query]
        others = [c for i, c in enumerate(row) if i != answer]
        assert all(garments.photo[c] != garments.photo[query] for c in others)
        assert len({garments.coarse[c] for c in row}) == 1 and garments.coarse[row[0]] != garments.coarse[query]


def test_the_same_seed_asks_the_same_questions_and_another_seed_other_ones():
    garments = _set(_garments())
    a, b, c = (make_questions(garments, seed=s) for s in (0, 0, 1))
    assert np.array_equal(a.candidates, b.candidates)
    assert not np.array_equal(a.candidates, c.candidates)


def test_too_few_photos_for_the_candidates_asked_is_a_clear_error():
    with pytest.raises(ValueError, match="too few"):
        make_questions(_set(_garments(n_photos=2)), candidates=4)


def test_random_scores_about_one_in_k_and_every_method_reports_both_directions():
    garments = _set(_garments(n_photos=200))
    result = evaluate_garments(garments, candidates=4, seed=0)
    assert result["questions"] == 400 and result["protocol"] == "same-photo"
    assert set(result["methods"]) == {"colour", "similarity", "random", "ring"}
    assert 0.18 < result["methods"]["random"]["fitb"] < 0.32
    low, high = result["methods"]["random"]["ci95"]
    assert low < result["methods"]["random"]["fitb"] < high


def test_scores_have_one_column_per_candidate():
    garments = _set(_garments())
    questions = make_questions(garments, candidates=3, seed=0)
    scores = method_scores("colour", garments.take(questions.query), garments, questions)
    assert scores.shape == (len(questions), 3)


def test_bootstrap_interval_is_narrow_for_many_photos_and_contains_the_mean():
    correct = np.arange(1000) % 2 == 0
    low, high = bootstrap_ci(correct, np.arange(1000))
    assert low < 0.5 < high and high - low < 0.08


def test_pairs_go_both_ways_and_only_between_complementary_slots():
    photo = np.asarray(["a", "a", "a", "b", "b"])
    slot = np.asarray(["outerwear", "bottom", "dress", "top", "top"])
    pairs = {tuple(p) for p in complement_pairs(photo, slot, np.arange(5))}
    assert pairs == {(0, 1), (1, 0), (2, 0)}


def test_training_learns_pairs_that_are_learnable():
    table = _garments(n_photos=80, views=2)
    net, result, history, n_pairs = train(
        table, config=ComplementConfig(hidden=32, dim=16), steps=30, lr=1e-2, validate_every=15, log=lambda _: None
    )
    assert n_pairs == 2 * sum(1 for p in set(table["photo"][table["split"] == "train"]))
    assert result["same_photo"]["methods"]["model"]["fitb"] > 0.6  # random: 0.25
    assert len(history) == 2 and not net.training


def test_members_are_trained_apart_with_their_own_seeds_and_joined_into_one_model():
    table = _garments(n_photos=80, views=2)
    net, result, history, _ = train(
        table,
        config=ComplementConfig(hidden=0, dim=8, members=2),
        steps=20,
        lr=1e-2,
        validate_every=20,
        log=lambda _: None,
    )
    assert net.config.output_dim == 16 and len(net.members) == 2
    assert [entry["member"] for entry in history] == [0, 1]
    first, second = (m.heads["query_top"].weight for m in net.members)
    assert not torch.allclose(first, second)  # other seeds, other members
    assert result["same_photo"]["methods"]["model"]["fitb"] > 0.5


def test_cross_validation_asks_about_each_ccp_training_photo_once_never_the_validation_or_tagged_ones():
    table = _garments(n_photos=100, views=2)
    table["source"] = np.where(np.arange(len(table["slot"])) < 160, "ccp", "tagged")  # the last 20 photos: tagged
    folds = []
    result = cross_validate(
        table, config=ComplementConfig(hidden=0, dim=8), folds=4, seeds=2, steps=30, lr=1e-2, log=folds.append
    )
    ccp_train_photos = len(set(table["photo"][(table["source"] == "ccp") & (table["split"] == "train")]))
    assert result["questions"] == 2 * ccp_train_photos and result["folds"] == 4 and len(folds) == 4
    assert result["cv_fitb"] > 0.6 and 0 <= result["colour"] <= 1  # learnable pairs; random: 0.25
