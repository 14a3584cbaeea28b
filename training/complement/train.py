"""Train the complement model on the cached garment features (minutes on CPU).

::

    python -m training.complement.train --cache runs/complement --out runs/complement/model \
        --threads 1 --export

Pairs are garments worn together in one photo, in both directions, for the slot pairs of
:data:`~recommender.ml.complement.inference.COMPLEMENT_SLOTS`. Every step is one full batch:
each query is scored against every training garment of its complement slots from *other*
photos (an in-slot softmax with temperature ``tau``), plus a margin loss on its hardest
in-slot negative. Each garment's colour/texture comes from one of its cached crop versions,
drawn independently per garment and step (``--jitter``), so photo-level light and camera
cues shared by the two garments of a photo stop identifying the pair.

Validation is the project's fixed split of ``ccp/`` (seed 0, 15 %): FITB with 4 candidates,
both directions, as photographed (view 0) and with each garment independently jittered.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from recommender.ml.complement import WEIGHTS_NAME
from recommender.ml.complement.features import FEATURE_DIM, FEATURE_LAYOUT, FEATURE_VERSION
from recommender.ml.complement.inference import COMPLEMENT_SLOTS, ComplementModel
from recommender.ml.complement.model import (
    SLOTS,
    ComplementConfig,
    ComplementEnsemble,
    build_complement_net,
    config_to_meta,
)
from recommender.ml.weights import save_weights
from training.complement.evaluate import evaluate_garments, garment_set_from_table


def complement_pairs(photo: np.ndarray, slot: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """[P, 2] (query, answer) garment indices worn together in one photo, both directions."""
    pairs = []
    by_photo: dict[str, list[int]] = {}
    for index in rows:
        by_photo.setdefault(str(photo[index]), []).append(int(index))
    for members in by_photo.values():
        for a in members:
            for b in members:
                if a != b and slot[b] in COMPLEMENT_SLOTS[str(slot[a])]:
                    pairs.append((a, b))
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def encode_all(net, features: torch.Tensor, slot_index: dict[str, torch.Tensor], role: str) -> torch.Tensor:
    out = torch.zeros(len(features), net.config.output_dim)
    for slot, rows in slot_index.items():
        if len(rows):
            out = out.index_put((rows,), net(features[rows], slot=slot, role=role))
    return out


def validate(net, table: dict[str, np.ndarray], val: np.ndarray, seed: int) -> dict:
    model = ComplementModel(net, {"feature_version": FEATURE_VERSION})
    plain = evaluate_garments(garment_set_from_table(table, val, views=0), model=model, seed=seed)
    views = np.random.default_rng(seed + 7).integers(1, table["appearance"].shape[1], size=len(table["slot"]))
    jittered = evaluate_garments(garment_set_from_table(table, val, views=views), model=model, seed=seed)
    net.train()
    return {"same_photo": plain, "same_photo_jittered": jittered}


def train(
    table: dict[str, np.ndarray],
    *,
    config: ComplementConfig,
    steps: int = 300,
    lr: float = 2e-3,
    weight_decay: float = 0.05,
    tau: float = 0.07,
    hard_weight: float = 0.5,
    margin: float = 0.2,
    jitter: bool = True,
    seed: int = 0,
    validate_every: int = 50,
    log=print,
):
    """The trained module and its validation results (see the module docstring).

    With ``config.members`` > 1, each member is trained on its own, with seeds ``seed``,
    ``seed + 1``, …, and the members are joined into one :class:`ComplementEnsemble`."""
    members, history = [], []
    for number in range(config.members):
        net, member_history, n_pairs = _train_member(
            table,
            config=config.member(),
            steps=steps,
            lr=lr,
            weight_decay=weight_decay,
            tau=tau,
            hard_weight=hard_weight,
            margin=margin,
            jitter=jitter,
            seed=seed + number,
            validate_every=validate_every,
            log=log,
        )
        members.append(net)
        history += [{"member": number, **entry} for entry in member_history] if config.members > 1 else member_history
    net = members[0] if config.members == 1 else ComplementEnsemble.of(members)
    result = validate(net, table, table["split"] == "val", seed)
    return net.eval(), result, history, n_pairs


def _train_member(
    table: dict[str, np.ndarray],
    *,
    config: ComplementConfig,
    steps: int,
    lr: float,
    weight_decay: float,
    tau: float,
    hard_weight: float,
    margin: float,
    jitter: bool,
    seed: int,
    validate_every: int,
    log,
):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_rows = np.nonzero(table["split"] == "train")[0]
    val_rows = table["split"] == "val"
    tr = {k: v[train_rows] for k, v in table.items()}
    pairs = torch.from_numpy(complement_pairs(tr["photo"], tr["slot"], np.arange(len(train_rows))))
    n, views = len(train_rows), tr["appearance"].shape[1]
    embedding = torch.from_numpy(tr["embedding"])
    appearance = torch.from_numpy(tr["appearance"])
    net = build_complement_net(config)
    every_view = torch.cat([embedding[:, None].expand(-1, views, -1), appearance], dim=-1).reshape(-1, FEATURE_DIM)
    net.fit(every_view)
    slot_index = {s: torch.from_numpy(np.nonzero(tr["slot"] == s)[0]) for s in SLOTS}
    photo_ids = np.unique(tr["photo"], return_inverse=True)[1]
    same_photo = torch.from_numpy(photo_ids[:, None] == photo_ids[None, :])
    # allowed[q, k]: garment k may be a candidate for query q (its slot completes q's; another photo).
    slot_ok = torch.zeros(len(SLOTS), n, dtype=torch.bool)
    for i, s in enumerate(SLOTS):
        wanted = COMPLEMENT_SLOTS[s]
        slot_ok[i] = torch.from_numpy(np.isin(tr["slot"], wanted))
    query_slot = torch.from_numpy(np.asarray([SLOTS.index(s) for s in tr["slot"]]))
    q_idx, a_idx = pairs[:, 0], pairs[:, 1]
    allowed = slot_ok[query_slot[q_idx]] & ~same_photo[q_idx]
    allowed[torch.arange(len(pairs)), a_idx] = True
    positive = torch.zeros_like(allowed)
    positive[torch.arange(len(pairs)), a_idx] = True
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=steps, pct_start=0.1)
    history = []
    net.train()
    start = time.monotonic()
    for step in range(1, steps + 1):
        view = torch.from_numpy(rng.integers(views, size=n)) if jitter else torch.zeros(n, dtype=torch.long)
        features = torch.cat([embedding, appearance[torch.arange(n), view]], dim=1)
        queries = encode_all(net, features, slot_index, "query")
        candidates = encode_all(net, features, slot_index, "candidate")
        scores = queries[q_idx] @ candidates.T
        logits = (scores / tau).masked_fill(~allowed, float("-inf"))
        nce = F.cross_entropy(logits, a_idx)
        hardest = scores.masked_fill(~allowed | positive, float("-inf")).max(dim=1).values
        hinge = F.relu(margin - scores[torch.arange(len(pairs)), a_idx] + hardest).mean()
        loss = nce + hard_weight * hinge
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if step % validate_every == 0 or step == steps:
            result = validate(net, table, val_rows, seed)
            entry = {
                "step": step,
                "loss": round(loss.item(), 4),
                "nce": round(nce.item(), 4),
                "hinge": round(hinge.item(), 4),
                "val_fitb": result["same_photo"]["methods"]["model"]["fitb"],
                "val_fitb_jittered": result["same_photo_jittered"]["methods"]["model"]["fitb"],
                "seconds": round(time.monotonic() - start, 1),
            }
            history.append(entry)
            log(json.dumps(entry))
    return net.eval(), history, len(pairs)


def cross_validate(
    table: dict[str, np.ndarray], *, config: ComplementConfig, folds: int = 5, seeds: int = 5, log=print, **options
) -> dict:
    """Mean FITB of ``config`` over ``folds`` folds of the CCP *training* photos (the validation split is
    never used; tagged photos always train), each fold asked with distractor seeds 0 … ``seeds`` − 1, and
    the colour histogram's on the very same questions. ``options`` go to :func:`train` (steps, lr, tau …)."""
    ccp_train = (table["source"] == "ccp") & (table["split"] == "train")
    photos = np.random.default_rng(0).permutation(np.unique(table["photo"][ccp_train]))
    totals = {"model": 0.0, "colour": 0.0}
    questions = 0
    for number, fold in enumerate(np.array_split(photos, folds)):
        split = np.where(table["split"] == "val", "held-out", "train")
        split[np.isin(table["photo"], fold)] = "val"
        folded = {**table, "split": split}
        net, *_ = train(folded, config=config, validate_every=10**9, log=lambda *_: None, **options)
        model = ComplementModel(net, {"feature_version": FEATURE_VERSION})
        garments = garment_set_from_table(folded, split == "val", views=0)
        for seed in range(seeds):
            result = evaluate_garments(garments, model=model, methods=("model", "colour"), seed=seed)
            for method in totals:
                totals[method] += result["methods"][method]["fitb"] * result["questions"]
            questions += result["questions"]
        log(json.dumps({"fold": number, "photos": len(fold)}))
    return {
        "cv_fitb": round(totals["model"] / questions, 4),
        "colour": round(totals["colour"] / questions, 4),
        "folds": folds,
        "seeds": seeds,
        "questions": questions // seeds,
    }


def load_tables(cache_dir: Path, sources: Sequence[str]) -> tuple[dict[str, np.ndarray], dict]:
    from recommender.ml.complement.data import load_cache

    paths = [p for source in sources for p in sorted(cache_dir.glob(f"{source}-{FEATURE_VERSION}*.npz"))]
    if not paths:
        raise SystemExit(f"no feature caches for {sources} under {cache_dir}: run recommender.ml.complement.data")
    metas = [json.loads(p.with_suffix(".json").read_text()) for p in paths]
    embedders = {m["embedder_sha256"] for m in metas}
    if len(embedders) != 1:
        raise SystemExit(f"the caches were made by different embedders: {sorted(embedders)}")
    return load_cache(paths), {
        "embedder_sha256": embedders.pop(),
        "caches": {p.stem: m for p, m in zip(paths, metas, strict=True)},
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", default="runs/complement", help="folder of data.py's feature caches")
    parser.add_argument("--sources", default="ccp,tagged", help="caches to train on (validation is always ccp's)")
    parser.add_argument("--out", default="runs/complement/model")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--tau", type=float, default=0.07)
    parser.add_argument("--hard-weight", type=float, default=0.5)
    parser.add_argument("--margin", type=float, default=0.2)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--members", type=int, default=1, help="independently trained members, joined in one vector")
    parser.add_argument("--maps-pca", type=int, default=0, help="whitened PCA components of the pooled maps (0: raw)")
    parser.add_argument("--no-jitter", dest="jitter", action="store_false")
    parser.add_argument(
        "--colour-residual", action="store_true", help="add the colour histogram similarity with a learnt weight"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--export", action="store_true", help="also write the weights, manifest included")
    parser.add_argument(
        "--cv", type=int, default=0, metavar="FOLDS", help="only cross-validate over the CCP training photos"
    )
    parser.add_argument("--weights-dir", default=None, help="where --export writes (default: the shipped folder)")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    table, cache_meta = load_tables(Path(args.cache), [s for s in args.sources.split(",") if s])
    config = ComplementConfig(
        hidden=args.hidden,
        dim=args.dim,
        dropout=args.dropout,
        colour_residual=args.colour_residual,
        members=args.members,
        maps_pca=args.maps_pca,
    )
    options = {
        "steps": args.steps,
        "lr": args.lr,
        "weight_decay": args.weight_decay,
        "tau": args.tau,
        "hard_weight": args.hard_weight,
        "margin": args.margin,
        "jitter": args.jitter,
        "seed": args.seed,
    }
    if args.cv:
        print(json.dumps(cross_validate(table, config=config, folds=args.cv, **options)))
        return
    net, result, history, n_pairs = train(table, config=config, **options)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    train_mask = table["split"] == "train"
    meta = {
        "config": config_to_meta(config),
        "feature_version": FEATURE_VERSION,
        "feature_layout": FEATURE_LAYOUT,
        "embedder_sha256": cache_meta["embedder_sha256"],
        "complement_slots": {k: list(v) for k, v in COMPLEMENT_SLOTS.items()},
        "training": {
            **options,
            "pairs": n_pairs,
            "garments": int(train_mask.sum()),
            "photos": int(len(set(table["photo"][train_mask]))),
            "sources": args.sources,
        },
        "data": {"ccp_split": {"seed": 0, "val_fraction": 0.15}, "caches": cache_meta["caches"]},
        "validation": result,
        "history": history,
        "command": "python -m training.complement.train " + " ".join(sys.argv[1:] if argv is None else argv),
        "torch": torch.__version__,
    }
    (out / "result.json").write_text(json.dumps(meta, indent=2) + "\n")
    torch.save(net.state_dict(), out / "model.pt")
    print(json.dumps({k: v["methods"] for k, v in result.items()}))
    if args.export:
        manifest = save_weights(WEIGHTS_NAME, net.state_dict(), meta, directory=args.weights_dir)
        print(f"exported {WEIGHTS_NAME} sha256 {manifest['sha256'][:12]}")


if __name__ == "__main__":
    main()
