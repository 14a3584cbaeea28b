"""One preprocessing path: what training validates on is exactly what serving feeds the network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.images import open_image
from recommender.ml.embedding.inference import Embedder
from recommender.ml.embedding.preprocess import (
    PreprocessConfig,
    letterbox,
    normalize,
    preprocess,
    preprocess_batch,
)
from training.embedding.data import list_image_tree
from training.embedding.train import Augment, catalog_eval_set

FIXTURES = Path(__file__).parent / "fixtures" / "clothing"


def test_a_tall_image_is_fitted_without_distortion_and_padded_with_white():
    pixels = letterbox(Image.new("RGB", (50, 100), (10, 20, 30)), 64)
    assert pixels.shape == (64, 64, 3)
    assert (pixels[:, 32] == (10, 20, 30)).all()
    assert (pixels[:, :15] == 255).all() and (pixels[:, -15:] == 255).all()


def test_normalisation_uses_the_configured_mean_and_std():
    config = PreprocessConfig(size=4, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    tensor = preprocess(Image.new("RGB", (4, 4), (255, 0, 255)), config)
    assert tensor.shape == (3, 4, 4)
    assert torch.equal(tensor[:, 0, 0], torch.tensor([1.0, -1.0, 1.0]))


def test_training_evaluation_pixels_equal_serving_pixels_for_the_same_files():
    config = PreprocessConfig(size=48)
    training = normalize(catalog_eval_set(FIXTURES, config, limit=0).pixels, config)
    serving = preprocess_batch([open_image(path) for path, _ in list_image_tree(FIXTURES)], config)
    assert torch.equal(training, serving)


def test_the_embedder_feeds_its_network_through_the_shared_preprocessing():
    config = PreprocessConfig(size=40)
    seen: list[torch.Tensor] = []
    embedder = Embedder(lambda batch: seen.append(batch) or np.ones((len(batch), 512)), config, "0" * 64, {})
    images = [open_image(path) for path, _ in list_image_tree(FIXTURES)]
    embedder.embed(images, batch_size=4)
    assert torch.equal(torch.cat(seen), torch.stack([preprocess(image, config) for image in images]))


def test_training_augmentation_ends_in_the_shared_preprocessing():
    config = PreprocessConfig(size=40)
    tensor = Augment(config)(Image.new("RGB", (70, 90), (200, 100, 50)))
    assert tensor.shape == (3, 40, 40)
    assert tensor.dtype == torch.float32
