"""Garment features for the complement model: shape, colour read from the garment only, pooled maps."""

import numpy as np
import pytest
from PIL import Image

from recommender.ml.colour.histograms import dominant_colours, lab_histogram, lab_moments
from recommender.ml.colour.lab import rgb_to_lab
from recommender.ml.colour.texture import TEXTURE_DIM, texture_features
from recommender.ml.complement.augment import geometric_jitter, photometric_jitter
from recommender.ml.complement.features import FEATURE_DIM, MAPS_DIM, complement_features, split_features
from recommender.ml.complement.silhouette import SILHOUETTE_DIM, SILHOUETTE_GRID, silhouette_features


class RecordingMaps:
    """A maps source that records the masks it is given and answers their coverage."""

    def __init__(self):
        self.masks = []

    def pooled_maps(self, crops, masks):
        self.masks += list(masks)
        return np.stack([np.full(MAPS_DIM, m.mean(), dtype=np.float32) for m in masks])


def _features(embedding, crop, mask, maps=None):
    return complement_features(
        embeddings=embedding[None], crops=[crop], masks=[mask], embedder=maps or RecordingMaps()
    )[0]


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
    maps = RecordingMaps()
    features = _features(embedding, crop, mask, maps)
    assert features.shape == (FEATURE_DIM,) and features.dtype == np.float32
    assert np.allclose(split_features(features)["embedding"], embedding)
    assert np.isfinite(features).all()
    assert np.allclose(split_features(features)["maps"], mask.mean())  # the maps come last, read under the mask
    assert maps.masks[0] is not None and np.array_equal(maps.masks[0], mask)


def test_without_a_mask_the_maps_are_read_under_the_non_white_garment():
    crop, mask = _garment((20, 30, 120))
    maps = RecordingMaps()
    _features(_unit(), crop, None, maps)
    assert np.array_equal(maps.masks[0], mask)


def test_colour_comes_from_the_mask_not_the_background():
    navy_on_grass, mask = _garment((20, 30, 120), background=(40, 160, 40))
    navy_on_white, _ = _garment((20, 30, 120))
    a = _features(_unit(), navy_on_grass, mask)
    b = _features(_unit(), navy_on_white, None)  # white-filled: non-white pixels
    parts_a, parts_b = split_features(a), split_features(b)
    assert np.allclose(parts_a["lab_histogram"], parts_b["lab_histogram"], atol=1e-6)
    assert np.allclose(parts_a["lab_moments"], parts_b["lab_moments"], atol=1e-4)


def test_a_wrong_sized_embedding_is_refused():
    crop, mask = _garment((200, 10, 10))
    with pytest.raises(ValueError, match="512"):
        _features(np.ones(10), crop, mask)


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


def _grid(features):
    return features[: SILHOUETTE_GRID**2].reshape(SILHOUETTE_GRID, SILHOUETTE_GRID)


def test_the_silhouette_tells_a_long_garment_from_a_short_one_whatever_the_photo_size():
    long = np.zeros((200, 60), dtype=bool)
    long[:, 10:50] = True  # trousers: tall, narrow, full length
    short = np.zeros((60, 60), dtype=bool)
    short[:, 5:55] = True  # shorts: as wide as long
    crop = Image.new("RGB", (60, 200), (30, 40, 90))
    a = silhouette_features(crop, long)
    big = np.kron(long, np.ones((3, 3), dtype=bool))  # the same garment photographed three times larger
    b = silhouette_features(crop.resize((180, 600)), big)
    c = silhouette_features(Image.new("RGB", (60, 60)), short)
    assert a.shape == (SILHOUETTE_DIM,) and a.dtype == np.float32
    assert np.allclose(a, b, atol=0.02)  # scale-free
    assert a[-2] > 1.0 and abs(c[-2]) < 0.3  # log(height / width): tall against square
    assert _grid(a)[:, 0].max() == 0 and _grid(c)[:, 1].min() > 0.9  # letterboxed: the tall box leaves the sides empty


def test_without_a_mask_the_silhouette_is_the_non_white_garment_holes_included():
    crop, mask = _garment((20, 30, 120))
    pixels = np.asarray(crop).copy()
    pixels[25:30, 15:20] = 255  # a white print on the garment
    with_print = Image.fromarray(pixels)
    assert np.allclose(silhouette_features(with_print, None), silhouette_features(crop, mask), atol=1e-6)
    assert silhouette_features(Image.new("RGB", (10, 10), (255, 255, 255)))[-1] == 1.0  # all white: the whole crop


def test_geometric_jitter_cuts_and_stretches_crop_and_mask_together():
    crop, mask = _garment((120, 80, 40))
    rng = np.random.default_rng(0)
    for _ in range(5):
        jittered, jittered_mask = geometric_jitter(crop, mask, rng)
        pixels = np.asarray(jittered)
        assert pixels.shape[:2] == jittered_mask.shape
        assert 0.9 * 60 <= jittered_mask.shape[0] <= 60 and 0.85 * 40 - 1 <= jittered_mask.shape[1] <= 40 / 0.85 + 1
        assert (pixels[~jittered_mask] == 255).all() and jittered_mask.any()
