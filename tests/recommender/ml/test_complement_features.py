"""Garment features for the complement model: shape, and colour read from the garment only."""

import numpy as np
import pytest
from PIL import Image

from recommender.ml.colour.histograms import dominant_colours, lab_histogram, lab_moments
from recommender.ml.colour.lab import rgb_to_lab
from recommender.ml.colour.texture import TEXTURE_DIM, texture_features
from recommender.ml.complement.augment import photometric_jitter
from recommender.ml.complement.features import FEATURE_DIM, complement_features, split_features


def _unit(seed=0):
    v = np.random.default_rng(seed).normal(size=512).astype(np.float32)
    return v / np.linalg.norm(v)


def _garment(colour, background=(255, 255, 255), stripes=False):
    pixels = np.full((60, 40, 3), background, dtype=np.uint8)
    mask = np.zeros((60, 40), dtype=bool)
    mask[10:50, 8:32] = True
    pixels[mask] = colour
    if stripes:
        pixels[10:50:4, 8:32] = (255, 255, 255)
    return Image.fromarray(pixels), mask


def test_features_are_float32_of_the_declared_size_and_start_with_the_embedding():
    crop, mask = _garment((20, 30, 120))
    embedding = _unit()
    features = complement_features(embedding=embedding, crop=crop, mask=mask)
    assert features.shape == (FEATURE_DIM,) and features.dtype == np.float32
    assert np.allclose(split_features(features)["embedding"], embedding)
    assert np.isfinite(features).all()


def test_colour_comes_from_the_mask_not_the_background():
    navy_on_grass, mask = _garment((20, 30, 120), background=(40, 160, 40))
    navy_on_white, _ = _garment((20, 30, 120))
    a = complement_features(embedding=_unit(), crop=navy_on_grass, mask=mask)
    b = complement_features(embedding=_unit(), crop=navy_on_white, mask=None)  # white-filled: non-white pixels
    parts_a, parts_b = split_features(a), split_features(b)
    assert np.allclose(parts_a["lab_histogram"], parts_b["lab_histogram"], atol=1e-6)
    assert np.allclose(parts_a["lab_moments"], parts_b["lab_moments"], atol=1e-4)


def test_a_wrong_sized_embedding_is_refused():
    crop, mask = _garment((200, 10, 10))
    with pytest.raises(ValueError, match="512"):
        complement_features(embedding=np.ones(10), crop=crop, mask=mask)


def test_lab_histogram_sums_to_one_and_moments_see_lightness():
    dark = rgb_to_lab(np.full((100, 3), 20, dtype=np.uint8))
    light = rgb_to_lab(np.full((100, 3), 230, dtype=np.uint8))
    assert lab_histogram(dark).sum() == pytest.approx(1.0)
    assert lab_histogram(np.zeros((0, 3))).sum() == 0
    assert lab_moments(light)[0] > lab_moments(dark)[0] + 0.5


def test_dominant_colours_put_the_heaviest_colour_first():
    red, blue = rgb_to_lab(np.array([[200, 20, 20]] * 70)), rgb_to_lab(np.array([[20, 20, 200]] * 30))
    colours = dominant_colours(np.concatenate([blue, red])).reshape(3, 4)
    assert colours[0, 3] == pytest.approx(0.7, abs=0.01)
    assert colours[0, 1] > 0.3  # red: a* strongly positive


def test_stripes_have_more_texture_than_a_plain_garment():
    plain, mask = _garment((60, 60, 60))
    striped, _ = _garment((60, 60, 60), stripes=True)
    assert texture_features(plain, mask).shape == (TEXTURE_DIM,)
    assert texture_features(striped, mask)[0] > texture_features(plain, mask)[0] + 0.1


def test_jitter_changes_the_light_but_keeps_the_white_fill_and_the_size():
    crop, mask = _garment((120, 80, 40))
    jittered = photometric_jitter(crop, mask, np.random.default_rng(3))
    pixels = np.asarray(jittered)
    assert jittered.size == crop.size
    assert (pixels[~mask] == 255).all()
    assert not np.array_equal(pixels[mask], np.asarray(crop)[mask])
