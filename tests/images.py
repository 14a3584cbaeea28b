"""Tiny real image files for tests."""

from __future__ import annotations

import io

from PIL import Image


def jpeg_bytes(colour=(200, 30, 40), size=(60, 80), background=(235, 235, 235)) -> bytes:
    """A photo-like JPEG: a coloured garment-shaped block on a light background."""
    image = Image.new("RGB", size, background)
    w, h = size
    image.paste(Image.new("RGB", (w // 2, h // 2), colour), (w // 4, h // 4))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def png_bytes(size=(40, 40), mode="RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format="PNG")
    return buffer.getvalue()


def truncated_jpeg() -> bytes:
    data = jpeg_bytes(size=(200, 200))
    return data[: len(data) // 2]


def bomb_png(width=20_000, height=15_000) -> bytes:
    """A 300-megapixel PNG that compresses to a few hundred KB: it must be refused unread."""
    image = Image.new("1", (width, height))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def garment_image(stripes=((25, 35, 70),), *, size=(240, 320), background=(235, 235, 235), stripe=12) -> Image.Image:
    """A garment-shaped block on a light background, in horizontal stripes of the given colours
    (one colour: a plain garment), and its mask."""
    image = Image.new("RGB", size, background)
    w, h = size
    for i, y in enumerate(range(h // 8, h * 7 // 8, stripe)):
        image.paste(Image.new("RGB", (w * 3 // 4 - w // 4, stripe), stripes[i % len(stripes)]), (w // 4, y))
    return image


def garment_mask(size=(240, 320)):
    import numpy as np

    w, h = size
    mask = np.zeros((h, w), dtype=bool)
    mask[h // 8 : h * 7 // 8, w // 4 : w * 3 // 4] = True
    return mask
