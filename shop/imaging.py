"""The shop's own work on a product photo: its thumbnail (no ORM).

What the photo shows (garment mask, colours, pattern) is measured by another app and reaches the
shop as plain values (:mod:`shop.photo_analysis`).
"""

from __future__ import annotations

import io

from PIL import Image

THUMBNAIL_SIZE = (480, 640)


def thumbnail_jpeg(image: Image.Image) -> bytes:
    """The photo shrunk to fit :data:`THUMBNAIL_SIZE`, as an optimised JPEG."""
    thumb = image.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    buffer = io.BytesIO()
    thumb.convert("RGB").save(buffer, format="JPEG", quality=85, optimize=True)
    return buffer.getvalue()
