"""The stylist's priors and look rules, without a database."""

from __future__ import annotations

import json

import pytest

from recommender.ml.stylist.looks import (
    Garb,
    Scored,
    layer_preference,
    layer_term,
    near_duplicates,
    pick_varied,
    piece_score,
    split_counts,
)
from recommender.ml.stylist.priors import PriorsError, load_priors, priors_from_file, priors_write
from recommender.ml.stylist.street import StreetGarment
from training.stylist.fit import fit_tables


def _outfit(photo, *garments):
    return [StreetGarment(photo, fine, category, family) for fine, category, family in garments]


def test_fitted_colours_follow_the_street_a_red_top_meets_black_more_than_red():
    outfits = [_outfit(f"{n}", ("t-shirt", "t-shirt", "red"), ("jeans", "pants", "black")) for n in range(30)]
    outfits += [_outfit("r", ("t-shirt", "t-shirt", "red"), ("pants", "pants", "red"))]
    outfits += [_outfit(f"b{n}", ("t-shirt", "t-shirt", "white"), ("pants", "pants", "red")) for n in range(5)]
    tables = fit_tables(outfits, [], alpha=2)
    row = tables["colours"]["top>bottom"]["red"]
    assert row["black"] > 0.8 > row["red"]
    assert abs(sum(row.values()) - 1) < 1e-3


def test_priors_refuse_a_file_whose_tables_were_edited(tmp_path):
    path = tmp_path / "p.json"
    priors_write(path, {"categories": {}, "colours": {}}, {"name": "p"})
    assert priors_from_file(path).version
    data = json.loads(path.read_text())
    data["tables"]["colours"] = {"top>bottom": {"red": {"red": 1.0}}}
    path.write_text(json.dumps(data))
    with pytest.raises(PriorsError):
        priors_from_file(path)


def test_shipped_priors_prefer_neutral_bottoms_for_a_red_top_and_trousers_for_a_tee():
    priors = load_priors()
    assert priors.colour_score("top", "red", "bottom", "black") > priors.colour_score("top", "red", "bottom", "red")
    assert priors.category_score("t-shirt", "bottom", "pants") > priors.category_score("t-shirt", "bottom", "shorts")


def _garb(pk, category, family, pattern="plain", slot="bottom", lightness=None):
    return Garb(pk, slot, category, family, pattern, lightness)


def test_variety_never_repeats_a_category_and_colour_while_anything_else_is_left():
    scored = [Scored(_garb(n, "shirt", "white", slot="top"), 5.0 - n * 0.01, "top") for n in range(5)]
    scored += [Scored(_garb(10, "t-shirt", "navy", slot="top"), 1.0, "top")]
    scored += [Scored(_garb(11, "shirt", "grey", slot="top"), 0.5, "top")]
    picked = [s.garb for s in pick_varied(scored, 3)]
    assert [g.pk for g in picked] == [0, 10, 11]
    assert not any(near_duplicates(a, b) for i, a in enumerate(picked) for b in picked[i + 1 :])


def test_a_print_with_a_print_scores_below_a_plain_piece():
    priors = load_priors()
    top = _garb(1, "t-shirt", "red", "printed", slot="top")
    plain, printed = _garb(2, "pants", "black"), _garb(3, "pants", "black", "printed")
    assert piece_score(priors, top, plain, look_slot="bottom") > piece_score(priors, top, printed, look_slot="bottom")


def test_a_layer_like_those_worn_over_dresses_like_this_one_beats_a_coat():
    priors = load_priors()
    dress = _garb(1, "dress", "red", slot="dress")
    light = layer_preference(priors, dress, {"jacket": 10, "cardigan": 4})
    assert layer_term(light, {"jacket": 12}) > layer_term(light, {"coat": 12})


def test_a_dress_whose_street_look_alikes_seldom_wear_a_layer_is_offered_fewer_coats():
    priors = load_priors()
    dress = _garb(1, "dress", "blue", slot="dress")
    summer = layer_preference(priors, dress, {"": 14, "coat": 1})
    winter = layer_preference(priors, dress, {"": 3, "coat": 8, "jacket": 4})
    assert summer["coat"] < priors.layer_types("dress")["coat"] < winter["coat"]
    assert abs(sum(summer.values()) - 1) < 1e-9


@pytest.mark.parametrize(
    ("k", "available", "expected"),
    [
        (8, {"bottom": 50, "shoes": 50}, {"bottom": 5, "shoes": 3}),
        (4, {"bottom": 50, "shoes": 50}, {"bottom": 3, "shoes": 1}),
        (6, {"bottom": 50, "shoes": 0}, {"bottom": 6, "shoes": 0}),
        (6, {"bottom": 2, "shoes": 50}, {"bottom": 2, "shoes": 4}),
        (1, {"bottom": 5, "shoes": 5}, {"bottom": 1}),
    ],
)
def test_a_slot_short_of_pieces_gives_its_places_to_the_other(k, available, expected):
    assert split_counts(k, ("bottom", "shoes"), available) == expected
