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
(``query_gallery``: each question garment is replaced by a catalog item of the same slot, so the
question shares no photo with any candidate: leakage-free). ``query_match`` picks that item:
``look`` (default) the nearest under the shop's look vector (embedding, colour signature and
pattern, each garment measured on its own pixels), ``embedding`` the nearest under the embedder
alone (blind to colour). When the colour method is below :data:`INFORMATIVE_COLOUR` on
catalog questions, the protocol cannot tell methods apart: :func:`protocol_warning`.
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

from recommender.ml.colour.look import EMBEDDING_DIM, load_weights, look_vector, measure_garment
from recommender.ml.colour.palette import PALETTE
from recommender.ml.colour.pattern import PATTERNS, pattern_features
from recommender.ml.complement.features import APPEARANCE_DIM, appearance_features
from recommender.ml.complement.outfits import CATALOG_SLOTS, catalog_garment

METHODS: tuple[str, ...] = ("model", "colour", "similarity", "random")
DIRECTIONS: tuple[str, ...] = ("top_to_bottom", "bottom_to_top")
HISTOGRAM = slice(0, 100)  # the sqrt Lab histogram at the start of the appearance features
COARSE = {"top": "top", "outerwear": "top", "bottom": "bottom", "dress": "dress"}
QUERY_MATCHES: tuple[str, ...] = ("look", "embedding")
COLOUR_PATTERN_DIM = len(PALETTE) + len(PATTERNS)
#: Below this colour FITB, catalog questions have lost the cue every method needs.
INFORMATIVE_COLOUR = 0.30


@dataclass(frozen=True)
class GarmentSet:
    """Garments as arrays: photo id, slot, embedding [N, 512], appearance [N, A], ring histogram [N, 100],
    and (for the look match) ``colour_pattern`` [N, C + P]: the colour signature and pattern one-hot of
    :func:`recommender.ml.colour.look.measure_garment` on the garment's own pixels."""

    photo: np.ndarray
    slot: np.ndarray
    embedding: np.ndarray
    appearance: np.ndarray
    ring: np.ndarray | None = None
    colour_pattern: np.ndarray | None = None

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
            None if self.colour_pattern is None else self.colour_pattern[index],
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


def garment_set_from_outfits(photos: Iterable, embedder, *, looks: bool = False, progress: bool = False) -> GarmentSet:
    """Cut, embed and describe every garment of annotated outfit photos (``data.OutfitPhoto``);
    ``looks`` also measures each garment's colour signature and pattern (its true mask crop)."""
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
        _colour_pattern(crops, masks) if looks else None,
    )


def _colour_pattern(crops: Sequence, masks: Sequence) -> np.ndarray:
    """[N, C + P]: colour signature and pattern one-hot of each garment, read under its mask
    (None: a white-filled crop, the garment is its non-white pixels)."""
    rows = []
    for crop, mask in zip(crops, masks, strict=True):
        look = measure_garment(crop, mask)
        rows.append(np.concatenate([look.colour_features, pattern_features(look.pattern)]))
    return np.asarray(rows, dtype=np.float32).reshape(-1, COLOUR_PATTERN_DIM)


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
    match: str = "look",
    progress: bool = False,
) -> tuple[GarmentSet, list[str]]:
    """Each question garment replaced by a catalog item of the same slot, then cut like a product
    (:func:`~recommender.ml.complement.outfits.catalog_garment`).

    ``match="embedding"``: the nearest item by embedder cosine between the street crop and the whole
    catalog photo (as catalog vectors are made). ``match="look"``: the nearest under the look vector
    the shop ranks look-alikes by (:func:`~recommender.ml.colour.look.look_vector` with the weights in
    service): that embedding with the colour signature and pattern, measured for the street garment
    on its true mask crop (``garments.colour_pattern``) and for a catalog item on the crop and mask
    that ``catalog_garment`` cuts (:func:`look_nearest`)."""
    from core.images import open_image

    if match not in QUERY_MATCHES:
        raise ValueError(f"unknown query match {match!r}; one of {', '.join(QUERY_MATCHES)}")
    if match == "look" and garments.colour_pattern is None:
        raise ValueError("the look match needs the street garments' colours (garment_set_from_outfits(looks=True))")
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
    allowed = np.zeros((len(questions), len(paths)), dtype=bool)
    for row, query in enumerate(questions.query):
        slot = garments.slot[query]
        allowed[row] = slots_arr == slot
        if not allowed[row].any():
            allowed[row] = np.asarray([COARSE[s] == COARSE[slot] for s in slots])
    cut: dict[int, tuple] = {}  # catalog index -> (crop, mask), for the items segmented so far

    def cut_items(indices: Sequence[int]) -> list[tuple]:
        todo = [i for i in indices if i not in cut]
        images = [open_image(paths[i]) for i in todo]
        for index, image, segmentation in zip(todo, images, segmenter.segment(images), strict=True):
            cut[index] = catalog_garment(image, segmentation, slots[index])
        return [cut[i] for i in indices]

    if match == "embedding":
        chosen = []
        for row, query in enumerate(questions.query):
            scores = np.where(allowed[row], vectors @ garments.embedding[query], -np.inf)
            chosen.append(int(scores.argmax()))
    else:
        weights = load_weights()
        query_looks = np.stack(
            [
                look_vector(garments.embedding[q], *_split_parts(garments.colour_pattern[q]), weights)
                for q in questions.query
            ]
        )

        def measure(indices: Sequence[int]) -> np.ndarray:
            crops, masks = zip(*cut_items(indices), strict=True)
            return _colour_pattern(crops, masks)

        chosen = list(
            look_nearest(query_looks, vectors, allowed, measure, weights, progress=progress).astype(int).tolist()
        )
    unique = sorted(set(chosen))
    crops, masks = zip(*cut_items(unique), strict=True) if unique else ((), ())
    embedded = embedder.embed(list(crops))
    appearance = appearance_features(list(crops), list(masks), embedder=embedder)
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


def _split_parts(colour_pattern: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(colour signature, pattern one-hot) of one row of ``colour_pattern``."""
    return colour_pattern[: len(PALETTE)], colour_pattern[len(PALETTE) :]


def look_nearest(
    query_looks: np.ndarray,
    catalog_embeddings: np.ndarray,
    allowed: np.ndarray,
    measure,
    weights,
    *,
    step: int = 4,
    progress: bool = False,
) -> np.ndarray:
    """For each query look vector [Q, D], the index of the allowed catalog item with the nearest look
    vector: the same answer as measuring every item, but measuring (``measure(indices)`` -> [n, C + P]
    colour signature and pattern one-hot) only the items that could still win.

    Colour signatures and pattern one-hots are non-negative and of unit (or zero) length, so before an
    item is measured its look cosine is bounded by its embedding cosine alone (:func:`_look_bound`);
    items are measured best bound first, and a query is settled once its best measured item beats every
    unmeasured item's bound."""
    n = len(catalog_embeddings)
    units = catalog_embeddings / np.maximum(np.linalg.norm(catalog_embeddings, axis=1, keepdims=True), 1e-12)
    bound = np.where(allowed, _look_bound(query_looks, units, weights), -np.inf)
    looks = np.zeros((n, query_looks.shape[1]), dtype=np.float32)
    measured = np.zeros(n, dtype=bool)
    with tqdm(desc="catalog looks", unit="item", disable=not progress, mininterval=5) as bar:
        while True:
            actual = np.where(allowed & measured, query_looks @ looks.T, -np.inf)
            best = actual.max(axis=1)
            pending = np.where(measured, -np.inf, bound)
            unsettled = np.nonzero(np.isfinite(pending.max(axis=1)) & (pending.max(axis=1) >= best))[0]
            if len(unsettled) == 0:
                return actual.argmax(axis=1)
            wanted = set()
            for row in unsettled:
                order = np.argsort(-pending[row], kind="stable")[:step]
                wanted.update(int(i) for i in order if np.isfinite(pending[row, i]))
            wanted = sorted(wanted)
            for index, part in zip(wanted, measure(wanted), strict=True):
                looks[index] = look_vector(catalog_embeddings[index], *_split_parts(part), weights)
            measured[wanted] = True
            bar.update(len(wanted))


def _look_bound(query_looks: np.ndarray, units: np.ndarray, weights) -> np.ndarray:
    """[Q, N] upper bounds of the look cosine of each query with each catalog item whose colour and
    pattern are not known yet: the item's colour and pattern parts are taken to match the query's
    perfectly, with each part known or unknown (which changes the vector's normalisation)."""
    colour_end = EMBEDDING_DIM + len(PALETTE)
    shape = np.sqrt(weights.shape) * (query_looks[:, :EMBEDDING_DIM] @ units.T)  # [Q, N]
    colour = np.sqrt(weights.colour) * np.linalg.norm(query_looks[:, EMBEDDING_DIM:colour_end], axis=1)
    pattern = np.sqrt(weights.pattern) * np.linalg.norm(query_looks[:, colour_end:], axis=1)
    bounds = []
    for has_colour in (False, True):
        for has_pattern in (False, True):
            norm = np.sqrt(weights.shape + has_colour * weights.colour + has_pattern * weights.pattern)
            extra = has_colour * colour + has_pattern * pattern
            bounds.append((shape + extra[:, None]) / max(norm, 1e-12))
    return np.max(bounds, axis=0) + 1e-6


def evaluate_garments(
    garments: GarmentSet,
    *,
    model=None,
    methods: Sequence[str] = METHODS,
    candidates: int = 4,
    seed: int = 0,
    queries: GarmentSet | None = None,
    questions: Questions | None = None,
    query_match: str | None = None,
) -> dict:
    """Every method on the same questions; ``queries`` replaces the question garments (catalog protocol,
    whose result names how they were matched: ``query_match``)."""
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
    result = {
        "protocol": protocol,
        "questions": len(questions),
        "photos": len(set(groups)),
        "candidates": candidates,
        "seed": seed,
        "methods": results,
    }
    if protocol == "catalog-query":
        result["query_match"] = query_match
    return result


def prepare_ccp(
    ccp_dir: str | Path,
    *,
    embedder,
    segmenter=None,
    split: str = "all",
    candidates: int = 4,
    seed: int = 0,
    query_gallery: str | Path | None = None,
    query_match: str = "look",
    progress: bool = False,
) -> tuple[GarmentSet, Questions, GarmentSet | None]:
    """The garments of an annotated CCP folder, the questions, and (with ``query_gallery``) the catalog
    queries, matched by ``query_match`` (:func:`catalog_queries`)."""
    from recommender.ml.complement.data import annotated_outfits, ccp_split

    if query_match not in QUERY_MATCHES:
        raise ValueError(f"unknown query match {query_match!r}; one of {', '.join(QUERY_MATCHES)}")
    garments = garment_set_from_outfits(
        annotated_outfits(ccp_dir, ccp_split(ccp_dir, split)),
        embedder,
        looks=query_gallery is not None and query_match == "look",
        progress=progress,
    )
    questions = make_questions(garments, candidates=candidates, seed=seed)
    queries = None
    if query_gallery is not None:
        if segmenter is None:
            raise ValueError("the catalog-query protocol needs the segmenter to cut catalog photos")
        queries, _ = catalog_queries(
            garments,
            questions,
            query_gallery,
            embedder=embedder,
            segmenter=segmenter,
            match=query_match,
            progress=progress,
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
    query_match: str = "look",
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
        query_match=query_match,
        progress=progress,
    )
    return evaluate_garments(
        garments,
        model=model,
        candidates=candidates,
        seed=seed,
        queries=queries,
        questions=questions,
        query_match=query_match if queries is not None else None,
    )


def save_prepared(
    path: str | Path,
    garments: GarmentSet,
    questions: Questions,
    queries: GarmentSet | None,
    *,
    query_match: str | None = None,
) -> None:
    """Keep what :func:`prepare_ccp` computed, so other weights can be scored on the very same questions."""
    arrays = {f"g_{k}": v for k, v in vars(garments).items() if v is not None}
    arrays.update({f"q_{k}": v for k, v in vars(questions).items()})
    if queries is not None:
        arrays.update({f"c_{k}": v for k, v in vars(queries).items() if v is not None})
        if query_match is not None:
            arrays["x_query_match"] = np.asarray(query_match)
    np.savez_compressed(path, **arrays)


def prepared_query_match(path: str | Path) -> str | None:
    """How the catalog queries kept by :func:`save_prepared` were matched ("embedding" for files
    written before the look match existed; None without catalog queries)."""
    with np.load(path, allow_pickle=False) as data:
        if not any(name.startswith("c_") for name in data.files):
            return None
        return str(data["x_query_match"]) if "x_query_match" in data.files else "embedding"


def load_prepared(path: str | Path) -> tuple[GarmentSet, Questions, GarmentSet | None]:
    data = dict(np.load(path, allow_pickle=False))

    def group(prefix):
        return {k[len(prefix) :]: v for k, v in data.items() if k.startswith(prefix)}

    queries = group("c_")
    return GarmentSet(**group("g_")), Questions(**group("q_")), GarmentSet(**queries) if queries else None


def summary_lines(result: dict) -> list[str]:
    """A readable table of a result of :func:`evaluate_ccp`."""
    protocol = result["protocol"]
    if result.get("query_match"):
        protocol += f" ({result['query_match']} match)"
    lines = [
        f"{protocol}: {result['questions']} questions from {result['photos']} photos, "
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
        **({"query_match": result["query_match"]} if result["protocol"] == "catalog-query" else {}),
    }


def protocol_warning(result: dict) -> str | None:
    """A line for catalog questions on which the colour method is below :data:`INFORMATIVE_COLOUR`."""
    colour = result["methods"].get("colour")
    if result["protocol"] != "catalog-query" or colour is None or colour["fitb"] >= INFORMATIVE_COLOUR:
        return None
    return (
        f"warning: colour is at {colour['fitb']:.3f} on these questions (< {INFORMATIVE_COLOUR:.2f}): "
        "this protocol cannot tell methods apart"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ccp", required=True)
    parser.add_argument("--split", choices=("all", "train", "val"), default="all")
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--method", choices=METHODS, default="model")
    parser.add_argument("--query-gallery", default=None)
    parser.add_argument(
        "--query-match",
        choices=QUERY_MATCHES,
        default="look",
        help="how --query-gallery picks each question's catalog item: its look (category, colour, pattern) "
        "or the embedding alone",
    )
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
        kept = prepared_query_match(args.prepared)
        if kept is not None and kept != args.query_match:
            parser.error(f"{args.prepared} holds catalog queries matched by {kept}, not {args.query_match}")
    else:
        garments, questions, queries = prepare_ccp(
            args.ccp,
            embedder=get_embedder(),
            segmenter=get_segmenter(tta_flip=True) if args.query_gallery else None,
            split=args.split,
            candidates=args.candidates,
            seed=args.seed,
            query_gallery=args.query_gallery,
            query_match=args.query_match,
            progress=True,
        )
        if args.prepared:
            save_prepared(args.prepared, garments, questions, queries, query_match=args.query_match)
    for directory in args.weights_dir:
        model = ComplementModel.load(directory=directory)
        result = evaluate_garments(
            garments,
            model=model,
            candidates=args.candidates,
            seed=args.seed,
            queries=queries,
            questions=questions,
            query_match=args.query_match if queries is not None else None,
        )
        print(f"weights: {directory or 'shipped'} ({model.version[:12]})")
        print("\n".join(summary_lines(result)))
        warning = protocol_warning(result)
        if warning:
            print(warning)
        print(json.dumps({**json_line(result, args.method), "weights": directory, "result": result}))


if __name__ == "__main__":
    main()
