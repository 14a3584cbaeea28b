"""CPU/GPU speed of the shipped segmenter: network throughput and one photo end to end.

    python -m training.segmentation.benchmark [--threads 1,2] [--photo PATH]

Prints one JSON line per measurement:

* ``throughput``: images/s of the network alone at the production input size
  (preprocessed batches, ``inference_mode``), per thread count;
* ``end_to_end``: one 1024-px JPEG (``--photo`` resized so its long side is 1024, or a
  synthetic image) from bytes to garments: ``open_image`` decode, then ``segment``
  (preprocess, forward, upsampling to 1024 px, components, white-filled crops).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image

from core.images import open_image
from recommender.ml.segmentation.inference import Segmenter

LONG_SIDE = 1024


def timed(function: Callable[[], object], repeats: int) -> list[float]:
    """Seconds per call for ``repeats`` calls, after one untimed warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def sample_photo_bytes(path: str | None) -> bytes:
    """A JPEG whose long side is 1024 px: the given photo resized, or a smooth synthetic image."""
    if path:
        image = open_image(path)
    else:
        y, x = np.mgrid[0:683, 0:1024]
        image = Image.fromarray(np.stack([x % 256, y % 256, (x + y) % 256], axis=-1).astype(np.uint8))
    scale = LONG_SIDE / max(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def throughput(segmenter: Segmenter, batch_size: int, repeats: int) -> float:
    height, width = segmenter.config.input_size
    batch = torch.randn(batch_size, 3, height, width, device=segmenter.device)

    def forward() -> None:
        with torch.inference_mode():
            segmenter.model(batch).softmax(dim=1)
        if segmenter.device.type == "cuda":
            torch.cuda.synchronize()

    return batch_size / statistics.median(timed(forward, repeats))


def end_to_end(segmenter: Segmenter, data: bytes, repeats: int) -> dict[str, float]:
    image = open_image(data)
    decode = timed(lambda: open_image(data), repeats)
    segment = timed(lambda: segmenter.segment([image]), repeats)
    return {
        "size": list(image.size),
        "decode_ms": round(1000 * statistics.median(decode), 1),
        "segment_ms": round(1000 * statistics.median(segment), 1),
        "total_ms": round(1000 * (statistics.median(decode) + statistics.median(segment)), 1),
        "garments": len(segmenter.segment([image])[0].garments),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.segmentation.benchmark",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--threads", default="1,2", help="comma-separated torch thread counts")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--photo", default=None, help="photo for the end-to-end timing (default: synthetic)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--weights-dir", default=None)
    parser.add_argument("--name", default="unet-ccp", help="weights name (compare models in one run)")
    args = parser.parse_args(argv)
    segmenter = Segmenter.load(args.device, args.name, args.weights_dir)
    data = sample_photo_bytes(args.photo)
    common = {
        "device": str(segmenter.device),
        "model": segmenter.version,
        "input_size": list(segmenter.config.input_size),
        "architecture": segmenter.config.architecture,
        "base": segmenter.config.base,
    }
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        rate = throughput(segmenter, args.batch_size, args.repeats)
        print(
            json.dumps(
                {
                    "measure": "throughput",
                    **common,
                    "threads": threads,
                    "batch_size": args.batch_size,
                    "images_per_s": round(rate, 1),
                }
            ),
            flush=True,
        )
        print(
            json.dumps(
                {
                    "measure": "end_to_end",
                    **common,
                    "threads": threads,
                    **end_to_end(segmenter, data, args.repeats),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
