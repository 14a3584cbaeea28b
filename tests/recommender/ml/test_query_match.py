"""Catalog questions matched by look (category, colour, pattern) or by the embedding alone."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from recommender.ml.colour.look import LOOK_DIM, LookWeights, look_vector, measure_garment
from recommender.ml.colour.palette import PALETTE
from recommender.ml.colour.pattern import pattern_features
from recommender.ml.datasets.ccp import COARSE_CLASSES
from recommender.ml.embedding.maps import MAPS_DIM
from recommender.ml.segmentation.inference import describe_labels
from training.complement.evaluate import GarmentSet, Questions, catalog_queries, look_nearest

RED, BLUE = (200, 30, 30), (30, 50, 200)


def _unit(vector):
    vector = np.asarray(vector, dtype=np.float32)
    return vector / np.linalg.norm(vector)


#: The street garment's embedding, and two catalog photos' (told apart by their width): the blue one is
#: the embedding's nearest (cosine 1.0), the red one a little further (cosine 0.9).
STREET = _unit(np.eye(512)[0])
BY_WIDTH = {100: STREET, 110: _unit(0.9 * np.eye(512)[0] + np.sqrt(1 - 0.81) * np.eye(512)[1])}


class ColourBlindEmbedder:
    """Stands for the category embedder: the vectors above for the catalog photos, one fixed vector
    for anything else (the cut crops), and empty pooled maps."""

    version = "test"

    def embed(self, images):
        return np.stack([BY_WIDTH.get(image.width, _unit(np.eye(512)[2])) for image in images])

    def pooled_maps(self, crops, masks):
        return np.zeros((len(crops), MAPS_DIM), dtype=np.float32)


class NonWhiteSegmenter:
    """Every non-white pixel is a top."""

    def segment(self, images):
        top = COARSE_CLASSES.index("top")
        out = []
        for image in images:
            labels = np.where(np.asarray(image.convert("RGB")).min(axis=-1) < 240, top, 0).astype(np.int64)
            out.append(describe_labels(image, labels, classes=COARSE_CLASSES))
        return out


def _shirt(colour, width) -> Image.Image:
    image = Image.new("RGB", (width, 140), (255, 255, 255))
    image.paste(Image.new("RGB", (width - 40, 100), colour), (20, 20))
    return image


def test_the_look_match_picks_the_same_colour_where_the_embedding_picks_another(tmp_path: Path):
    folder = tmp_path / "catalog" / "t-shirt"
    folder.mkdir(parents=True)
    _shirt(BLUE, 100).save(folder / "a-blue.jpg", quality=95)
    _shirt(RED, 110).save(folder / "b-red.jpg", quality=95)
    crop = Image.new("RGB", (60, 80), RED)  # the red street top, cut with its true mask
    mask = np.ones((80, 60), dtype=bool)
    look = measure_garment(crop, mask)
    assert look.colours[0].name != measure_garment(_shirt(BLUE, 100), None).colours[0].name
    street = GarmentSet(
        photo=np.asarray(["0001"]),
        slot=np.asarray(["top"]),
        embedding=STREET[None],
        appearance=np.zeros((1, 1), dtype=np.float32),
        colour_pattern=np.concatenate([look.colour_features, pattern_features(look.pattern)])[None],
    )
    questions = Questions(np.asarray([0]), np.asarray([[0, 0]]), np.asarray([0]), np.asarray(["top_to_bottom"]))
    options = {"embedder": ColourBlindEmbedder(), "segmenter": NonWhiteSegmenter()}

    by_embedding, paths = catalog_queries(street, questions, tmp_path / "catalog", match="embedding", **options)
    assert [Path(p).name for p in paths] == ["a-blue.jpg"]
    by_look, paths = catalog_queries(street, questions, tmp_path / "catalog", match="look", **options)
    assert [Path(p).name for p in paths] == ["b-red.jpg"]
    assert by_look.photo.tolist() == ["catalog/t-shirt/b-red"] and by_look.slot.tolist() == ["top"]


def test_the_look_match_needs_the_street_garments_colours(tmp_path: Path):
    street = GarmentSet(np.asarray(["1"]), np.asarray(["top"]), STREET[None], np.zeros((1, 1), dtype=np.float32))
    questions = Questions(np.asarray([0]), np.asarray([[0, 0]]), np.asarray([0]), np.asarray(["top_to_bottom"]))
    with pytest.raises(ValueError, match="colours"):
        catalog_queries(street, questions, tmp_path, embedder=None, segmenter=None, match="look")
    with pytest.raises(ValueError, match="unknown query match"):
        catalog_queries(street, questions, tmp_path, embedder=None, segmenter=None, match="colour")


@pytest.mark.parametrize("weights", [LookWeights(1.0, 0.3, 0.0), LookWeights(1.0, 0.5, 0.2)])
def test_measuring_only_the_items_that_could_win_gives_the_exhaustive_answer(weights):
    rng = np.random.default_rng(0)
    n, queries, colours = 300, 40, len(PALETTE)
    embeddings = rng.normal(size=(n, 512)).astype(np.float32)
    embeddings[:150] += 3 * rng.normal(size=512).astype(np.float32)  # a crowded neighbourhood
    parts = np.abs(rng.normal(size=(n, colours))) ** 3
    parts /= np.linalg.norm(parts, axis=1, keepdims=True)
    parts[::7] = 0  # some colours unknown
    patterns = np.eye(4)[rng.integers(4, size=n)]
    patterns[::5] = 0  # some patterns unknown
    catalog_parts = np.concatenate([parts, patterns], axis=1).astype(np.float32)
    query_looks = np.stack(
        [
            look_vector(
                embeddings[i] + rng.normal(size=512), catalog_parts[j, :colours], catalog_parts[j, colours:], weights
            )
            for i, j in zip(rng.integers(n, size=queries), rng.integers(n, size=queries), strict=True)
        ]
    )
    allowed = rng.random((queries, n)) < 0.8
    measured = []

    def measure(indices):
        measured.extend(indices)
        return catalog_parts[indices]

    chosen = look_nearest(query_looks, embeddings, allowed, measure, weights)
    full = np.stack(
        [look_vector(e, p[:colours], p[colours:], weights) for e, p in zip(embeddings, catalog_parts, strict=True)]
    )
    assert full.shape[1] == LOOK_DIM
    expected = np.where(allowed, query_looks @ full.T, -np.inf).argmax(axis=1)
    assert chosen.tolist() == expected.tolist()
    assert len(measured) == len(set(measured)) < n  # each item measured at most once, not all of them
