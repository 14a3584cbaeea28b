"""The complement model: a type-aware two-tower network, its weights and its loader."""

import numpy as np
import pytest
import torch

from recommender.ml.complement import WEIGHTS_NAME
from recommender.ml.complement.features import FEATURE_DIM, FEATURE_VERSION
from recommender.ml.complement.inference import COMPLEMENT_SLOTS, ComplementModel, get_complement_model
from recommender.ml.complement.model import ComplementConfig, ComplementEnsemble, build_complement_net, config_to_meta
from recommender.ml.weights import WeightsError, save_weights
from tests.conftest import make_complement_weights


@pytest.fixture
def tiny_model(tmp_path) -> ComplementModel:
    return ComplementModel.load(directory=make_complement_weights(tmp_path))


def _features(n, seed=0):
    return np.random.default_rng(seed).normal(size=(n, FEATURE_DIM)).astype(np.float32)


def test_encode_gives_unit_vectors_of_the_model_dimension_for_every_slot_and_role(tiny_model):
    for slot in COMPLEMENT_SLOTS:
        for role in ("query", "candidate"):
            vectors = tiny_model.encode(_features(5), slot=slot, role=role)
            assert vectors.shape == (5, tiny_model.dim) == (5, 8)
            assert vectors.dtype == np.float32
            assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)


def test_query_and_candidate_towers_differ_so_pair_scores_are_not_symmetric(tiny_model):
    features = _features(2)
    top_q = tiny_model.encode(features[:1], slot="top", role="query")
    top_c = tiny_model.encode(features[:1], slot="top", role="candidate")
    bottom_q = tiny_model.encode(features[1:], slot="bottom", role="query")
    bottom_c = tiny_model.encode(features[1:], slot="bottom", role="candidate")
    assert not np.allclose(top_q, top_c)
    assert (top_q @ bottom_c.T).item() != pytest.approx((bottom_q @ top_c.T).item(), abs=1e-4)


def test_encode_refuses_unknown_slots_roles_and_wrong_feature_sizes(tiny_model):
    with pytest.raises(ValueError, match="slot"):
        tiny_model.encode(_features(1), slot="shoes", role="query")
    with pytest.raises(ValueError, match="role"):
        tiny_model.encode(_features(1), slot="top", role="both")
    with pytest.raises(ValueError, match=str(FEATURE_DIM)):
        tiny_model.encode(np.zeros((1, 10)), slot="top", role="query")
    assert tiny_model.encode(np.zeros((0, FEATURE_DIM)), slot="top", role="query").shape == (0, 8)


def test_saved_weights_load_back_to_the_same_vectors_and_carry_their_hash_as_version(tmp_path):
    directory = make_complement_weights(tmp_path, embedder_sha256="ab" * 32)
    first, second = ComplementModel.load(directory=directory), ComplementModel.load(directory=directory)
    features = _features(4)
    assert np.allclose(
        first.encode(features, slot="dress", role="query"), second.encode(features, slot="dress", role="query")
    )
    assert (
        len(first.version) == 64
        and first.version == (directory / f"{WEIGHTS_NAME}.json").read_text().split('"sha256": "')[1][:64]
    )
    assert first.embedder_sha256 == "ab" * 32


def test_a_tampered_weights_file_is_refused(tmp_path):
    directory = make_complement_weights(tmp_path)
    path = directory / f"{WEIGHTS_NAME}.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="corrupt"):
        ComplementModel.load(directory=directory)


def test_weights_made_for_other_features_are_refused(tmp_path):
    import json

    directory = make_complement_weights(tmp_path)
    manifest = directory / f"{WEIGHTS_NAME}.json"
    meta = json.loads(manifest.read_text())
    meta["feature_version"] = "older"
    manifest.write_text(json.dumps(meta))
    with pytest.raises(WeightsError, match="features"):
        ComplementModel.load(directory=directory)


def test_get_complement_model_loads_each_configuration_once(tmp_path):
    directory = make_complement_weights(tmp_path)
    try:
        assert get_complement_model(directory=directory) is get_complement_model(directory=directory)
    finally:
        get_complement_model.cache_clear()


def test_the_shipped_model_loads_and_expects_the_shipped_embedder():
    from recommender.ml.weights import read_manifest

    model = ComplementModel.load()
    assert model.embedder_sha256 == read_manifest("resnet34-garments")["sha256"]
    assert model.encode(_features(3), slot="top", role="query").shape == (3, model.dim)


def test_the_colour_residual_makes_same_coloured_garments_score_higher_and_keeps_unit_vectors(tmp_path):
    torch.manual_seed(0)
    config = ComplementConfig(hidden=0, dim=8, colour_residual=True)
    net = build_complement_net(config)
    with torch.no_grad():
        net.colour_logit.fill_(6.0)  # almost all weight on colour
    meta = {"config": config_to_meta(config), "feature_version": FEATURE_VERSION, "embedder_sha256": "0" * 64}
    save_weights(WEIGHTS_NAME, net.state_dict(), meta, directory=tmp_path)
    model = ComplementModel.load(directory=tmp_path)
    assert model.dim == 8 + 100
    features = np.zeros((3, FEATURE_DIM), dtype=np.float32)
    features[:, 512 + 3] = 1.0  # the same colour bin...
    features[2, 512 + 3], features[2, 512 + 40] = 0.0, 1.0  # ...except the third garment
    q = model.encode(features[:1], slot="top", role="query")
    c = model.encode(features[1:], slot="bottom", role="candidate")
    assert np.allclose(np.linalg.norm(c, axis=1), 1, atol=1e-5)
    scores = (q @ c.T)[0]
    assert scores[0] > scores[1] + 0.5


@pytest.mark.parametrize("colour_residual", [False, True])
def test_an_ensemble_scores_the_mean_of_its_members_scores_in_one_vector_and_round_trips(tmp_path, colour_residual):
    torch.manual_seed(1)
    members = [
        build_complement_net(ComplementConfig(hidden=0, dim=8, colour_residual=colour_residual)).eval()
        for _ in range(3)
    ]
    if colour_residual:  # members learn their own colour shares; the ensemble keeps one colour block
        for member, logit in zip(members, (-1.0, 0.0, 2.0), strict=True):
            member.colour_logit.data.fill_(logit)
    ensemble = ComplementEnsemble.of(members).eval()
    dim = 24 + (100 if colour_residual else 0)
    assert ensemble.config.members == 3 and ensemble.config.output_dim == dim
    a, b = torch.from_numpy(_features(1, seed=1)), torch.from_numpy(_features(1, seed=2))
    with torch.inference_mode():
        joined = (ensemble(a, slot="top", role="query") @ ensemble(b, slot="bottom", role="candidate").T).item()
        each = [(m(a, slot="top", role="query") @ m(b, slot="bottom", role="candidate").T).item() for m in members]
    assert joined == pytest.approx(np.mean(each), abs=1e-5)

    meta = {"config": config_to_meta(ensemble.config), "feature_version": FEATURE_VERSION, "embedder_sha256": "0" * 64}
    save_weights(WEIGHTS_NAME, ensemble.state_dict(), meta, directory=tmp_path)
    model = ComplementModel.load(directory=tmp_path)
    assert model.dim == dim
    vectors = model.encode(_features(3), slot="bottom", role="candidate")
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
    with torch.inference_mode():
        expected = ensemble(torch.from_numpy(_features(3)), slot="bottom", role="candidate").numpy()
    assert np.allclose(vectors, expected, atol=2e-3)  # fp16 weights


def test_the_maps_pca_is_fitted_whitened_and_travels_with_the_weights(tmp_path):
    torch.manual_seed(2)
    config = ComplementConfig(hidden=0, dim=8, maps_pca=6)
    net = build_complement_net(config)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(400, FEATURE_DIM)).astype(np.float32)
    features[:, -768:] = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 768)) * 3 + 5  # six real directions
    net.fit(torch.from_numpy(features))
    reduced = net.reduce(torch.from_numpy(features)).numpy()
    assert reduced.shape == (400, FEATURE_DIM - 768 + 6) == (400, config.input_dim)
    maps = reduced[:, -6:]
    assert np.allclose(maps.mean(axis=0), 0, atol=1e-3) and np.allclose(np.cov(maps.T), np.eye(6), atol=0.05)
    meta = {"config": config_to_meta(config), "feature_version": FEATURE_VERSION, "embedder_sha256": "0" * 64}
    save_weights(WEIGHTS_NAME, net.eval().state_dict(), meta, directory=tmp_path)
    loaded = ComplementModel.load(directory=tmp_path)
    with torch.no_grad():
        expected = net(torch.from_numpy(features[:3]), slot="top", role="query").numpy()
    assert np.allclose(loaded.encode(features[:3], slot="top", role="query"), expected, atol=2e-3)  # fp16 weights
