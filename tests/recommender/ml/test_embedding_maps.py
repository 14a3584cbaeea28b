"""The embedder's middle-layer maps, pooled under the garment's mask."""

import numpy as np
import pytest
from PIL import Image

from recommender.ml.embedding.inference import Embedder
from recommender.ml.embedding.maps import MAPS_DIM, MAPS_INPUT_SIZE, letterbox_mask
from recommender.ml.embedding.preprocess import PreprocessConfig, letterbox


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder.load(device="cpu", backend="torch")  # the shipped weights


def _garment(stripes: bool = False, size=(90, 60)):
    height, width = size
    pixels = np.full((height, width, 3), 255, dtype=np.uint8)
    mask = np.zeros((height, width), dtype=bool)
    mask[10 : height - 10, 8 : width - 8] = True
    pixels[mask] = (30, 40, 110)
    if stripes:
        rows = np.zeros_like(mask)
        rows[10 : height - 10 : 6] = True
        pixels[rows & mask] = (230, 230, 230)
    return Image.fromarray(pixels), mask


def test_the_mask_is_letterboxed_where_the_crop_is():
    crop, mask = _garment(size=(90, 40))
    boxed = letterbox_mask(mask, MAPS_INPUT_SIZE)
    garment = letterbox(crop, MAPS_INPUT_SIZE).min(axis=-1) < 200
    assert boxed.shape == (MAPS_INPUT_SIZE, MAPS_INPUT_SIZE)
    assert ((boxed > 0.5) == garment).mean() > 0.98
    assert boxed[:, :10].max() == 0  # the side padding counts for nothing


def test_pooled_maps_see_a_print_and_are_the_same_batched_or_alone(embedder):
    plain, mask = _garment()
    striped, _ = _garment(stripes=True)
    bigger, big_mask = _garment(size=(180, 120))
    maps = embedder.pooled_maps([plain, striped, bigger], [mask, mask, big_mask])
    assert maps.shape == (3, MAPS_DIM) and maps.dtype == np.float32 and np.isfinite(maps).all()
    alone = embedder.pooled_maps([striped], [mask])
    assert np.allclose(alone[0], maps[1], atol=1e-4)
    # The same plain garment photographed twice as large is nearer than the striped one.
    assert np.linalg.norm(maps[0] - maps[2]) < np.linalg.norm(maps[0] - maps[1])


def test_an_empty_mask_pools_the_whole_crop_and_a_bare_runner_has_no_maps(embedder):
    crop, mask = _garment()
    maps = embedder.pooled_maps([crop], [np.zeros_like(mask)])
    assert np.isfinite(maps).all() and np.abs(maps).sum() > 0
    bare = Embedder(lambda batch: np.ones((len(batch), 512)), PreprocessConfig(), "0" * 64, {})
    with pytest.raises(ValueError, match="no module"):
        bare.pooled_maps([crop], [mask])
