"""Shop by photo, measured: garment presence against CCP labels, and speed per step.

Both run the ``analyze_photo`` pipeline (``photo_analyze_file`` / ``photo_analyze``) unchanged;
this module only picks the photos, reads the labels and does the arithmetic.
"""

from __future__ import annotations

import io
import os
import statistics
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from django.core.files.base import ContentFile
from PIL import Image

from core.images import open_image
from recommender.ml.datasets.ccp import COARSE_CLASSES, list_samples, read_label_mapping, read_sample
from training.segmentation.evaluate import split_of

SLOTS = ("top", "bottom", "dress")
#: A slot is present in a photo when its pixels cover at least this share of it.
PRESENT_SHARE = 0.02
STEPS = ("decode", "segment", "embed", "match", "total")


def present_slots(labels: np.ndarray, *, min_share: float = PRESENT_SHARE) -> set[str]:
    """The slots whose labelled pixels cover at least ``min_share`` of the photo."""
    return {slot for slot in SLOTS if (labels == COARSE_CLASSES.index(slot)).mean() >= min_share}


def presence_scores(truth: Sequence[set[str]], found: Sequence[set[str]]) -> dict[str, dict[str, float]]:
    """Per slot: precision, recall and F1 of "this slot is in the photo", with the counts behind them."""
    scores = {}
    for slot in SLOTS:
        tp = sum(slot in t and slot in f for t, f in zip(truth, found, strict=True))
        fp = sum(slot not in t and slot in f for t, f in zip(truth, found, strict=True))
        fn = sum(slot in t and slot not in f for t, f in zip(truth, found, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[slot] = {
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f1": round(f1, 3),
            "tp": tp,
            "fp": fp,
            "fn": fn,
        }
    return scores


def ccp_photos(ccp_dir: str | Path, split: str) -> list:
    ids = split_of(ccp_dir, split)
    samples = list_samples(ccp_dir)
    return [s for s in samples if ids is None or s.id in set(ids)]


def evaluate_presence(ccp_dir: str | Path, *, split: str = "val", limit: int | None = None, progress=None) -> dict:
    """Run ``analyze_photo``'s pipeline over CCP photos and score garment presence per slot."""
    from recommender.services.photo_search import photo_analyze_file

    mapping = read_label_mapping(ccp_dir)
    samples = ccp_photos(ccp_dir, split)[:limit]
    truth, found, errors = [], [], 0
    for n, sample in enumerate(samples):
        _, labels = read_sample(sample, mapping)
        report = photo_analyze_file(path=str(sample.photo_path))
        if "error" in report:
            errors += 1
        truth.append(present_slots(labels))
        found.append({g["slot"] for g in report.get("garments", [])})
        if progress:
            progress(n + 1, len(samples))
    return {
        "images": len(samples),
        "split": split,
        "errors": errors,
        "present_share": PRESENT_SHARE,
        "support": {slot: sum(slot in t for t in truth) for slot in SLOTS},
        "slots": presence_scores(truth, found),
    }


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q * 100)) if values else 0.0


def _jpeg_at(path: Path, side: int) -> bytes:
    image = open_image(path)
    scale = side / max(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def benchmark_speed(photos: Iterable[Path], *, side: int = 1024, warmup: int = 1) -> dict:
    """Upload-to-results time per photo (resized to ``side`` px on the long side), per step, p50 and p95,
    with the process's CPU time and the machine's load average (the machine may be shared).

    The models are loaded (and the first ``warmup`` photos run) before timing starts."""
    from recommender.services.photo_search import photo_analyze

    photos = list(photos)
    payloads = [_jpeg_at(p, side) for p in photos]
    for data in payloads[:warmup]:
        photo_analyze(upload=ContentFile(data, name="warmup.jpg"))
    per_step: dict[str, list[float]] = {s: [] for s in STEPS}
    wall, cpu = [], []
    for data in payloads:
        started, cpu_started = time.perf_counter(), time.process_time()
        search = photo_analyze(upload=ContentFile(data, name="photo.jpg"))
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        for step in STEPS:
            per_step[step].append(search.timings.get(step, 0))
    summary = {
        step: {"p50": round(statistics.median(v)), "p95": round(_percentile(v, 0.95))} for step, v in per_step.items()
    }
    summary["wall"] = {"p50": round(statistics.median(wall)), "p95": round(_percentile(wall, 0.95))}
    # CPU time of the process (all its threads): on cores nobody else uses, the wall time of a
    # CPU-bound job is at most this (plus I/O waits), whatever else runs on a shared machine.
    summary["cpu"] = {"p50": round(statistics.median(cpu)), "p95": round(_percentile(cpu, 0.95))}
    return {
        "photos": len(payloads),
        "side": side,
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "ms": summary,
    }
