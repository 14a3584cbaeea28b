"""Photometric and geometric jitter of one garment crop, drawn independently for every garment.

A top and a bottom cut from one street photo share its light, white balance, exposure,
sharpness and JPEG quality, and the person's pose and the camera's angle. Jittering each
garment on its own, before its colour, texture and silhouette are measured, makes those
shared photo cues useless for telling a real pair from a made-up one, so the model has to
learn from the garments themselves.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

WHITE = 255


def photometric_jitter(crop: Image.Image, mask: np.ndarray | None, rng: np.random.Generator) -> Image.Image:
    """``crop`` under another light and camera: white balance ±12 % per channel, exposure ×0.75..1.3,
    gamma 0.8..1.25, saturation ×0.75..1.25, blur up to 1 px, JPEG quality 35..95.

    Pixels outside ``mask`` stay white fill."""
    levels = np.arange(256, dtype=np.float32) / 255.0
    gains = rng.uniform(0.88, 1.12, size=3) * rng.uniform(0.75, 1.3)
    gamma = rng.uniform(0.8, 1.25)
    # White balance, exposure and gamma are per-channel curves: one lookup table does all three.
    table = np.concatenate([np.clip(levels * g, 0, 1) ** gamma for g in gains])
    out = crop.convert("RGB").point((table * 255).round().astype(np.uint8).tolist())
    out = ImageEnhance.Color(out).enhance(rng.uniform(0.75, 1.25))
    radius = rng.uniform(0.0, 1.0)
    if radius > 0.5:
        out = out.filter(ImageFilter.GaussianBlur(radius))
    buffer = io.BytesIO()
    out.save(buffer, format="JPEG", quality=int(rng.integers(35, 96)))
    buffer.seek(0)
    pixels = np.asarray(Image.open(buffer).convert("RGB")).copy()
    if mask is not None:
        pixels[~np.asarray(mask, dtype=bool)] = WHITE
    return Image.fromarray(pixels)


def geometric_jitter(
    crop: Image.Image, mask: np.ndarray, rng: np.random.Generator, *, stretch: float = 0.15, cut: float = 0.1
) -> tuple[Image.Image, np.ndarray]:
    """``crop`` and its ``mask`` seen another way: up to ``cut`` of the height taken off the top or the
    bottom (a garment cut by the photo's edge or hidden by a bag), and the width stretched by a factor
    between 1 - ``stretch`` and 1 / (1 - ``stretch``) (a body seen at an angle)."""
    pixels, mask = np.asarray(crop.convert("RGB")), np.asarray(mask, dtype=bool)
    height, width = mask.shape
    rows = int(rng.uniform(0, cut) * height)
    if rows and height - rows >= 4:
        keep = slice(rows, None) if rng.random() < 0.5 else slice(0, height - rows)
        pixels, mask = pixels[keep], mask[keep]
    factor = float(np.exp(rng.uniform(np.log(1 - stretch), -np.log(1 - stretch))))
    size = (max(1, round(width * factor)), mask.shape[0])
    out = np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR)).copy()
    out_mask = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)) > 0
    out[~out_mask] = WHITE
    return Image.fromarray(out), out_mask
