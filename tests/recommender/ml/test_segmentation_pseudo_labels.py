"""Pseudo-labels from ccp-tagged: the segmenter's classes that the tags rule out are removed (ignored)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch
from scipy.io import savemat

from recommender.ml.datasets.ccp import read_label_mapping
from recommender.ml.segmentation.inference import Segmenter
from recommender.ml.segmentation.model import UNetConfig
from training.segmentation.pseudo_labels import (
    IGNORE,
    PseudoLabelled,
    allowed_classes,
    filter_by_tags,
    list_tagged,
    main,
    make_pseudo_labels,
    read_tags,
)
from training.segmentation.train import segmentation_loss

FIXTURES = Path(__file__).parent / "fixtures" / "ccp"
BACKGROUND, TOP, BOTTOM, DRESS = range(4)


def fine_index(name: str) -> int:
    return read_label_mapping(FIXTURES).fine_names.index(name)


def tagged_folder(tmp_path: Path, tags: dict[str, list[str]]) -> Path:
    """A ccp-tagged-shaped folder from the CCP fixtures' photos, with the given image-level tags."""
    root = tmp_path / "ccp-tagged"
    (root / "photos").mkdir(parents=True)
    (root / "annotations" / "image-level").mkdir(parents=True)
    for name in ("coarse_labels.json", "label_list.mat"):
        shutil.copy(FIXTURES / name, root / name)
    for photo_id, names in tags.items():
        shutil.copy(FIXTURES / "photos" / f"{photo_id}.jpg", root / "photos" / f"{photo_id}.jpg")
        array = np.asarray([[fine_index(name) for name in names]], dtype=np.uint8)
        savemat(root / "annotations" / "image-level" / f"{photo_id}.mat", {"tags": array})
    return root


class AlwaysDress(torch.nn.Module):
    """Predicts the left half as 'dress' and the right half as 'top', confidently."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(x.shape[0], 4, *x.shape[-2:])
        half = x.shape[-1] // 2
        logits[:, DRESS, :, :half] = 10
        logits[:, TOP, :, half:] = 10
        return logits


def test_tags_allow_background_and_the_classes_of_the_tagged_garments() -> None:
    mapping = read_label_mapping(FIXTURES)
    assert allowed_classes([fine_index("blouse"), fine_index("jeans")], mapping) == {BACKGROUND, TOP, BOTTOM}
    assert allowed_classes([fine_index("dress"), fine_index("shoes")], mapping) == {BACKGROUND, DRESS}


def test_pixels_of_classes_the_tags_rule_out_are_ignored_and_the_rest_kept() -> None:
    labels = np.array([[BACKGROUND, TOP, BOTTOM, DRESS]] * 2, dtype=np.uint8)
    filtered = filter_by_tags(labels, {BACKGROUND, TOP, BOTTOM})
    assert filtered.tolist() == [[BACKGROUND, TOP, BOTTOM, IGNORE]] * 2
    assert labels[0, 3] == DRESS  # the input is not modified


def test_unsure_pixels_are_ignored_too() -> None:
    labels = np.array([[TOP, TOP, BACKGROUND]], dtype=np.uint8)
    confidence = np.array([[0.9, 0.4, 0.95]], dtype=np.float32)
    assert filter_by_tags(labels, {BACKGROUND, TOP}, confidence, min_confidence=0.5).tolist() == [
        [TOP, IGNORE, BACKGROUND]
    ]


def test_ignored_pixels_do_not_change_the_loss() -> None:
    target = torch.tensor([[[TOP, BOTTOM], [IGNORE, IGNORE]]])
    logits = torch.randn(1, 4, 2, 2)
    other = logits.clone()
    other[..., 1, :] = torch.randn(4, 2) * 5  # change only the ignored row's predictions
    assert torch.allclose(segmentation_loss(logits, target), segmentation_loss(other, target))


def test_pseudo_labels_of_a_photo_tagged_without_a_dress_contain_no_dress(tmp_path: Path) -> None:
    root = tagged_folder(tmp_path, {"0016": ["blouse", "jeans"], "0029": ["dress"]})
    assert [p.id for p in list_tagged(root)] == ["0016", "0029"]
    assert set(read_tags(list_tagged(root)[0]).tolist()) == {fine_index("blouse"), fine_index("jeans")}
    config = UNetConfig(base=4, input_size=(64, 48))
    segmenter = Segmenter(AlwaysDress(), config, device=torch.device("cpu"))
    arrays = make_pseudo_labels(root, segmenter, config, cache_scale=1.0, progress=False)
    first, second = arrays["labels"]
    assert arrays["images"].shape == (2, 64, 48, 3)
    assert DRESS not in first and IGNORE in first and TOP in first  # blouse → top kept, dress removed
    assert TOP not in second and DRESS in second  # tagged only with a dress: the 'top' half is removed


def test_the_cli_writes_a_pack_that_trains_with_augmentation(tmp_path: Path) -> None:
    from recommender.ml.segmentation.model import build_unet
    from recommender.ml.weights import save_weights

    config = UNetConfig(base=4, input_size=(64, 48))
    save_weights(
        "tiny",
        build_unet(config).state_dict(),
        {"architecture": "unet", "config": config.to_dict()},
        directory=tmp_path / "w",
    )
    root = tagged_folder(tmp_path, {"0016": ["blouse", "jeans"]})
    out = tmp_path / "pseudo.npz"
    main(
        [
            "--tagged",
            str(root),
            "--out",
            str(out),
            "--name",
            "tiny",
            "--weights-dir",
            str(tmp_path / "w"),
            "--no-progress",
        ]
    )
    dataset = PseudoLabelled(out, config)
    image, labels = dataset[0]
    assert image.shape == (3, 64, 48) and labels.shape == (64, 48)
    assert set(labels.unique().tolist()) <= {BACKGROUND, TOP, BOTTOM, DRESS, IGNORE}


def test_the_filter_check_counts_removed_pixels_as_errors_and_lowers_the_error_rate() -> None:
    from training.segmentation.pseudo_labels import filter_check

    config = UNetConfig(base=4, input_size=(64, 48))
    segmenter = Segmenter(AlwaysDress(), config, device=torch.device("cpu"))
    report = filter_check(FIXTURES, segmenter)
    assert report["photos"] == 1
    assert report["tags_removed_share"] > 0  # the validation photo wears no dress, or no top
    assert report["pixel_error_after_tags"] < report["pixel_error"]
