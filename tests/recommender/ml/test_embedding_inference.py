"""Serving: hash-checked weights, one embedder per process, identical backends, shipped weights work."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import ImageOps

from core.images import open_image
from recommender.ml.embedding import WEIGHTS_NAME, inference
from recommender.ml.embedding.inference import Embedder
from recommender.ml.embedding.model import EmbedderConfig, build_embedder, config_to_meta
from recommender.ml.embedding.preprocess import PreprocessConfig
from recommender.ml.loading import LoadOnce
from recommender.ml.weights import WEIGHTS_DIR, WeightsError, save_weights
from training.embedding.data import list_image_tree

FIXTURES = Path(__file__).parent / "fixtures" / "clothing"


@pytest.fixture
def tiny_weights(tmp_path) -> Path:
    """Randomly initialised weights at a 32 px input size, saved like the shipped ones."""
    model, _ = build_embedder(EmbedderConfig(), init="scratch")
    meta = {"config": config_to_meta(EmbedderConfig()), **PreprocessConfig(size=32).to_meta()}
    save_weights(WEIGHTS_NAME, model.state_dict(), meta, directory=tmp_path / "weights")
    return tmp_path / "weights"


@pytest.fixture
def fixture_images():
    return [open_image(path) for path, _ in list_image_tree(FIXTURES)]


def test_embed_returns_float32_unit_vectors_in_input_order(tiny_weights, fixture_images):
    embedder = Embedder.load(device="cpu", directory=tiny_weights, backend="torch")
    vectors = embedder.embed(fixture_images, batch_size=4)
    assert vectors.shape == (6, embedder.dim) == (6, 512)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(embedder.embed(fixture_images[2:3])[0], vectors[2], atol=1e-5)


def test_an_empty_batch_gives_an_empty_matrix(tiny_weights):
    assert Embedder.load(device="cpu", directory=tiny_weights, backend="torch").embed([]).shape == (0, 512)


def test_the_version_is_the_full_sha256_of_the_weights_file(tiny_weights):
    manifest = json.loads((tiny_weights / f"{WEIGHTS_NAME}.json").read_text())
    version = Embedder.load(device="cpu", directory=tiny_weights, backend="torch").version
    assert version == manifest["sha256"]
    assert len(version) == 64


def test_weights_that_do_not_match_their_manifest_hash_are_refused(tiny_weights):
    path = tiny_weights / f"{WEIGHTS_NAME}.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="corrupt or was replaced"):
        Embedder.load(device="cpu", directory=tiny_weights)


def test_the_onnx_runtime_backend_gives_the_same_vectors_as_torch(tiny_weights, fixture_images, tmp_path):
    torch_vectors = Embedder.load(device="cpu", directory=tiny_weights, backend="torch").embed(fixture_images)
    onnx = Embedder.load(device="cpu", directory=tiny_weights, backend="onnx", cache_dir=tmp_path / "cache")
    np.testing.assert_allclose(onnx.embed(fixture_images), torch_vectors, atol=1e-4)
    assert len(list((tmp_path / "cache").glob("*.onnx"))) == 1


def test_with_test_time_flip_a_photo_and_its_mirror_image_get_the_same_vector(tiny_weights, fixture_images):
    mirrored = [ImageOps.mirror(image) for image in fixture_images]
    plain = Embedder.load(device="cpu", directory=tiny_weights, backend="torch")
    assert not plain.test_time_flip  # the tiny manifest does not ask for it
    assert np.abs(plain.embed(fixture_images) - plain.embed(mirrored)).max() > 1e-3
    flip = Embedder(plain._run, plain.preprocess, plain.version, plain.meta, test_time_flip=True)
    np.testing.assert_allclose(flip.embed(fixture_images), flip.embed(mirrored), atol=1e-5)
    # ... and it is the normalised mean of the two plain vectors.
    mean = plain.embed(fixture_images) + plain.embed(mirrored)
    np.testing.assert_allclose(
        flip.embed(fixture_images), mean / np.linalg.norm(mean, axis=1, keepdims=True), atol=1e-5
    )


def test_the_manifest_decides_test_time_flip(tiny_weights):
    path = tiny_weights / f"{WEIGHTS_NAME}.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "test_time_flip": True}))
    assert Embedder.load(device="cpu", directory=tiny_weights, backend="torch").test_time_flip


def test_get_embedder_loads_the_model_once_even_from_many_threads(monkeypatch):
    calls = []
    # A fresh cache built like the module's, so the fake model never reaches the real one.
    monkeypatch.setattr(inference, "get_embedder", LoadOnce(lambda **kwargs: inference.Embedder.load(**kwargs)))
    monkeypatch.setattr(inference.Embedder, "load", classmethod(lambda cls: calls.append(1) or object()))
    results = []
    threads = [threading.Thread(target=lambda: results.append(inference.get_embedder())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len({id(result) for result in results}) == 1


def test_cpu_serving_defaults_to_onnx_runtime_with_the_export_cached_by_weights_hash(tiny_weights, tmp_path):
    embedder = Embedder.load(device="cpu", directory=tiny_weights, cache_dir=tmp_path / "cache")
    (onnx_file,) = (tmp_path / "cache").glob("*.onnx")
    assert embedder.version[:16] in onnx_file.name


def test_the_shipped_weights_load_and_embed_the_fixture_photos(fixture_images, tmp_path):
    manifest = json.loads((WEIGHTS_DIR / f"{WEIGHTS_NAME}.json").read_text())
    embedder = Embedder.load(device="cpu", cache_dir=tmp_path / "cache")
    vectors = embedder.embed(fixture_images)
    assert embedder.version == manifest["sha256"]
    assert embedder.preprocess.size == manifest["input_size"]
    assert embedder.test_time_flip == manifest.get("test_time_flip", False)
    assert vectors.shape == (6, 512)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
