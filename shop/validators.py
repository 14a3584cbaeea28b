"""The shop's input rules, shared by every door (pages, API, admin, CSV import, photo search).

- :func:`clean_text` — the one rule for free-text parameters (query strings, path parts,
  CSV cells): control characters such as NUL go, whitespace is trimmed, length is capped.
  PostgreSQL refuses NUL in a text value, so a NUL that reached a query used to be a 500.
- :func:`image_upload_clean` — the one rule for an uploaded or imported image: it must decode
  as a still JPEG, PNG or WebP within the size limits; the name it is stored under comes from
  the decoded format and the content hash (``<sha256>.jpg``), never from the client.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.functional import lazy
from PIL import Image

from core.images import ImageError, open_image

# Every C0/C1 control character except tab, newline and carriage return (which a description may hold).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SINGLE_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_text(value, *, max_length: int | None = 100, multiline: bool = False) -> str:
    """A text parameter made safe to compare, store and show.

    Control characters (NUL first of all) are removed, not escaped: no shopper types them,
    and a search for ``"shirt\\x00"`` means ``"shirt"``. ``multiline`` keeps tabs and line
    breaks (descriptions); otherwise every control character goes.
    """
    if value is None:
        return ""
    text = (_CONTROL if multiline else _SINGLE_LINE_CONTROL).sub("", str(value)).strip()
    return text[:max_length] if max_length is not None else text


# Decoded format -> the suffix its stored file gets. Anything else is refused.
IMAGE_SUFFIXES = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# Formats that are accepted by re-encoding them to one of the above (a phone's multi-picture JPEG).
REENCODED_FORMATS = {"MPO": "JPEG"}
ALLOWED_FORMATS = set(IMAGE_SUFFIXES) | set(REENCODED_FORMATS)
MIB = 1024 * 1024


def size_for_people(size: int, *, round_up: bool = False) -> str:
    """A byte count in binary units, as the README states ``MAX_UPLOAD_BYTES``: ``15 MiB``, ``15.1 MiB``,
    ``10 KiB``. ``round_up`` for a file's own size, so a file one byte over a limit never reads as
    the limit itself; a limit is rounded down, so a file of the size shown always passes."""
    whole, unit, step = (10, "MiB", MIB / 10) if size >= MIB else (1, "KiB", 1024)
    steps = math.ceil(size / step) if round_up else math.floor(size / step)
    return f"{steps / whole:.1f}".removesuffix(".0") + f" {unit}"


def image_help_text() -> str:
    return (
        f"JPEG, PNG or WebP; at most {size_for_people(settings.MAX_UPLOAD_BYTES)} "
        f"and {settings.MAX_IMAGE_PIXELS / 1e6:g} megapixels."
    )


# Read when shown (form and API field help), so it always states the configured limits.
IMAGE_HELP_TEXT = lazy(image_help_text, str)()


def file_too_large_message(size: int) -> str:
    return f"The file is {size_for_people(size, round_up=True)}; the limit is {size_for_people(settings.MAX_UPLOAD_BYTES)}."


@dataclass(frozen=True)
class CleanImage:
    """An image that passed :func:`image_upload_clean`, ready to store."""

    content: ContentFile  # the bytes to store, named ``<sha256>.<suffix>``
    format: str  # "JPEG", "PNG" or "WEBP"
    sha256: str
    image: Image.Image  # decoded (RGB), for analysis

    @property
    def name(self) -> str:
        return cast(str, self.content.name)  # always built with its name (see image_upload_clean)


def _read_all(upload) -> bytes:
    if isinstance(upload, bytes | bytearray):
        return bytes(upload)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read()
    if hasattr(upload, "seek"):
        upload.seek(0)
    return data


def stored_image_name(data: bytes, fmt: str) -> str:
    """``<sha256>.<suffix>`` for bytes already known to be an image of format ``fmt``."""
    return f"{hashlib.sha256(data).hexdigest()}.{IMAGE_SUFFIXES[fmt]}"


def image_format(data: bytes) -> str:
    """The format the bytes *declare* (header only, nothing decoded); refuses non-images.

    Used to name files whose full check happens later (a damaged photo is stored, then
    recorded as failed by the worker); entry points call :func:`image_upload_clean`."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
    except Exception as exc:  # noqa: BLE001 - anything Pillow throws means "not an image"
        raise ValidationError("The file is not an image format we can read.", code="invalid_image") from exc
    if fmt not in ALLOWED_FORMATS:
        raise ValidationError(f"{fmt or 'This'} images are not accepted; use JPEG, PNG or WebP.", code="invalid_image")
    return REENCODED_FORMATS.get(fmt, fmt)


def image_upload_clean(upload) -> CleanImage:
    """The one upload rule: admin, API, CSV import and photo search all call this.

    ``upload`` is a Django ``File``/``UploadedFile``, any binary file object, or bytes.
    The file must be at most ``MAX_UPLOAD_BYTES``, at most ``MAX_IMAGE_PIXELS``, decode
    completely, be a *still* image, and be JPEG, PNG or WebP (a multi-picture JPEG is
    re-encoded as a plain JPEG). GIF, BMP, TIFF, SVG, HTML, animations and anything else
    are refused. The returned content is named ``<sha256>.<suffix>`` from the decoded
    format, so a client's file name (``x.html``) never reaches storage.

    Raises ``ValidationError`` (code ``file_too_large`` or ``invalid_image``) with a message
    for people.
    """
    size = getattr(upload, "size", None)
    if size is None and isinstance(upload, bytes | bytearray):
        size = len(upload)
    if size is not None and size > settings.MAX_UPLOAD_BYTES:
        raise ValidationError(
            file_too_large_message(size),
            code="file_too_large",
        )
    data = _read_all(upload)
    if len(data) > settings.MAX_UPLOAD_BYTES:
        raise ValidationError(
            file_too_large_message(len(data)),
            code="file_too_large",
        )
    try:
        decoded = open_image(data, max_pixels=settings.MAX_IMAGE_PIXELS)  # size checked before decoding
    except ImageError as exc:
        raise ValidationError(str(exc), code="invalid_image") from exc
    except Exception as exc:  # noqa: BLE001
        raise ValidationError("The file is not an image format we can read.", code="invalid_image") from exc
    try:
        with Image.open(io.BytesIO(data)) as probe:
            declared = probe.format
            frames = getattr(probe, "n_frames", 1)
    except Exception as exc:  # noqa: BLE001
        raise ValidationError("The file is not an image format we can read.", code="invalid_image") from exc
    if declared not in ALLOWED_FORMATS:
        raise ValidationError(
            f"{declared or 'This'} images are not accepted; use JPEG, PNG or WebP.", code="invalid_image"
        )
    if declared in REENCODED_FORMATS:
        fmt = REENCODED_FORMATS[declared]
        buffer = io.BytesIO()
        decoded.save(buffer, format=fmt, quality=92)
        data = buffer.getvalue()
    elif frames > 1:
        raise ValidationError("Animated images are not accepted; use a still JPEG, PNG or WebP.", code="invalid_image")
    else:
        fmt = declared
    name = stored_image_name(data, fmt)
    return CleanImage(content=ContentFile(data, name=name), format=fmt, sha256=name.split(".", 1)[0], image=decoded)


def validate_image_upload(upload) -> Image.Image:
    """Form/serializer validator form of :func:`image_upload_clean`: the decoded image, or ValidationError."""
    return image_upload_clean(upload).image
