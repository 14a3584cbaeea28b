"""Upload validation shared by admin forms, storefront forms and the API."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image

from recommender.ml.images import ImageError, open_image

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO"}


def validate_image_upload(upload) -> Image.Image:
    """Check an uploaded file is a real, decodable, reasonably sized image; return it decoded.

    Raises ``ValidationError`` with a message for people; the file position is reset
    so the caller can still save the original bytes.
    """
    size = getattr(upload, "size", None)
    if size is not None and size > settings.MAX_UPLOAD_BYTES:
        raise ValidationError(
            f"The file is {size / 1e6:.1f} MB; the limit is {settings.MAX_UPLOAD_BYTES / 1e6:.0f} MB.",
            code="file_too_large",
        )
    try:
        image = open_image(upload, max_pixels=settings.MAX_IMAGE_PIXELS)
        upload.seek(0)
        with Image.open(upload) as probe:  # safe now: the size is known to be sane
            fmt = probe.format
        if fmt not in ALLOWED_FORMATS:
            raise ImageError(f"{fmt or 'This'} images are not accepted; use JPEG, PNG or WebP.")
    except ImageError as exc:
        raise ValidationError(str(exc), code="invalid_image") from exc
    except Exception as exc:  # noqa: BLE001 - anything Pillow throws means "not an image"
        raise ValidationError("The file is not an image format we can read.", code="invalid_image") from exc
    finally:
        upload.seek(0)
    return image
