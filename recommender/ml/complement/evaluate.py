"""Fill-in-the-blank (FITB) on CCP outfits: given one garment, pick its real partner.

For every photo with a top (or outerwear) and a bottom, both are cut with the true masks,
the way the pipeline cuts. A question is one of them; the answer is the other; the
distractors are garments of the answer's coarse slot from other photos, drawn with the
seed. Both directions are asked. Every method scores the same questions:

* ``model`` — the complement model, ``<query(a), candidate(b)>``;
* ``colour`` — the closest colour histogram (the garment's own pixels);
* ``similarity`` — the plain garment embedder's cosine;
* ``random`` — seeded random scores.

Protocols: ``same-photo`` (the question garment itself), and ``catalog-query``
(``query_gallery``: each question garment is replaced by its nearest catalog item of the same
slot under the embedder, so the question shares no photo with any candidate: leakage-free).
The same-photo protocol also reports the *ring probe*: the colour histogram of the background
ring around each garment (not the garment) used as if it were a method. It can only succeed
through cues of the photo (light, white balance, place), so it measures how much a
same-photo score may owe to them.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from recommender.ml.complement.features import APPEARANCE_DIM, appearance_features
from recommender.ml.complement.outfits import CATALOG_SLOTS, catalog_garment

METHODS: tuple[str, ...] = ("model", "colour", "similarity", "random")
DIRECTIONS: tuple[str, ...] = ("top_to_bottom", "bottom_to_top")
HISTOGRAM = slice(0, 100)  # the sqrt Lab histogram at the start of the appearance features
COARSE = {"top": "top", "outerwear": "top", "bottom": "bottom", "dress": "dress"}


@dataclass(frozen=True)
class GarmentSet:
    """Garments as arrays: photo id, slot, embedding [N, 512], appearance [N, A], ring histogram [N, 100]."""

    photo: np.ndarray
    slot: np.ndarray
    embedding: np.ndarray
    appearance: np.ndarray
    ring: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.slot)

    @property
    def coarse(self) -> np.ndarray:
        return np.asarray([COARSE[s] for s in self.slot])

    @property
    def features(self) -> np.ndarray:
        return np.concatenate([self.embedding, self.appearance], axis=1).astype(np.float32)

    def take(self, index: np.ndarray) -> GarmentSet:
        return GarmentSet(
            self.photo[index],
            self.slot[index],
            self.embedding[index],
            self.appearance[index],
            None if self.ring is None else self.ring[index],
        )


def garment_set_from_table(
    table: dict[str, np.ndarray], mask: np.ndarray, *, views: np.ndarray | int = 0
) -> GarmentSet:
    """The garments of a feature cache selected by ``mask``; ``views`` picks each one's crop version."""
    index = np.nonzero(mask)[0]
    view = np.broadcast_to(np.asarray(views), (len(table["slot"]),))[index]
    return GarmentSet(
        table["photo"][index],
        table["slot"][index],
        table["embedding"][index],
        table["appearance"][index, view],
        table["ring"][index],
    )


def garment_set_from_outfits(photos: Iterable, embedder, *, progress: bool = False) -> GarmentSet:
    """Cut, embed and describe every garment of annotated outfit photos (``data.OutfitPhoto``)."""
    from recommender.ml.complement.data import ring_histogram

    photo_ids, slots, crops, masks, rings = [], [], [], [], []
    for photo in tqdm(photos, desc="cutting", disable=not progress, mininterval=5):
        for garment in photo.reading.garments:
            photo_ids.append(photo.photo_id)
            slots.append(garment.slot)
            crops.append(garment.crop)
            masks.append(garment.mask)
            rings.append(ring_histogram(photo, garment.bbox, garment.mask))
    embeddings = embedder.embed(crops) if crops else np.zeros((0, 512), dtype=np.float32)
    appearance = appearance_features(crops, masks, embedder=embedder)
    return GarmentSet(
        np.asarray(photo_ids),
        np.asarray(slots),
        np.asarray(embeddings, dtype=np.float32),
        np.asarray(appearance, dtype=np.float32).reshape(-1, APPEARANCE_DIM),
        np.asarray(rings, dtype=np.float32).reshape(-1, 100),
    )


@dataclass(frozen=True)
class Questions:
    query: np.ndarray  # [Q] garment index of the question
    candidates: np.ndarray  # [Q, K] garment indices, the answer among them
    answer: np.ndarray  # [Q] position of the answer in ``candidates``
    direction: np.ndarray  # [Q] "top_to_bottom" | "bottom_to_top"

    def __len__(self) -> int:
        return len(self.query)


def make_questions(garments: GarmentSet, *, candidates: int = 4, seed: int = 0) -> Questions:
    """Both directions for every photo with a top (or outerwear) and a bottom; distractors by the seed."""
    if candidates < 2:
        raise ValueError("a question needs at least 2 candidates")
    coarse = garments.coarse
    rng = np.random.default_rng(seed)
    queries, rows, answers, directions = [], [], [], []
    outfits = [p for p in sorted(set(garments.photo)) if {"top", "bottom"} <= set(coarse[garments.photo == p])]
    for photo in outfits:
        in_photo = garments.photo == photo
        top = int(np.nonzero(in_photo & (coarse == "top"))[0][0])
        bottom = int(np.nonzero(in_photo & (coarse == "bottom"))[0][0])
        for direction, query, answer in (("top_to_bottom", top, bottom), ("bottom_to_top", bottom, top)):
            pool = np.nonzero((coarse == coarse[answer]) & ~in_photo)[0]
            if len(pool) < candidates - 1:
                raise ValueError(
                    f"only {len(pool)} other garments of slot {coarse[answer]}: too few for {candidates} candidates"
                )
            row = list(rng.choice(pool, size=candidates - 1, replace=False))
            position = int(rng.integers(candidates))
            row.insert(position, answer)
            queries.append(query)
            rows.append(row)
            answers.append(position)
            directions.append(direction)
    return Questions(
        np.asarray(queries, dtype=np.int64),
        np.asarray(rows, dtype=np.int64).reshape(-1, candidates),
        np.asarray(answers, dtype=np.int64),
        np.asarray(directions),
    )


def method_scores(
    method: str, queries: GarmentSet, garments: GarmentSet, questions: Questions, *, model=None, seed: int = 0
) -> np.ndarray:
    """[Q, K] scores of each question's candidates (higher = the better partner)."""
    cands = questions.candidates
    if method == "random":
        return np.random.default_rng(seed + 1).random(cands.shape)
    if method == "colour":
        return np.einsum("qd,qkd->qk", queries.appearance[:, HISTOGRAM], garments.appearance[cands][..., HISTOGRAM])
    if method == "similarity":
        return np.einsum("qd,qkd->qk", queries.embedding, garments.embedding[cands])
    if method == "ring":
        return np.einsum("qd,qkd->qk", queries.ring, garments.ring[cands])
    if method == "model":
        if model is None:
            raise ValueError("the model method needs a complement model")
        return model_scores(model, queries, garments, questions)
    raise ValueError(f"unknown method {method!r}")


def model_scores(model, queries: GarmentSet, garments: GarmentSet, questions: Questions) -> np.ndarray:
    q = np.zeros((len(queries), model.dim), dtype=np.float32)
    c = np.zeros((len(garments), model.dim), dtype=np.float32)
    query_features, garment_features = queries.features, garments.features
    for slot in set(queries.slot):
        rows = queries.slot == slot
        q[rows] = model.encode(query_features[rows], slot=slot, role="query")
    for slot in set(garments.slot):
        rows = garments.slot == slot
        c[rows] = model.encode(garment_features[rows], slot=slot, role="candidate")
    return np.einsum("qd,qkd->qk", q, c[questions.candidates])


def bootstrap_ci(
    correct: np.ndarray, groups: np.ndarray, *, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95 % percentile interval of the mean, resampling whole photos (both directions of a photo move together)."""
    if len(correct) == 0:
        return (0.0, 0.0)
    _, group_index = np.unique(groups, return_inverse=True)
    sums = np.bincount(group_index, weights=correct.astype(np.float64))
    counts = np.bincount(group_index).astype(np.float64)
    rng = np.random.default_rng(seed)
    picks = rng.integers(len(sums), size=(resamples, len(sums)))
    means = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return round(float(low), 4), round(float(high), 4)


def fitb_report(scores: np.ndarray, questions: Questions, groups: np.ndarray) -> dict:
    """FITB overall and per direction, with a 95 % bootstrap interval over photos."""
    correct = scores.argmax(axis=1) == questions.answer
    report = {"fitb": round(float(correct.mean()), 4) if len(correct) else 0.0}
    for direction in DIRECTIONS:
        rows = questions.direction == direction
        report[direction] = round(float(correct[rows].mean()), 4) if rows.any() else 0.0
    report["ci95"] = bootstrap_ci(correct, groups)
    return report


def catalog_queries(
    garments: GarmentSet,
    questions: Questions,
    catalog_dir: str | Path,
    *,
    embedder,
    segmenter,
    progress: bool = False,
) -> tuple[GarmentSet, list[str]]:
    """Each question garment replaced by its nearest catalog item of the same slot (embedder cosine
    between the street crop and the whole catalog photo, as catalog vectors are made), then cut
    like a product: :func:`~recommender.ml.complement.outfits.catalog_garment`."""
    from recommender.ml.images import open_image

    catalog_dir = Path(catalog_dir)
    if not catalog_dir.is_dir():
        raise ValueError(f"{catalog_dir} is not a folder")
    paths, slots = [], []
    for folder in sorted(p for p in catalog_dir.iterdir() if p.is_dir() and p.name in CATALOG_SLOTS):
        for path in sorted(folder.glob("*.jpg")):
            paths.append(path)
            slots.append(CATALOG_SLOTS[folder.name])
    if not paths:
        raise ValueError(f"{catalog_dir} has no class folders of {sorted(CATALOG_SLOTS)}")
    slots_arr = np.asarray(slots)
    vectors = np.concatenate(
        [
            embedder.embed([open_image(p) for p in paths[start : start + 64]])
            for start in tqdm(range(0, len(paths), 64), desc="catalog", disable=not progress, mininterval=5)
        ]
    )
    chosen = []
    for query in questions.query:
        slot = garments.slot[query]
        allowed = slots_arr == slot
        if not allowed.any():
            allowed = np.asarray([COARSE[s] == COARSE[slot] for s in slots])
        scores = np.where(allowed, vectors @ garments.embedding[query], -np.inf)
        chosen.append(int(scores.argmax()))
    unique = sorted(set(chosen))
    images = [open_image(paths[i]) for i in unique]
    crops, masks = [], []
    for index, image, segmentation in zip(unique, images, segmenter.segment(images), strict=True):
        crop, mask = catalog_garment(image, segmentation, slots[index])
        crops.append(crop)
        masks.append(mask)
    embedded = embedder.embed(crops)
    appearance = appearance_features(crops, masks, embedder=embedder)
    where = {index: row for row, index in enumerate(unique)}
    rows = np.asarray([where[i] for i in chosen], dtype=np.int64)
    replaced = GarmentSet(
        np.asarray([f"catalog/{paths[i].parent.name}/{paths[i].stem}" for i in chosen]),
        slots_arr[chosen],
        np.asarray(embedded, dtype=np.float32)[rows],
        np.asarray(appearance, dtype=np.float32)[rows],
        None,
    )
    return replaced, [str(paths[i]) for i in chosen]


def evaluate_garments(
    garments: GarmentSet,
    *,
    model=None,
    methods: Sequence[str] = METHODS,
    candidates: int = 4,
    seed: int = 0,
    queries: GarmentSet | None = None,
    questions: Questions | None = None,
) -> dict:
    """Every method on the same questions; ``queries`` replaces the question garments (catalog protocol)."""
    questions = questions or make_questions(garments, candidates=candidates, seed=seed)
    protocol = "same-photo" if queries is None else "catalog-query"
    queries = queries if queries is not None else garments.take(questions.query)
    groups = garments.photo[questions.query]
    results = {}
    for method in methods:
        if method == "model" and model is None:
            continue
        scores = method_scores(method, queries, garments, questions, model=model, seed=seed)
        results[method] = fitb_report(scores, questions, groups)
    if protocol == "same-photo" and garments.ring is not None:
        results["ring"] = fitb_report(method_scores("ring", queries, garments, questions), questions, groups)
    return {
        "protocol": protocol,
        "questions": len(questions),
        "photos": len(set(groups)),
        "candidates": candidates,
        "seed": seed,
        "methods": results,
    }


def prepare_ccp(
    ccp_dir: str | Path,
    *,
    embedder,
    segmenter=None,
    split: str = "all",
    candidates: int = 4,
    seed: int = 0,
    query_gallery: str | Path | None = None,
    progress: bool = False,
) -> tuple[GarmentSet, Questions, GarmentSet | None]:
    """The garments of an annotated CCP folder, the questions, and (with ``query_gallery``) the catalog queries."""
    from recommender.ml.complement.data import annotated_outfits, ccp_split

    garments = garment_set_from_outfits(
        annotated_outfits(ccp_dir, ccp_split(ccp_dir, split)), embedder, progress=progress
    )
    questions = make_questions(garments, candidates=candidates, seed=seed)
    queries = None
    if query_gallery is not None:
        if segmenter is None:
            raise ValueError("the catalog-query protocol needs the segmenter to cut catalog photos")
        queries, _ = catalog_queries(
            garments, questions, query_gallery, embedder=embedder, segmenter=segmenter, progress=progress
        )
    return garments, questions, queries


def evaluate_ccp(
    ccp_dir: str | Path,
    *,
    embedder,
    model=None,
    segmenter=None,
    split: str = "all",
    candidates: int = 4,
    seed: int = 0,
    query_gallery: str | Path | None = None,
    progress: bool = False,
) -> dict:
    """FITB of every method on an annotated CCP folder, same-photo or (with ``query_gallery``) catalog-query."""
    garments, questions, queries = prepare_ccp(
        ccp_dir,
        embedder=embedder,
        segmenter=segmenter,
        split=split,
        candidates=candidates,
        seed=seed,
        query_gallery=query_gallery,
        progress=progress,
    )
    return evaluate_garments(
        garments, model=model, candidates=candidates, seed=seed, queries=queries, questions=questions
    )


def save_prepared(path: str | Path, garments: GarmentSet, questions: Questions, queries: GarmentSet | None) -> None:
    """Keep what :func:`prepare_ccp` computed, so other weights can be scored on the very same questions."""
    arrays = {f"g_{k}": v for k, v in vars(garments).items() if v is not None}
    arrays.update({f"q_{k}": v for k, v in vars(questions).items()})
    if queries is not None:
        arrays.update({f"c_{k}": v for k, v in vars(queries).items() if v is not None})
    np.savez_compressed(path, **arrays)


def load_prepared(path: str | Path) -> tuple[GarmentSet, Questions, GarmentSet | None]:
    data = dict(np.load(path, allow_pickle=False))

    def group(prefix):
        return {k[len(prefix) :]: v for k, v in data.items() if k.startswith(prefix)}

    queries = group("c_")
    return GarmentSet(**group("g_")), Questions(**group("q_")), GarmentSet(**queries) if queries else None


def summary_lines(result: dict) -> list[str]:
    """A readable table of a result of :func:`evaluate_ccp`."""
    lines = [
        f"{result['protocol']}: {result['questions']} questions from {result['photos']} photos, "
        f"{result['candidates']} candidates, seed {result['seed']}",
        f"{'method':<12}{'fitb':>7}  {'95% CI':<16}{'top->bottom':>12}{'bottom->top':>12}",
    ]
    for method, report in result["methods"].items():
        name = "ring (leak)" if method == "ring" else method
        low, high = report["ci95"]
        lines.append(
            f"{name:<12}{report['fitb']:>7.3f}  [{low:.3f}, {high:.3f}]  "
            f"{report['top_to_bottom']:>10.3f}{report['bottom_to_top']:>12.3f}"
        )
    return lines


def json_line(result: dict, method: str) -> dict:
    """The one-line summary the project is measured with."""
    report = result["methods"][method]
    return {
        "questions": result["questions"],
        "fitb": report["fitb"],
        "top_to_bottom": report["top_to_bottom"],
        "bottom_to_top": report["bottom_to_top"],
        "method": method,
        "protocol": result["protocol"],
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ccp", required=True)
    parser.add_argument("--split", choices=("all", "train", "val"), default="all")
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--method", choices=METHODS, default="model")
    parser.add_argument("--query-gallery", default=None)
    parser.add_argument(
        "--weights-dir",
        nargs="+",
        default=[None],
        help="folders holding complement-ccp weights (default: the shipped one); all are scored on the same questions",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--prepared", default=None, help="an .npz of the cut garments, questions and catalog queries: reused if present"
    )
    args = parser.parse_args(argv)

    import torch

    from recommender.ml.complement.inference import ComplementModel
    from recommender.ml.embedding.inference import get_embedder
    from recommender.ml.segmentation.inference import get_segmenter

    torch.set_num_threads(args.threads)
    if args.prepared and Path(args.prepared).exists():
        garments, questions, queries = load_prepared(args.prepared)
    else:
        garments, questions, queries = prepare_ccp(
            args.ccp,
            embedder=get_embedder(),
            segmenter=get_segmenter(tta_flip=True) if args.query_gallery else None,
            split=args.split,
            candidates=args.candidates,
            seed=args.seed,
            query_gallery=args.query_gallery,
            progress=True,
        )
        if args.prepared:
            save_prepared(args.prepared, garments, questions, queries)
    for directory in args.weights_dir:
        model = ComplementModel.load(directory=directory)
        result = evaluate_garments(
            garments, model=model, candidates=args.candidates, seed=args.seed, queries=queries, questions=questions
        )
        print(f"weights: {directory or 'shipped'} ({model.version[:12]})")
        print("\n".join(summary_lines(result)))
        print(json.dumps({**json_line(result, args.method), "weights": directory, "result": result}))


if __name__ == "__main__":
    main()
