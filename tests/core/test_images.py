import io

import pytest
from PIL import Image

from core.images import ImageError, open_image
from tests.images import bomb_png, jpeg_bytes, truncated_jpeg


def test_any_mode_becomes_rgb_and_transparency_becomes_white():
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    buffer = io.BytesIO()
    rgba.save(buffer, format="PNG")
    image = open_image(buffer.getvalue())
    assert image.mode == "RGB" and image.getpixel((0, 0)) == (255, 255, 255)
    for mode in ("L", "CMYK", "P", "I;16"):
        buffer = io.BytesIO()
        Image.new(mode, (3, 2)).save(buffer, format="TIFF")
        assert open_image(buffer.getvalue()).mode == "RGB"


def test_exif_orientation_is_applied():
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    assert open_image(buffer.getvalue()).size == (20, 40)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"plain text", "not an image"),
        (truncated_jpeg(), "damaged or truncated"),
        (bomb_png(), "megapixels"),
    ],
    ids=["text", "truncated", "bomb"],
)
def test_bad_inputs_raise_a_clear_image_error(data, message):
    with pytest.raises(ImageError, match=message):
        open_image(data)


def test_the_pixel_limit_is_checked_before_decoding():
    with pytest.raises(ImageError, match="limit is 0 megapixels"):
        open_image(jpeg_bytes(size=(800, 600)), max_pixels=100_000)
