"""Garment colours: palette naming, colours of synthetic garments, pattern flag, product masks."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from recommender.ml.colour.lab import delta_e_2000, rgb_to_lab
from recommender.ml.colour.look import LOOK_DIM, LookWeights, look_vector, measure_garment, named_colour_features
from recommender.ml.colour.palette import (
    FAMILY,
    NAMES,
    PALETTE_LAB,
    colour_features,
    garment_colours,
    name_lab,
)
from recommender.ml.colour.pattern import garment_pattern
from recommender.ml.segmentation.product_mask import product_mask
from training.segmentation.product_mask_check import iou

FIXTURES = Path(__file__).parent / "fixtures"


def _lab(rgb) -> np.ndarray:
    return rgb_to_lab(np.array(rgb, dtype=np.float64))


@pytest.mark.parametrize(
    ("rgb", "name"),
    [
        ((20, 20, 22), "black"),
        ((245, 245, 243), "white"),
        ((190, 190, 188), "white"),  # a white tee in indoor light
        ((30, 40, 75), "navy"),
        ((110, 30, 45), "burgundy"),
        ((195, 165, 125), "sand"),
        ((200, 30, 40), "red"),
        ((80, 105, 140), "denim"),
        ((90, 92, 45), "olive"),
        ((235, 160, 185), "pink"),
        ((110, 111, 114), "grey"),
    ],
)
def test_the_palette_names_known_colours_as_a_shopper_would(rgb, name):
    assert name_lab(_lab(rgb)) == name


def test_every_palette_name_belongs_to_a_filter_family_and_names_itself():
    from shop.models import Colour

    assert set(FAMILY.values()) <= set(Colour.values)
    assert list(name_lab(PALETTE_LAB)) == list(NAMES)
    # Neighbours are distinct to the eye: no two entries within ΔE2000 5.
    distances = delta_e_2000(PALETTE_LAB[:, None], PALETTE_LAB[None])
    assert distances[~np.eye(len(NAMES), dtype=bool)].min() > 5


def test_a_two_colour_garment_gets_both_names_with_their_shares_main_first():
    pixels = np.concatenate([np.tile(_lab((30, 40, 75)), (700, 1)), np.tile(_lab((200, 30, 40)), (300, 1))])
    colours = garment_colours(pixels)
    assert [c.name for c in colours] == ["navy", "red"]
    assert colours[0].share == pytest.approx(0.7, abs=0.02)
    assert colours[0].family == "navy" and colours[1].family == "red"


def test_small_specks_are_not_named_and_at_most_three_colours_are():
    pixels = np.concatenate(
        [np.tile(_lab(c), (n, 1)) for c, n in [((245, 245, 243), 500), ((20, 20, 22), 300), ((200, 30, 40), 150)]]
        + [np.tile(_lab((60, 130, 60)), (50, 1))]
    )
    assert [c.name for c in garment_colours(pixels)] == ["white", "black", "red"]


def test_too_few_garment_pixels_give_no_colour_instead_of_a_guess():
    assert garment_colours(np.tile(_lab((200, 30, 40)), (50, 1))) == []
    assert not colour_features(np.tile(_lab((200, 30, 40)), (50, 1))).any()


def test_colour_features_are_close_for_the_same_colour_and_far_for_another():
    red = colour_features(np.tile(_lab((200, 30, 40)), (500, 1)))
    darker_red = colour_features(np.tile(_lab((180, 35, 45)), (500, 1)))
    navy = colour_features(np.tile(_lab((30, 40, 75)), (500, 1)))
    assert np.linalg.norm(red) == pytest.approx(1.0, abs=1e-5)
    assert float(red @ darker_red) > 0.9
    assert float(red @ navy) < 0.2


def _garment_photo(colour, background=(120, 90, 60), size=(240, 320), stripes=None) -> tuple[Image.Image, np.ndarray]:
    """A T-shirt-like shape on a floor-coloured background, with its true mask."""
    image = Image.new("RGB", size, background)
    mask = Image.new("L", size, 0)
    w, h = size
    shape = [(w * 0.3, h * 0.15), (w * 0.7, h * 0.15), (w * 0.85, h * 0.35), (w * 0.72, h * 0.4), (w * 0.72, h * 0.85),
             (w * 0.28, h * 0.85), (w * 0.28, h * 0.4), (w * 0.15, h * 0.35)]  # fmt: skip
    ImageDraw.Draw(image).polygon(shape, fill=colour)
    ImageDraw.Draw(mask).polygon(shape, fill=255)
    if stripes:
        overlay = Image.new("RGB", size, colour)
        draw = ImageDraw.Draw(overlay)
        for y in range(0, h, 16):
            draw.rectangle([0, y, w, y + 7], fill=stripes)
        image.paste(overlay, (0, 0), mask)
    return image, np.asarray(mask) >= 128


def test_the_blend_mask_finds_a_garment_on_a_floor_and_its_colour_ignores_the_floor():
    image, truth = _garment_photo((200, 30, 40))
    alpha = truth.astype(np.float64) * 0.6  # a hesitant U-Net
    mask = product_mask(image, alpha)
    assert iou(mask, truth) > 0.9
    look = measure_garment(image, mask)
    assert look.colours[0].name == "red"
    assert look.pattern == "plain"


def test_the_mask_is_empty_for_a_blank_photo_and_the_colour_is_unknown():
    blank = Image.new("RGB", (200, 260), (230, 230, 228))
    mask = product_mask(blank, np.zeros((260, 200)))
    assert mask.shape == (260, 200) and not mask.any()
    look = measure_garment(blank, mask)
    assert look.colours == [] and look.pattern is None


def test_stripes_are_striped_and_a_flat_colour_is_plain():
    striped, truth = _garment_photo((240, 240, 240), stripes=(30, 40, 75))
    assert garment_pattern(striped, truth, main_share=0.5) == "striped"
    plain, truth = _garment_photo((30, 40, 75))
    assert garment_pattern(plain, truth, main_share=1.0) == "plain"


def test_a_white_filled_crop_reads_its_colour_from_the_non_white_pixels():
    crop = Image.new("RGB", (120, 160), (255, 255, 255))
    crop.paste(Image.new("RGB", (60, 90), (30, 40, 75)), (30, 35))
    assert measure_garment(crop, None).colours[0].name == "navy"


def test_the_look_vector_blends_shape_colour_and_pattern_with_the_given_weights():
    rng = np.random.default_rng(0)
    shape = rng.normal(size=512)
    red = colour_features(np.tile(_lab((200, 30, 40)), (500, 1)))
    navy = colour_features(np.tile(_lab((30, 40, 75)), (500, 1)))
    plain = np.array([1, 0, 0, 0], dtype=np.float32)
    weights = LookWeights(shape=1.0, colour=1.0, pattern=0.0)
    a, b = look_vector(shape, red, plain, weights), look_vector(shape, navy, plain, weights)
    assert a.shape == (LOOK_DIM,) and np.linalg.norm(a) == pytest.approx(1.0, abs=1e-5)
    # Same shape, other colour: the cosine is the weighted mean of 1 (shape) and red·navy.
    assert float(a @ b) == pytest.approx((1.0 + float(red @ navy)) / 2, abs=1e-4)


def test_a_curators_named_colours_give_the_signature_of_that_colour():
    measured = colour_features(np.tile(PALETTE_LAB[NAMES.index("navy")], (500, 1)))
    named = named_colour_features([{"name": "navy", "share": 1.0}])
    assert float(measured @ named) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(
    ("relative", "names"),
    [
        ("clothing/dress/07cddef1-1fc8-47e4-a28a-613e60912590.jpg", {"pink", "coral"}),  # pink top on a wood floor
        ("clothing/pants/0257eb81-f3d3-4704-8299-8b6ab20f1ed4.jpg", {"khaki", "sand", "camel"}),  # chinos on tiles
        ("clothing/t-shirt/06de9ebd-be39-4cc6-aea7-1d047ccf1a52.jpg", {"white"}),  # white tee on a pink wall
    ],
)
def test_committed_catalog_photos_get_a_mask_without_the_frame_and_their_true_colour(relative, names):
    from core.images import open_image
    from recommender.ml.segmentation.background import remove_background
    from training.segmentation.catalog_check import alpha_regions

    image = open_image(FIXTURES / relative)
    mask = product_mask(image, np.asarray(remove_background(image))[..., 3])
    _, centre, border = alpha_regions(mask.astype(float))
    assert centre > 0.6
    assert border < 0.1
    assert measure_garment(image, mask).colours[0].name in names


def _garment(*parts: tuple[tuple[float, float, float], int]) -> np.ndarray:
    """Lab pixels of a garment made of flat shades: ((L, a, b), pixel count) each."""
    return np.concatenate([np.tile(np.array(lab, dtype=np.float64), (n, 1)) for lab, n in parts])


@pytest.mark.parametrize(
    ("lab", "name"),
    [
        ((54.0, 12.0, -10.0), "lilac"),  # lilac tulle in shade (it read denim)
        ((58.0, 21.0, -5.0), "pink"),  # a pink dress in shade (it read lilac once the above existed)
    ],
)
def test_pale_colours_in_shade_keep_their_name(lab, name):
    assert name_lab(np.array(lab)) == name


def test_the_shadowed_half_of_a_dark_navy_dress_is_navy_not_black():
    # Tinted darks (chroma ≥ 6, blue) next to a navy: the dress is navy, in shade and in light.
    pixels = _garment(((12.8, 2.7, -6.2), 450), ((23.1, 3.1, -10.1), 350), ((39.2, 2.2, -8.3), 110), ((80, 0, 0), 90))
    assert [c.name for c in garment_colours(pixels)][0] == "navy"


def test_a_blue_grey_puffer_is_named_by_its_blue_not_by_its_greys():
    pixels = _garment(
        ((35.8, 2.0, -6.5), 360), ((46.8, 2.1, -8.9), 280), ((60.0, 1.9, -8.1), 190), ((18.5, 2.3, -4.3), 140)
    )
    assert garment_colours(pixels)[0].name == "denim"


def test_black_with_blue_reflections_and_untinted_greys_keep_their_names():
    # Black leather boots: an untinted black mass, tinted darks and navy-looking highlights.
    boots = _garment(((3.7, 1.0, -1.8), 410), ((10.5, 1.4, -6.5), 250), ((21.5, 1.1, -10.2), 160), ((95, 0, 0), 40))
    assert garment_colours(boots)[0].name == "black"
    # Grey trousers with a navy stripe: the greys are untinted, they stay grey.
    trousers = _garment(((47.0, 0.0, -1.5), 600), ((21.0, 2.0, -13.0), 400))
    assert [c.name for c in garment_colours(trousers)] == ["grey", "navy"]
    # A tinted neutral in another hue (a warm grey beside a navy) is not a shade of it.
    warm = _garment(((45.0, 2.0, 8.0), 600), ((21.0, 2.0, -13.0), 400))
    assert garment_colours(warm)[0].name == "grey"


def test_naming_anchors_and_rules_leave_the_colour_features_as_they_were():
    # Stored look vectors depend on the features: one value per palette entry, naming anchors aside.
    pixels = _garment(((12.8, 2.7, -6.2), 450), ((23.1, 3.1, -10.1), 350))
    assert colour_features(pixels).shape == (len(NAMES),) == (30,)
    assert LOOK_DIM == 512 + 30 + 4
