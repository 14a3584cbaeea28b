"""The embedding network: shape, normalisation, and where its starting weights come from."""

from __future__ import annotations

import torch

from recommender.ml.embedding import model as model_module
from recommender.ml.embedding.model import EMBEDDING_DIM, EmbedderConfig, build_embedder


def test_embeddings_are_512_dimensional_unit_vectors():
    model, _ = build_embedder(EmbedderConfig(), init="scratch")
    with torch.inference_mode():
        vectors = model.eval()(torch.randn(3, 3, 64, 64))
    assert vectors.shape == (3, EMBEDDING_DIM)
    assert torch.allclose(vectors.norm(dim=1), torch.ones(3), atol=1e-5)


def test_the_classification_head_scores_every_catalog_class():
    model, _ = build_embedder(EmbedderConfig(num_classes=10), init="scratch")
    with torch.inference_mode():
        logits = model.head(model.eval()(torch.randn(2, 3, 64, 64)))
    assert logits.shape == (2, 10)
    assert logits.abs().max() <= model.head.scale + 1e-4


def test_the_trunk_starts_from_scratch_when_imagenet_weights_are_not_cached(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert model_module.imagenet_checkpoint() is None
    _, started_from = build_embedder(EmbedderConfig(), init="auto")
    assert started_from == "scratch"


def test_cached_imagenet_weights_are_found_in_the_hub_checkpoint_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    checkpoint = tmp_path / "checkpoints" / "resnet34-b627a593.pth"
    checkpoint.parent.mkdir()
    checkpoint.write_bytes(b"")
    assert model_module.imagenet_checkpoint() == checkpoint
