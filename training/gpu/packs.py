"""Compact training packs for the GPU runs (``make gpu-packs``).

    python -m training.gpu.packs --ccp ../shared/datasets/ccp \\
        --catalog ../shared/datasets/clothing-small --out gpu/packs [--pseudo runs/pseudo/ccp-tagged.npz]

One ``.npz`` per model, loadable with ``allow_pickle=False`` (nothing is unpickled):

* ``segmentation.npz`` — every annotated CCP photo at the training size (default 384x256,
  HxW) as WebP bytes (``images`` + ``offsets``), its coarse label map (``labels``, uint8,
  255 = ignored) and ``split`` (0 train, 1 validation: the project's fixed split, seed 0),
  plus, while the byte budget lasts, pseudo-labelled ccp-tagged photos (split 2);
* ``embedder.npz`` — catalog train/validation photos and CCP street garment crops (true
  masks, the project's split), each letterboxed exactly as served at ``--emb-size`` px,
  with ``classes``, ``domains`` (0 catalog, 1 street) and ``split``.

The device takes a working tree of at most 64 MiB, tracked files included; the command
prints each pack's size next to that budget and fails if a pack would not fit.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

#: The device's limit on the working tree that travels (tracked files + carried paths).
TREE_LIMIT_BYTES = 64 * 1024 * 1024
#: Kept free for files added after the packs are built (docs, small code changes).
TREE_MARGIN_BYTES = 512 * 1024

TRAIN, VAL, PSEUDO = 0, 1, 2
CATALOG, STREET = 0, 1


def encode_image(image: np.ndarray | Image.Image, *, quality: int = 85) -> bytes:
    """One image as WebP bytes."""
    picture = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image, dtype=np.uint8))
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, "WEBP", quality=quality, method=4)
    return buffer.getvalue()


def join_blobs(blobs: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """All blobs as one uint8 array plus N+1 offsets."""
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(blob) for blob in blobs])
    return np.frombuffer(b"".join(blobs), dtype=np.uint8).copy(), offsets


def decode_images(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 from :func:`join_blobs`' output (all images of a pack share one size)."""
    raw = data.tobytes()
    images = [
        np.asarray(Image.open(io.BytesIO(raw[offsets[i] : offsets[i + 1]])).convert("RGB"))
        for i in range(len(offsets) - 1)
    ]
    return np.stack(images)


def read_pack(path: str | os.PathLike) -> dict[str, np.ndarray | dict]:
    """Every array of a pack, images decoded, ``meta`` parsed; pickles are refused."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["images"] = decode_images(arrays.pop("images"), arrays.pop("offsets"))
    arrays["meta"] = json.loads(str(arrays["meta"]))
    return arrays


def write_pack(path: str | os.PathLike, blobs: Sequence[bytes], *, meta: dict, **arrays: np.ndarray) -> int:
    """Write one pack from encoded images and arrays; returns its size in bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data, offsets = join_blobs(blobs)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, images=data, offsets=offsets, meta=np.asarray(json.dumps(meta)), **arrays)
    os.replace(tmp, path)
    return path.stat().st_size


def segmentation_pack(
    ccp_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    size: tuple[int, int] = (384, 256),
    quality: int = 85,
    pseudo: str | os.PathLike | None = None,
    max_bytes: int | None = None,
    limit: int | None = None,
    progress: bool = True,
) -> dict:
    """CCP photos and labels at ``size`` (HxW), then pseudo-labelled photos while under ``max_bytes``."""
    from recommender.ml.datasets.ccp import read_label_mapping, read_sample
    from recommender.ml.segmentation.transforms import resize_labels
    from training.segmentation.data import SPLIT_SEED, VAL_FRACTION, train_val_samples

    height, width = size
    mapping = read_label_mapping(ccp_dir)
    train, val = train_val_samples(ccp_dir)
    if limit:
        train, val = train[:limit], val[: max(1, limit // 4)]
    blobs, labels, splits, ids = [], [], [], []
    for split, samples in ((TRAIN, train), (VAL, val)):
        for sample in tqdm(samples, desc=f"ccp split {split}", disable=not progress, mininterval=5):
            image, coarse = read_sample(sample, mapping)
            blobs.append(encode_image(image.resize((width, height), Image.Resampling.BILINEAR), quality=quality))
            labels.append(resize_labels(coarse, size))
            splits.append(split)
            ids.append(sample.id)
    meta = {
        "kind": "segmentation",
        "size": [height, width],
        "classes": ["background", "top", "bottom", "dress"],
        "source": str(ccp_dir),
        "split": {
            "seed": SPLIT_SEED,
            "val_fraction": VAL_FRACTION,
            "val_ids": [i for i, s in zip(ids, splits, strict=True) if s == VAL],
        },
        "quality": quality,
    }
    if pseudo:
        used = sum(map(len, blobs)) + sum(len(zlib.compress(label.tobytes(), 6)) for label in labels)
        with np.load(pseudo, allow_pickle=False) as data:
            extra_images, extra_labels = data["images"], data["labels"]
            extra_ids = [str(i) for i in data["ids"]]
            pseudo_meta = json.loads(str(data["meta"]))
        kept = 0
        for array, label, photo_id in zip(extra_images, extra_labels, extra_ids, strict=True):
            blob = encode_image(
                Image.fromarray(array).resize((width, height), Image.Resampling.BILINEAR), quality=quality
            )
            label = resize_labels(label, size)
            cost = len(blob) + len(zlib.compress(label.tobytes(), 6))
            # 2 % headroom: the estimate above is per label map, the npz compresses them together.
            if max_bytes is not None and (used + cost) * 1.02 > max_bytes:
                break
            used += cost
            blobs.append(blob)
            labels.append(label)
            splits.append(PSEUDO)
            ids.append(photo_id)
            kept += 1
        meta["pseudo"] = {**pseudo_meta, "kept": kept, "offered": len(extra_ids)}
    written = write_pack(
        out, blobs, meta=meta, labels=np.stack(labels), split=np.asarray(splits, np.uint8), ids=np.asarray(ids)
    )
    return {
        "path": str(out),
        "bytes": written,
        "photos": len(ids),
        "size": [height, width],
        "pseudo": meta.get("pseudo"),
    }


def embedder_pack(
    catalog_dir: str | os.PathLike,
    ccp_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    size: int = 112,
    quality: int = 85,
    limit: int | None = None,
    progress: bool = True,
) -> dict:
    """Catalog photos and street crops, letterboxed at the serving ``size`` exactly as ``preprocess`` does."""
    from core.images import open_image
    from recommender.ml.embedding.preprocess import letterbox
    from training.embedding.data import CATALOG_CLASSES, list_image_tree, street_crops

    catalog_dir = Path(catalog_dir)
    blobs, classes, domains, splits = [], [], [], []
    for split, folder in ((TRAIN, "train"), (VAL, "validation")):
        items = list_image_tree(catalog_dir / folder)
        if limit:
            items = items[:: max(1, len(items) // limit)]
        for path, name in tqdm(items, desc=f"catalog {folder}", disable=not progress, mininterval=5):
            blobs.append(encode_image(letterbox(open_image(path), size), quality=quality))
            classes.append(CATALOG_CLASSES.index(name))
            domains.append(CATALOG)
            splits.append(split)
    for split, name in ((TRAIN, "train"), (VAL, "val")):
        for count, crop in enumerate(
            tqdm(street_crops(ccp_dir, name), desc=f"street {name}", disable=not progress, mininterval=5)
        ):
            if limit and count >= limit:
                break
            blobs.append(encode_image(letterbox(crop.image, size), quality=quality))
            classes.append(CATALOG_CLASSES.index(crop.label))
            domains.append(STREET)
            splits.append(split)
    meta = {"kind": "embedder", "size": size, "classes": list(CATALOG_CLASSES), "quality": quality, "letterbox": True}
    written = write_pack(
        out,
        blobs,
        meta=meta,
        classes=np.asarray(classes, np.int64),
        domains=np.asarray(domains, np.uint8),
        split=np.asarray(splits, np.uint8),
    )
    return {"path": str(out), "bytes": written, "images": len(blobs), "size": size}


def tree_bytes(root: str | os.PathLike = ".") -> int:
    """Bytes of what travels without ``carry``: tracked files plus untracked files git does not ignore."""
    total = 0
    for flags in (["--cached"], ["--others", "--exclude-standard"]):
        listing = subprocess.run(
            ["git", "ls-files", "-z", *flags], cwd=root, capture_output=True, check=True
        ).stdout.split(b"\0")
        for name in listing:
            path = Path(root) / os.fsdecode(name)
            if name and path.is_file() and not path.is_symlink():
                total += path.stat().st_size
    return total


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.gpu.packs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--ccp", required=True)
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--out", default="gpu/packs")
    parser.add_argument("--only", choices=("segmentation", "embedder"), default=None)
    parser.add_argument("--seg-size", default="384x256", help="segmentation pack HxW")
    parser.add_argument("--emb-size", type=int, default=112, help="embedder pack side (the serving size)")
    parser.add_argument("--pseudo", default=None, help="pseudo-label .npz (pseudo_labels.py) to add while it fits")
    parser.add_argument("--quality", type=int, default=85, help="WebP quality")
    parser.add_argument("--limit", type=int, default=None, help="few images per set (tests)")
    parser.add_argument("--repo", default=".", help="repository root, for the size budget")
    parser.add_argument("--no-budget", action="store_true", help="skip the 64 MiB tree check (tests)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    tracked = 0 if args.no_budget else tree_bytes(args.repo)
    budget = None if args.no_budget else TREE_LIMIT_BYTES - TREE_MARGIN_BYTES - tracked
    results = []
    if args.only in (None, "segmentation"):
        height, width = (int(side) for side in args.seg_size.lower().split("x"))
        results.append(
            segmentation_pack(
                args.ccp,
                out / "segmentation.npz",
                size=(height, width),
                quality=args.quality,
                pseudo=args.pseudo,
                max_bytes=budget,
                limit=args.limit,
                progress=not args.no_progress,
            )
        )
    if args.only in (None, "embedder"):
        results.append(
            embedder_pack(
                args.catalog,
                args.ccp,
                out / "embedder.npz",
                size=args.emb_size,
                quality=args.quality,
                limit=args.limit,
                progress=not args.no_progress,
            )
        )
    mib = 1024 * 1024
    for result in results:
        line = {**result, "MiB": round(result["bytes"] / mib, 2)}
        if budget is not None:
            line.update(
                tree_MiB=round(tracked / mib, 2),
                tree_plus_pack_MiB=round((tracked + result["bytes"]) / mib, 2),
                limit_MiB=64,
            )
        print(json.dumps(line), flush=True)
    if budget is not None and any(result["bytes"] > budget for result in results):
        raise SystemExit(
            f"a pack does not fit: tracked files take {tracked / mib:.1f} MiB of the device's 64 MiB; "
            "lower --quality or the sizes"
        )


if __name__ == "__main__":
    main()
