"""Outfit segmentation: reader, model, preprocessing, inference, evaluation, weights (CPU, tiny, no Django)."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.images import open_image
from recommender.ml.datasets.ccp import COARSE_CLASSES, list_samples, read_label_mapping, read_sample
from recommender.ml.loading import LoadOnce
from recommender.ml.segmentation import inference
from recommender.ml.segmentation.inference import CLASS_COLOURS, Segmenter, overlay
from recommender.ml.segmentation.model import UNet, UNetConfig, build_unet
from recommender.ml.segmentation.transforms import TrainAugment, preprocess
from recommender.ml.weights import WeightsError, save_weights, weights_paths
from training.segmentation.evaluate import evaluate_ccp
from training.segmentation.metrics import confusion, iou_report

FIXTURES = Path(__file__).parent / "fixtures" / "ccp"
TINY = UNetConfig(base=4, input_size=(32, 32))
TOP = COARSE_CLASSES.index("top")


class RectangleModel(torch.nn.Module):
    """Predicts 'top' inside a fixed rectangle of the input and background elsewhere."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(x.shape[0], len(COARSE_CLASSES), *x.shape[2:])
        logits[:, 0] = 5.0
        height, width = x.shape[2:]
        logits[:, TOP, height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = 10.0
        return logits


class BackgroundModel(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(x.shape[0], len(COARSE_CLASSES), *x.shape[2:])
        logits[:, 0] = 5.0
        return logits


def make_segmenter(model: torch.nn.Module, config: UNetConfig = TINY, **kwargs) -> Segmenter:
    return Segmenter(model, config, device=torch.device("cpu"), **kwargs)


def noise_image(width: int, height: int, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).convert(mode)


@pytest.fixture
def tiny_weights(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    save_weights("unet-ccp", build_unet(TINY).state_dict(), {"config": TINY.to_dict()}, directory=tmp_path)
    return tmp_path


def test_fixture_reader_maps_fine_labels_to_the_four_coarse_classes() -> None:
    mapping = read_label_mapping(FIXTURES)
    samples = {s.id: s for s in list_samples(FIXTURES)}
    assert sorted(samples) == ["0016", "0029", "0046"]
    for sample in samples.values():
        image, labels = read_sample(sample, mapping)
        assert labels.shape == (image.height, image.width)
        assert labels.dtype == np.uint8 and set(np.unique(labels)) <= {0, 1, 2, 3}
    _, outfit = read_sample(samples["0016"], mapping)
    _, dress = read_sample(samples["0029"], mapping)
    assert {1, 2} <= set(np.unique(outfit))
    assert 3 in set(np.unique(dress))


@pytest.mark.parametrize("height,width", [(37, 53), (16, 16), (5, 7), (64, 48)])
def test_unet_returns_logits_at_the_input_size_even_for_odd_sizes(height: int, width: int) -> None:
    model = UNet(base=4).eval()
    with torch.inference_mode():
        logits = model(torch.randn(2, 3, height, width))
    assert logits.shape == (2, len(COARSE_CLASSES), height, width)


def test_config_survives_the_round_trip_through_the_manifest() -> None:
    config = UNetConfig(base=8, input_size=(64, 48))
    assert UNetConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError):
        UNetConfig(input_size=(30, 30))


def test_preprocess_resizes_to_the_input_size_and_normalises() -> None:
    tensor = preprocess(Image.new("RGB", (301, 457), (124, 116, 104)), TINY)
    assert tensor.shape == (3, 32, 32)
    assert tensor.abs().max() < 0.01  # this colour is the ImageNet mean


def test_augmentation_keeps_labels_aligned_with_the_pixels() -> None:
    labels = np.zeros((120, 80), dtype=np.uint8)
    labels[30:90, 10:50] = 1
    pixels = np.where(labels[..., None] == 1, 255, 0).astype(np.uint8).repeat(3, axis=2)
    augment = TrainAugment(UNetConfig(base=4, input_size=(64, 48)), jitter=0.0)
    for seed in range(6):
        tensor, out_labels = augment(Image.fromarray(pixels), labels, np.random.default_rng(seed))
        assert tensor.shape == (3, 64, 48) and out_labels.shape == (64, 48)
        bright = tensor.mean(dim=0).numpy() > 0.5
        assert (bright == (out_labels == 1)).mean() > 0.95


def test_segment_returns_maps_and_masks_at_the_original_size_for_any_mode() -> None:
    segmenter = make_segmenter(build_unet(TINY).eval(), tta_flip=True)
    images = [
        noise_image(101, 67),
        noise_image(33, 90, "L"),
        noise_image(50, 50, "RGBA"),
        noise_image(9, 5, "P"),
    ]
    for image, result in zip(images, segmenter.segment(images, batch_size=3), strict=True):
        assert result.label_map.shape == (image.height, image.width)
        assert result.size == image.size
        assert set(result.masks) == {"top", "bottom", "dress"}
        assert all(m.shape == (image.height, image.width) and m.dtype == bool for m in result.masks.values())


def test_garment_crop_keeps_the_garment_and_fills_everything_else_white() -> None:
    image = noise_image(200, 300)
    result = make_segmenter(RectangleModel()).segment([image])[0]
    assert [g.kind for g in result.garments] == ["top"]
    garment = result.garments[0]
    x0, y0, x1, y1 = garment.bbox
    assert abs(x0 - 50) <= 3 and abs(y0 - 75) <= 3 and abs(x1 - 150) <= 3 and abs(y1 - 225) <= 3
    assert garment.crop.size == (x1 - x0, y1 - y0) and garment.crop.mode == "RGB"
    crop = np.asarray(garment.crop)
    inside = result.masks["top"][y0:y1, x0:x1]
    assert (crop[~inside] == 255).all()
    assert (crop[inside] == np.asarray(image)[y0:y1, x0:x1][inside]).all()
    assert 0.2 < garment.pixel_share < 0.3 and 0.9 < garment.confidence <= 1.0


def test_an_image_without_garments_gives_an_empty_garment_list() -> None:
    result = make_segmenter(BackgroundModel()).segment([Image.new("RGB", (120, 80), "white")])[0]
    assert result.garments == []
    assert not any(mask.any() for mask in result.masks.values())


def test_exif_rotated_photo_is_segmented_upright() -> None:
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    noise_image(40, 20).save(buffer, "JPEG", exif=exif)
    image = open_image(buffer.getvalue())
    assert image.size == (20, 40)
    result = make_segmenter(RectangleModel()).segment([image])[0]
    assert result.label_map.shape == (40, 20)


def test_overlay_tints_garments_and_keeps_the_photo_size() -> None:
    image = Image.new("RGB", (200, 300), (128, 128, 128))
    result = make_segmenter(RectangleModel()).segment([image])[0]
    drawn = np.asarray(overlay(image, result))
    assert drawn.shape == (300, 200, 3)
    assert tuple(drawn[150, 100]) != (128, 128, 128)
    assert tuple(drawn[5, 5]) == (128, 128, 128)
    assert tuple(drawn[75, 100]) == CLASS_COLOURS["top"]  # the outline


def test_iou_is_accumulated_over_pixels_and_absent_classes_count_as_perfect() -> None:
    truth = np.array([[0, 0, 1, 1]])
    predicted = np.array([[0, 1, 1, 1]])
    report = iou_report(confusion(predicted, truth, 4), COARSE_CLASSES)
    assert report["iou"] == {"background": 0.5, "top": 0.6667, "bottom": 1.0, "dress": 1.0}


def test_corrupt_weights_raise_weights_error(tiny_weights: Path) -> None:
    tensor_path, _ = weights_paths("unet-ccp", tiny_weights)
    data = bytearray(tensor_path.read_bytes())
    data[-1] ^= 0xFF
    tensor_path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="corrupt"):
        Segmenter.load("cpu", directory=tiny_weights)


def test_missing_weights_say_what_is_missing_and_how_to_fix_it(tmp_path: Path, tiny_weights: Path) -> None:
    with pytest.raises(WeightsError, match="No manifest.*Train the model"):
        Segmenter.load("cpu", directory=tmp_path / "empty")
    weights_paths("unet-ccp", tiny_weights)[0].unlink()
    with pytest.raises(WeightsError, match="is missing"):
        Segmenter.load("cpu", directory=tiny_weights)


def test_loaded_segmenter_reports_its_version_and_config(tiny_weights: Path) -> None:
    segmenter = Segmenter.load("cpu", directory=tiny_weights)
    assert segmenter.config == TINY
    assert len(segmenter.version) == 12


def test_get_segmenter_loads_the_model_once_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_load(cls, *args, **kwargs):
        calls.append(1)
        return make_segmenter(BackgroundModel())

    # A fresh cache built like the module's, so the fake model never reaches the real one.
    monkeypatch.setattr(inference, "get_segmenter", LoadOnce(lambda **kwargs: inference.Segmenter.load(**kwargs)))
    monkeypatch.setattr(Segmenter, "load", classmethod(fake_load))
    results = []
    threads = [threading.Thread(target=lambda: results.append(inference.get_segmenter())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len({id(r) for r in results}) == 1


def test_evaluation_reports_images_iou_per_class_and_mean() -> None:
    result = evaluate_ccp(FIXTURES, make_segmenter(BackgroundModel()), progress=False)
    assert set(result) == {"images", "iou", "miou"}
    assert result["images"] == 3 and set(result["iou"]) == set(COARSE_CLASSES)
    assert result["iou"]["top"] == 0.0 and 0.7 < result["iou"]["background"] < 0.95


def test_shipped_weights_beat_an_all_background_prediction_on_the_fixtures() -> None:
    trivial = evaluate_ccp(FIXTURES, make_segmenter(BackgroundModel()), progress=False)
    result = evaluate_ccp(FIXTURES, Segmenter.load("cpu"), progress=False)
    assert result["miou"] > trivial["miou"] + 0.2
    assert result["iou"]["top"] > 0.3 and result["iou"]["bottom"] > 0.3


def test_shipped_weights_find_no_garment_on_a_blank_image() -> None:
    assert Segmenter.load("cpu").segment([Image.new("RGB", (400, 600), "white")])[0].garments == []
