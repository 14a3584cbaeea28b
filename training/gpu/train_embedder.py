"""Train the garment embedder from an embedder pack within a wall-clock budget (one GPU run).

    python -m training.gpu.train_embedder --pack gpu/packs/embedder.npz --out $OUT --minutes 8

At the pack's size, which is the serving size, with class-balanced two-domain batches:
each sample draws a class uniformly, then a street crop or a catalog photo of that class
with equal odds (catalog when the class has no street crops), so the rare street classes
and the street domain are seen as often as the catalog. Loss, head and validation are the
CPU trainer's (:mod:`training.embedding.train`): cosine-softmax cross-entropy with
label smoothing plus supervised contrastive; catalog validation → catalog train kNN top-1 and
street validation → catalog train P@10, flip-averaged as served; ``score`` is their mean.

The default start is the shipped ``resnet34-garments`` (hash-checked). Exported weights get a
new sha256, i.e. a new model version: every stored vector must be re-made (``reindex``) and
models trained on the old vectors retrained, so ``export`` never overwrites the shipped
embedder unless told to by name.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from recommender.ml.embedding.model import EmbedderConfig, build_embedder, config_to_meta
from recommender.ml.embedding.preprocess import PreprocessConfig
from recommender.ml.weights import pick_device
from training.embedding.knn import knn_metrics
from training.embedding.train import finetune_from, supcon_loss
from training.gpu.augment import augment_embedding, normalise
from training.gpu.budget import WallClock, epoch_record, planned_epochs
from training.gpu.packs import CATALOG, STREET, TRAIN, VAL, read_pack
from training.gpu.parts import save_parts
from training.gpu.train_segmentation import Schedule, autocast


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training.gpu.train_embedder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pack", required=True, help="embedder pack (make gpu-packs)")
    parser.add_argument("--out", required=True, help="parts and metrics.json go here ($OUT on the device)")
    parser.add_argument("--minutes", type=float, default=8.0, help="wall-clock budget for the whole run")
    parser.add_argument("--epochs", type=int, default=100, help="upper bound; the budget may shorten it")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--supcon-weight", type=float, default=0.5)
    parser.add_argument(
        "--finetune", default="resnet34-garments", help="shipped weights to start from ('none': --init)"
    )
    parser.add_argument("--init", default="auto", choices=("auto", "imagenet", "scratch"))
    parser.add_argument("--val-every", type=int, default=5)
    parser.add_argument("--stem", default="resnet34-garments-gpu", help="file name stem of the parts")
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (smoke tests)")
    return parser.parse_args(argv)


def balanced_batch(
    pools: dict[tuple[int, int], np.ndarray], classes: list[int], size: int, rng: np.random.Generator
) -> np.ndarray:
    """``size`` pack indices: class uniform, then street or catalog with equal odds where both exist."""
    chosen = rng.choice(classes, size=size)
    street = rng.random(size) < 0.5
    picks = np.empty(size, dtype=np.int64)
    for i, (label, want_street) in enumerate(zip(chosen, street, strict=True)):
        pool = pools.get((int(label), STREET)) if want_street else None
        if pool is None or len(pool) == 0:
            pool = pools.get((int(label), CATALOG))
        if pool is None or len(pool) == 0:
            pool = pools[(int(label), STREET)]
        picks[i] = pool[rng.integers(len(pool))]
    return picks


@torch.inference_mode()
def embed(model, images: torch.Tensor, config: PreprocessConfig, device: torch.device, batch: int = 512) -> np.ndarray:
    """Flip-averaged unit vectors of letterboxed uint8 images, as served."""
    model.eval()
    chunks = []
    for start in range(0, len(images), batch):
        pixels = normalise(images[start : start + batch].permute(0, 3, 1, 2).float() / 255, config.mean, config.std)
        pixels = pixels.contiguous(memory_format=torch.channels_last)
        with autocast(device):
            vectors = model(pixels).float() + model(pixels.flip(-1)).float()
        chunks.append(F.normalize(vectors, dim=1).cpu().numpy())
    return np.concatenate(chunks)


def validate(model, images, pack, config, device) -> dict[str, float]:
    split, domains, classes = pack["split"], pack["domains"], pack["classes"]
    gallery = np.flatnonzero((split == TRAIN) & (domains == CATALOG))
    gallery_vectors = embed(model, images[torch.from_numpy(gallery).to(device)], config, device)
    metrics = {}
    for name, domain in (("catalog", CATALOG), ("street", STREET)):
        queries = np.flatnonzero((split == VAL) & (domains == domain))
        if len(queries) == 0:
            continue
        vectors = embed(model, images[torch.from_numpy(queries).to(device)], config, device)
        result = knn_metrics(vectors, classes[queries], gallery_vectors, classes[gallery], k=10)
        metrics[f"{name}_top1"] = result["top1"]
        metrics[f"{name}_p10"] = result["precision_at_k"]
    metrics["score"] = (metrics.get("catalog_top1", 0.0) + metrics.get("street_p10", 0.0)) / 2
    return metrics


def train(args: argparse.Namespace, argv: Sequence[str] | None = None) -> dict[str, Any]:
    clock = WallClock(args.minutes)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    device = pick_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    pack = read_pack(args.pack)
    size = int(pack["meta"]["size"])
    config = PreprocessConfig(size=size)
    class_names = pack["meta"]["classes"]
    model_config = EmbedderConfig(num_classes=len(class_names))
    model, init = build_embedder(model_config, init="scratch" if args.finetune != "none" else args.init)
    if args.finetune != "none":
        init = finetune_from(model, args.finetune, None, config)  # hash-checked
    model = model.to(device, memory_format=torch.channels_last)
    images = torch.from_numpy(pack["images"]).to(device)
    labels = torch.from_numpy(pack["classes"]).to(device)
    split, domains, classes = pack["split"], pack["domains"], pack["classes"]
    train_rows = np.flatnonzero(split == TRAIN)
    pools = {
        (int(label), int(domain)): train_rows[(classes[train_rows] == label) & (domains[train_rows] == domain)]
        for label in np.unique(classes[train_rows])
        for domain in (CATALOG, STREET)
    }
    present = sorted({label for (label, _), pool in pools.items() if len(pool)})
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = max(1, len(train_rows) // args.batch_size)
    schedule = Schedule(args.epochs * steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, schedule)
    print(json.dumps({"init": init, "device": str(device), "train": len(train_rows), "size": size}), flush=True)

    epochs, epoch, step = args.epochs, 0, 0
    best: dict[str, Any] = {"score": -1.0}
    history = []
    while epoch < epochs:
        epoch_started = time.monotonic()
        model.train()
        losses = []
        for _ in range(steps_per_epoch):
            index = torch.from_numpy(balanced_batch(pools, present, args.batch_size, rng)).to(device)
            inputs = augment_embedding(images[index], mean=config.mean, std=config.std, generator=generator)
            inputs = inputs.contiguous(memory_format=torch.channels_last)
            targets = labels[index]
            with autocast(device):
                embeddings = model(inputs)
                logits = model.head(embeddings)
            loss = F.cross_entropy(logits.float(), targets, label_smoothing=0.1)
            loss = loss + args.supcon_weight * supcon_loss(embeddings.float(), targets)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            scheduler.step()
            step += 1
            losses.append(loss.detach())
            if args.max_steps and step >= args.max_steps:
                break
            if clock.out_of_time():
                break  # out of time mid-epoch: validate and write what we have
        epoch += 1
        epoch_seconds = time.monotonic() - epoch_started
        planned = planned_epochs(clock, epoch=epoch, epoch_seconds=epoch_seconds, epochs=epochs)
        if planned < epochs:  # fit the schedule into the budget now that the steady pace is known
            epochs = planned
            schedule.total_steps = max(1, epochs * steps_per_epoch)
        record: dict[str, Any] = epoch_record(
            epoch=epoch,
            step=step,
            loss=float(torch.stack(losses).float().mean()),
            lr=scheduler.get_last_lr()[0],
            seconds=epoch_seconds,
            planned=epochs,
        )
        out_of_time = clock.out_of_time()
        last = epoch >= epochs or bool(args.max_steps and step >= args.max_steps) or out_of_time
        if epoch % args.val_every == 0 or last:
            metrics = validate(model, images, pack, config, device)
            record.update(metrics)
            if metrics["score"] > best["score"]:
                state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
                best = {**metrics, "epoch": epoch, "step": step, "state": state}
        history.append(record)
        print(json.dumps(record), flush=True)
        if last:
            break

    files = save_parts(best["state"], out, args.stem)
    command = "python -m training.gpu.train_embedder " + shlex.join(sys.argv[1:] if argv is None else argv)
    manifest = {
        "architecture": "resnet34",
        "dim": 512,
        "config": config_to_meta(model_config),
        **config.to_meta(),
        "classes": class_names,
        "test_time_flip": True,
        "init": init,
        "command": command,
        "epoch": best["epoch"],
        "metrics_pack": {k: v for k, v in best.items() if k not in ("state", "epoch", "step")},
        "data": {
            "catalog_train": int(((split == TRAIN) & (domains == CATALOG)).sum()),
            "street_train_crops": int(((split == TRAIN) & (domains == STREET)).sum()),
            "catalog_validation": int(((split == VAL) & (domains == CATALOG)).sum()),
            "street_validation_crops": int(((split == VAL) & (domains == STREET)).sum()),
            "batches": "class-balanced, street or catalog with equal odds per sample",
        },
        "trained_on": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
    }
    summary = {
        "stem": args.stem,
        "kind": "embedder",
        "manifest": manifest,
        "history": history,
        "seconds": round(clock.spent(), 1),
        "files": [path.name for path in files],
    }
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: summary[k] for k in ("stem", "seconds", "files")} | {"best_score": best["score"]}), flush=True)
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    train(parse_args(argv), argv)


if __name__ == "__main__":
    main()
