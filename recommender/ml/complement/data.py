"""Outfit garments from CCP, and the feature cache the complement model trains on.

::

    python -m recommender.ml.complement.data --ccp ../shared/datasets/ccp \
        --tagged ../shared/datasets/ccp-tagged --out runs/complement --threads 1

Annotated photos (``--ccp``) are cut with their true labels; tagged photos (``--tagged``)
with the shipped segmenter (test-time flip, as served), dropping photos whose garments
disagree with their tags. Every garment keeps its photo id, split (the project's fixed
split of ``ccp/``; tagged photos are training data only), slot, fine label, embedding,
its colour/texture features for ``views`` versions of the crop (view 0 as photographed,
the others under independent :func:`~recommender.ml.complement.augment.photometric_jitter` and
:func:`~recommender.ml.complement.augment.geometric_jitter`)
and the colour histogram of the background ring around it (the leakage probe).
"""

from __future__ import annotations

import argparse
import json
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage
from tqdm import tqdm

from core.images import open_image
from recommender.ml.colour.histograms import lab_histogram
from recommender.ml.colour.lab import rgb_to_lab
from recommender.ml.complement.augment import geometric_jitter, photometric_jitter
from recommender.ml.complement.features import APPEARANCE_DIM, FEATURE_VERSION, appearance_features
from recommender.ml.complement.outfits import OutfitReading, outfit_from_annotation, outfit_from_segmentation
from recommender.ml.datasets.ccp import list_samples, read_fine_labels, read_label_mapping, read_sample, split_ids

VAL_FRACTION = 0.15
SPLIT_SEED = 0
#: Width of the background ring around a garment, as a share of the photo's short side.
RING_WIDTH = 0.04


@dataclass(frozen=True)
class OutfitPhoto:
    """One photo read as an outfit: ``label_map`` is its coarse class map (true or predicted)."""

    photo_id: str
    image: Image.Image
    reading: OutfitReading
    label_map: np.ndarray


def ccp_split(ccp_dir: str | Path, split: str = "all") -> list[str] | None:
    """Ids of the project's fixed split of an annotated CCP folder (``None`` = every photo)."""
    if split == "all":
        return None
    train, val = split_ids([s.id for s in list_samples(ccp_dir)], val_fraction=VAL_FRACTION, seed=SPLIT_SEED)
    return val if split == "val" else train


def annotated_outfits(ccp_dir: str | Path, ids: Sequence[str] | None = None) -> Iterator[OutfitPhoto]:
    """Every annotated photo (or just ``ids``), cut with its true labels."""
    mapping = read_label_mapping(ccp_dir)
    wanted = set(ids) if ids is not None else None
    for sample in list_samples(ccp_dir):
        if wanted is not None and sample.id not in wanted:
            continue
        image, coarse = read_sample(sample, mapping)
        fine = read_fine_labels(sample)
        yield OutfitPhoto(sample.id, image, outfit_from_annotation(image, fine, mapping), coarse)


def read_tags(tagged_dir: str | Path, photo_id: str, names: Sequence[str]) -> list[str]:
    from scipy.io import loadmat

    path = Path(tagged_dir) / "annotations" / "image-level" / f"{photo_id}.mat"
    indices = np.asarray(loadmat(str(path))["tags"]).ravel()
    return [names[int(i)] for i in indices if 0 < int(i) < len(names)]


def tagged_outfits(
    tagged_dir: str | Path, segmenter, batch_size: int = 8, ids: Sequence[str] | None = None
) -> Iterator[OutfitPhoto]:
    """Every tagged photo (or just ``ids``), segmented by ``segmenter`` and checked against its tags."""
    tagged_dir = Path(tagged_dir)
    names = read_label_mapping(tagged_dir).fine_names
    photos = sorted((tagged_dir / "photos").glob("*.jpg"))
    if ids is not None:
        wanted = set(ids)
        photos = [p for p in photos if p.stem in wanted]
    for start in range(0, len(photos), batch_size):
        chunk = photos[start : start + batch_size]
        images = [open_image(p) for p in chunk]
        for path, image, segmentation in zip(chunk, images, segmenter.segment(images), strict=True):
            tags = read_tags(tagged_dir, path.stem, names)
            reading = outfit_from_segmentation(image, segmentation, tags)
            yield OutfitPhoto(path.stem, image, reading, segmentation.label_map)


def ring_histogram(photo: OutfitPhoto, bbox: tuple[int, int, int, int], mask: np.ndarray) -> np.ndarray:
    """Lab histogram of the background ring around a garment: pixels near it that belong to no garment."""
    height, width = photo.label_map.shape
    full = np.zeros((height, width), dtype=bool)
    x0, y0, x1, y1 = bbox
    full[y0:y1, x0:x1] = mask
    radius = max(2, round(RING_WIDTH * min(height, width)))
    pad = radius + 1
    window = (slice(max(0, y0 - pad), min(height, y1 + pad)), slice(max(0, x0 - pad), min(width, x1 + pad)))
    near = ndimage.distance_transform_edt(~full[window]) <= radius
    ring = near & (photo.label_map[window] == 0)
    pixels = np.asarray(photo.image)[window][ring]
    if len(pixels) > 8000:
        pixels = pixels[np.linspace(0, len(pixels) - 1, 8000).astype(np.int64)]
    return np.sqrt(lab_histogram(rgb_to_lab(pixels)))


def _seed(*parts: str) -> int:
    return zlib.crc32("/".join(parts).encode())


def build_cache(
    photos: Iterator[OutfitPhoto],
    *,
    source: str,
    split_of: dict[str, str] | None,
    embedder,
    views: int,
    total: int | None = None,
) -> tuple[dict[str, np.ndarray], Counter]:
    """Features of every garment of every usable photo; also the count of dropped photos by reason."""
    rows: dict[str, list] = {k: [] for k in ("photo", "source", "split", "slot", "fine", "bbox", "share", "ring")}
    appearance: list[np.ndarray] = []
    crops: list[Image.Image] = []
    dropped: Counter[str] = Counter()
    for photo in tqdm(photos, total=total, desc=source, mininterval=10):
        if photo.reading.dropped:
            dropped[photo.reading.dropped] += 1
            continue
        for index, garment in enumerate(photo.reading.garments):
            rng = np.random.default_rng(_seed(source, photo.photo_id, str(index)))
            versions = [(garment.crop, garment.mask)]
            for _ in range(views - 1):
                versions.append(
                    geometric_jitter(photometric_jitter(garment.crop, garment.mask, rng), garment.mask, rng)
                )
            appearance.append(
                appearance_features([c for c, _ in versions], [m for _, m in versions], embedder=embedder)
            )
            crops.append(garment.crop)
            rows["photo"].append(f"{source}/{photo.photo_id}")
            rows["source"].append(source)
            rows["split"].append(split_of.get(photo.photo_id, "train") if split_of else "train")
            rows["slot"].append(garment.slot)
            rows["fine"].append(garment.fine_label)
            rows["bbox"].append(garment.bbox)
            rows["share"].append(garment.pixel_share)
            rows["ring"].append(ring_histogram(photo, garment.bbox, garment.mask))
    embeddings = embedder.embed(crops) if crops else np.zeros((0, 512), dtype=np.float32)
    table = {k: np.asarray(v) for k, v in rows.items()}
    table["appearance"] = np.asarray(appearance, dtype=np.float32).reshape(-1, views, APPEARANCE_DIM)
    table["embedding"] = embeddings.astype(np.float32)
    return table, dropped


def save_cache(path: Path, table: dict[str, np.ndarray], meta: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # The keys are array names; the stub's ``allow_pickle: bool`` keyword makes a dict of arrays look ill-typed.
    np.savez_compressed(path, **table)  # type: ignore[arg-type]
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")


def load_cache(paths: Sequence[Path]) -> dict[str, np.ndarray]:
    """Concatenate cache files (same feature version and views) into one table."""
    tables = [dict(np.load(p, allow_pickle=False)) for p in paths]
    return {k: np.concatenate([t[k] for t in tables]) for k in tables[0]}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ccp", help="annotated CCP folder (true masks)")
    parser.add_argument("--tagged", help="tagged CCP folder (segmenter masks, checked against the tags)")
    parser.add_argument("--out", default="runs/complement")
    parser.add_argument("--views", type=int, default=4, help="view 0 as photographed + jittered versions")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="first N photos only (smoke runs)")
    parser.add_argument("--shard-size", type=int, default=100, help="tagged photos per cache file")
    args = parser.parse_args(argv)

    import itertools

    import torch

    from recommender.ml.embedding.inference import get_embedder

    torch.set_num_threads(args.threads)
    embedder = get_embedder()
    out = Path(args.out)
    meta = {"feature_version": FEATURE_VERSION, "embedder_sha256": embedder.version, "views": args.views}
    if args.ccp:
        train, val = split_ids([s.id for s in list_samples(args.ccp)], val_fraction=VAL_FRACTION, seed=SPLIT_SEED)
        split_of = {**{i: "train" for i in train}, **{i: "val" for i in val}}
        photos: Iterator[OutfitPhoto] = itertools.islice(annotated_outfits(args.ccp), args.limit)
        table, dropped = build_cache(
            photos, source="ccp", split_of=split_of, embedder=embedder, views=args.views, total=len(split_of)
        )
        save_cache(
            out / f"ccp-{FEATURE_VERSION}.npz", table, {**meta, "dropped": dropped, "garments": len(table["slot"])}
        )
        print(json.dumps({"source": "ccp", "garments": len(table["slot"]), "dropped": dropped}))
    if args.tagged:
        from recommender.ml.segmentation.inference import get_segmenter

        segmenter = get_segmenter(tta_flip=True)
        ids = sorted(p.stem for p in (Path(args.tagged) / "photos").glob("*.jpg"))[: args.limit]
        # Shards of --shard-size photos, each saved as it completes: a long run can be resumed,
        # and training can start on the shards already written.
        for number, start in enumerate(range(0, len(ids), args.shard_size)):
            path = out / f"tagged-{FEATURE_VERSION}-{number:03d}.npz"
            if path.exists():
                continue
            chunk = ids[start : start + args.shard_size]
            photos = tagged_outfits(args.tagged, segmenter, ids=chunk)
            table, dropped = build_cache(
                photos, source="tagged", split_of=None, embedder=embedder, views=args.views, total=len(chunk)
            )
            shard_meta = {**meta, "segmenter": segmenter.version, "photos": len(chunk), "dropped": dropped}
            save_cache(path, table, {**shard_meta, "garments": len(table["slot"])})
            print(json.dumps({"source": path.name, "garments": len(table["slot"]), "dropped": dropped}), flush=True)


if __name__ == "__main__":
    main()
