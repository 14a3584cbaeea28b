"""Fit the stylist's priors on street outfits: ``python -m training.stylist.fit``.

Reads the training photos of our fixed CCP split (pixel labels: categories, colours and patterns
of every garment, shoes included) and the tagged CCP photos (categories only), counts which
garments are worn together, and writes smoothed conditional probabilities
(:mod:`recommender.ml.stylist.priors`). Each row is pulled towards its column's overall share
with ``--alpha`` pseudo-outfits, so a colour seen on three tops says little, and a colour seen
on eighty says a lot.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from recommender.ml.datasets.ccp import list_samples, read_label_names, split_ids
from recommender.ml.stylist.priors import LAYER_TYPE_OF_FINE, LAYER_TYPES, PRIORS_PATH, priors_write
from recommender.ml.stylist.street import StreetGarment, annotated_garments, tagged_garments

Outfit = list[StreetGarment]


def _smoothed(counts: dict[str, Counter], *, alpha: float) -> dict[str, dict[str, float]]:
    """Each row's shares pulled towards the overall shares (row ``*``) by ``alpha`` pseudo-counts."""
    total: Counter = Counter()
    for row in counts.values():
        total.update(row)
    n = sum(total.values())
    if not n:
        return {}
    base = {key: value / n for key, value in total.items()}
    table = {"*": {key: round(value, 5) for key, value in sorted(base.items())}}
    for given, row in sorted(counts.items()):
        size = sum(row.values())
        table[given] = {
            key: round((row.get(key, 0) + alpha * p) / (size + alpha), 5) for key, p in sorted(base.items())
        }
    return table


def _pairs(outfits: Iterable[Outfit]):
    for outfit in outfits:
        for g in outfit:
            for h in outfit:
                if g.slot != h.slot:
                    yield g, h


def fit_tables(annotated: Sequence[Outfit], tagged: Sequence[Outfit], *, alpha: float = 10.0) -> dict:
    """The priors' tables from annotated (measured) and tagged (categories only) outfits."""
    categories: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for g, h in _pairs([*annotated, *tagged]):
        categories[h.slot][g.category][h.category] += 1
    colours: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    colour_counts: dict[str, Counter] = defaultdict(Counter)
    patterns: dict[str, Counter] = defaultdict(Counter)
    for g, h in _pairs(annotated):
        if g.family and h.family:
            colours[f"{g.slot}>{h.slot}"][g.family][h.family] += 1
            colour_counts[f"{g.slot}>{h.slot}"][g.family] += 1
        if g.pattern and h.pattern and "shoes" not in (g.slot, h.slot) and "accessory" not in (g.slot, h.slot):
            patterns[g.pattern][h.pattern] += 1
    slots: dict[str, Counter] = defaultdict(Counter)
    for outfit in [*annotated, *tagged]:
        present = {g.slot for g in outfit}
        for given in {g.slot for g in outfit} | {g.category for g in outfit}:
            slots[given].update(present - {given})
            slots[given]["*"] += 1
    layers: dict[str, Counter] = defaultdict(Counter)
    for outfit in [*annotated, *tagged]:
        found = [LAYER_TYPE_OF_FINE[g.fine] for g in outfit if g.fine in LAYER_TYPE_OF_FINE]
        for g in outfit:
            if g.slot in ("top", "dress", "bottom"):
                layers[g.category].update(found[:1])
    return {
        "categories": {slot: _smoothed(rows, alpha=alpha / 2) for slot, rows in sorted(categories.items())},
        "slots": {
            slot: {other: round(n / row["*"], 5) for other, n in sorted(row.items()) if other != "*"}
            for slot, row in sorted(slots.items())
        },
        "colours": {pair: _smoothed(rows, alpha=alpha) for pair, rows in sorted(colours.items())},
        "colour_counts": {pair: dict(sorted(row.items())) for pair, row in sorted(colour_counts.items())},
        "patterns": _smoothed(patterns, alpha=alpha),
        "layers": {
            category: {t: round((row.get(t, 0) + 1) / (sum(row.values()) + len(LAYER_TYPES)), 5) for t in LAYER_TYPES}
            for category, row in sorted(layers.items())
        },
    }


def read_tagged(tagged_dir: Path) -> list[Outfit]:
    from scipy.io import loadmat

    names = read_label_names(tagged_dir)
    outfits = []
    for mat in sorted((tagged_dir / "annotations" / "image-level").glob("*.mat")):
        tags = loadmat(str(mat))["tags"].ravel()
        outfits.append(tagged_garments(mat.stem, [names[int(t)] for t in tags if 0 <= int(t) < len(names)]))
    return outfits


def read_annotated(ccp_dir: Path, *, cache: Path | None, progress: bool) -> tuple[list[Outfit], list[Outfit]]:
    """The annotated photos' garments, split into our fixed (train, val) photos; cached as JSON lines."""
    samples = list_samples(ccp_dir)
    train_ids, _ = split_ids([s.id for s in samples])
    rows = []
    if cache is not None and cache.exists():
        rows = [json.loads(line) for line in cache.read_text().splitlines()]
    else:
        for sample in tqdm(samples, desc="measuring", disable=not progress, mininterval=5):
            rows += [asdict(g) for g in annotated_garments(sample)]
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text("".join(json.dumps(row) + "\n" for row in rows))
    by_photo: dict[str, Outfit] = defaultdict(list)
    for row in rows:
        row = {k: v for k, v in row.items() if k in StreetGarment.__dataclass_fields__}
        row["families"] = tuple(tuple(f) for f in row.get("families", ()))
        row["lab"] = tuple(row["lab"]) if row.get("lab") else None
        by_photo[row["photo"]].append(StreetGarment(**row))
    train = set(train_ids)
    return [o for p, o in sorted(by_photo.items()) if p in train], [
        o for p, o in sorted(by_photo.items()) if p not in train
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ccp", default="../shared/datasets/ccp")
    parser.add_argument("--tagged", default="../shared/datasets/ccp-tagged")
    parser.add_argument("--alpha", type=float, default=10.0)
    parser.add_argument("--cache", default="runs/stylist/street-annotated.jsonl")
    parser.add_argument("--out", default=str(PRIORS_PATH))
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    train, val = read_annotated(
        Path(args.ccp), cache=Path(args.cache) if args.cache else None, progress=not args.no_progress
    )
    tagged = read_tagged(Path(args.tagged)) if args.tagged else []
    tables = fit_tables(train, tagged, alpha=args.alpha)
    meta = priors_write(
        args.out,
        tables,
        {
            "name": Path(args.out).stem,
            "command": "python -m training.stylist.fit " + " ".join(sys.argv[1:] if argv is None else argv),
            "data": {"annotated_train_photos": len(train), "tagged_photos": len(tagged), "held_out_photos": len(val)},
            "alpha": args.alpha,
        },
    )
    print(json.dumps({"out": args.out, "sha256": meta["sha256"], **meta["data"]}))


if __name__ == "__main__":
    main()
