import numpy as np
import pytest
from PIL import Image

from recommender.ml.colour.lab import delta_e_2000, garment_lab_pixels, lab_to_rgb, rgb_to_lab


@pytest.mark.parametrize(
    ("lab1", "lab2", "expected"),
    [  # Sharma, Wu & Dalal (2005), the CIEDE2000 test data
        ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
        ((50, 2.5, 0), (73, 25, -18), 27.1492),
        ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
        ((50, -1, 2), (50, -1.0000, 2.0000), 0.0),
    ],
)
def test_delta_e_2000_matches_the_published_test_data(lab1, lab2, expected):
    assert delta_e_2000(np.array(lab1), np.array(lab2)) == pytest.approx(expected, abs=1e-3)


def test_lab_conversion_round_trips_and_knows_pure_red():
    assert rgb_to_lab(np.array([255, 0, 0])) == pytest.approx([53.24, 80.09, 67.20], abs=0.02)
    colours = np.random.default_rng(0).integers(0, 256, size=(500, 3), dtype=np.uint8)
    assert np.abs(lab_to_rgb(rgb_to_lab(colours)).astype(int) - colours).max() <= 1


def test_garment_pixels_come_from_the_mask_or_the_non_white_part_of_a_crop():
    pixels = np.full((10, 10, 3), 255, dtype=np.uint8)
    pixels[2:8, 2:8] = (200, 0, 0)
    image = Image.fromarray(pixels)
    red = rgb_to_lab(np.array([200, 0, 0]))
    assert garment_lab_pixels(image) == pytest.approx(np.tile(red, (36, 1)), abs=1e-3)
    mask = np.zeros((10, 10), dtype=bool)
    mask[0, :] = True
    assert garment_lab_pixels(image, mask)[:, 0] == pytest.approx(np.full(10, 100.0), abs=0.01)
