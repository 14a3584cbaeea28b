"""Write CCP street garment crops as a folder-per-class tree: the street → shop queries.

::

    python -m training.embedding.street_queries --ccp DIR --out DIR [--split val|all]

Each crop is cut with the true mask (see :mod:`.data`) and saved as
``OUT/<class>/<photo id>.png`` (PNG: lossless, so the query pixels are exactly the
crop's). ``--split val`` (default) writes only the photos held out from training.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from training.embedding.data import street_crops


def write_street_queries(ccp_dir: str | Path, out: str | Path, split: str = "val") -> Counter:
    """Save every crop of ``split`` under ``out``; returns the number written per class."""
    out = Path(out)
    counts: Counter = Counter()
    for crop in street_crops(ccp_dir, split):
        folder = out / crop.label
        folder.mkdir(parents=True, exist_ok=True)
        crop.image.save(folder / f"{crop.sample_id}.png")
        counts[crop.label] += 1
    return counts


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ccp", required=True, help="CCP root (photos/, annotations/)")
    parser.add_argument("--out", required=True, help="output folder (class sub-folders are created)")
    parser.add_argument("--split", default="val", choices=("val", "train", "all"))
    args = parser.parse_args(argv)
    counts = write_street_queries(args.ccp, args.out, args.split)
    print(json.dumps({"crops": sum(counts.values()), "per_class": dict(sorted(counts.items()))}))


if __name__ == "__main__":
    main()
