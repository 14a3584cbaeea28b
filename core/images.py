"""Safe image decoding shared by every entry point (uploads, imports, training, serving).

Every image that enters the system goes through :func:`open_image`, which:

* refuses non-images and truncated files with :class:`ImageError`;
* refuses decompression bombs (more than ``max_pixels`` pixels) *before* decoding;
* applies the EXIF orientation, so a phone photo is upright;
* converts any mode (RGBA, LA, P, greyscale, CMYK, 16-bit) to RGB, compositing
  transparency onto white.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

#: 40 megapixels: a 8000x5000 photo passes, a 200-megapixel upload does not.
DEFAULT_MAX_PIXELS = 40_000_000

ImageSource = str | os.PathLike | bytes | BinaryIO


class ImageError(ValueError):
    """The input is not an image we can use; the message is safe to show to a person."""


def _as_file(source: ImageSource) -> BinaryIO | str | os.PathLike:
    if isinstance(source, (bytes, bytearray)):
        return io.BytesIO(source)
    return source


def open_image(source: ImageSource, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode ``source`` into an upright RGB image, or raise :class:`ImageError`."""
    fp = _as_file(source)
    if hasattr(fp, "seek"):
        fp.seek(0)
    try:
        with Image.open(fp) as probe:
            width, height = probe.size
            if width <= 0 or height <= 0:
                raise ImageError("The image has no pixels.")
            if width * height > max_pixels:
                raise ImageError(
                    f"The image is too large ({width}x{height} = {width * height / 1e6:.0f} megapixels); "
                    f"the limit is {max_pixels / 1e6:.0f} megapixels."
                )
            probe.load()
            image = ImageOps.exif_transpose(probe)
            return to_rgb(image)
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageError("The file is not an image format we can read.") from exc
    except Image.DecompressionBombError as exc:
        # Pillow refuses absurd sizes inside Image.open, before our own check can run.
        raise ImageError(f"The image is too large; the limit is {max_pixels / 1e6:.0f} megapixels.") from exc
    except FileNotFoundError as exc:
        raise ImageError(f"The image file does not exist: {Path(str(source)).name}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        # Truncated or otherwise broken data surfaces as OSError from load().
        raise ImageError(f"The image is damaged or truncated ({exc}).") from exc


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode to RGB; transparent pixels become white (the catalog's background)."""
    if image.mode == "RGB":
        return image.copy() if image.readonly else image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit greyscale: scale down to 8 bits before converting.
        image = image.point(lambda v: v / 256).convert("L")
    return image.convert("RGB")
