"""Train the garment embedder on catalog photos and CCP street crops.

Usage::

    python -m training.embedding.train --catalog ../shared/datasets/clothing-small \\
        --ccp ../shared/datasets/ccp --out runs/emb --epochs 30 --size 112 --export

Loss = cosine-softmax cross-entropy over the ten catalog classes (trains the
same cosine geometry the kNN uses) + a supervised-contrastive term over the
batch, where catalog photos and street crops of one class are positives of each
other: this is what pulls street garments towards shop photos of their class.

Every epoch ends with a checkpoint (``last.pt``; ``best.pt`` when the validation
score improves), a JSON line in ``metrics.jsonl`` and validation: catalog
validation photos against the catalog train gallery (kNN top-1, P@10) and
validation street crops against the catalog train gallery (P@10). ``--resume``
continues from ``last.pt``; each epoch reseeds from ``--seed`` + epoch, so a
resumed run sees the same shuffles and augmentations as an uninterrupted one.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from torch.utils.data import DataLoader
from torchvision import transforms
from tqdm import tqdm

from core.images import open_image
from recommender.ml.embedding import WEIGHTS_NAME
from recommender.ml.embedding.inference import flip_averaged
from recommender.ml.embedding.model import EmbedderConfig, GarmentEmbedder, build_embedder, config_to_meta
from recommender.ml.embedding.preprocess import PreprocessConfig, letterbox, normalize, preprocess
from recommender.ml.weights import WeightsError, load_weights, pick_device, save_weights
from training.embedding.data import (
    CATALOG_CLASSES,
    CCP_SPLIT_SEED,
    CCP_VAL_FRACTION,
    ImageDataset,
    list_image_tree,
    load_catalog,
    shrink,
    street_crops,
)
from training.embedding.knn import knn_metrics

CATALOG, STREET = 0, 1


@dataclass(frozen=True)
class EvalSet:
    """Pre-letterboxed uint8 pixels (deterministic, so computed once) and class indices."""

    pixels: np.ndarray
    labels: np.ndarray


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", required=True, help="clothing-small root with train/ and validation/")
    parser.add_argument("--ccp", required=True, help="CCP root (photos/, annotations/)")
    parser.add_argument("--out", default="runs/emb", help="run folder: checkpoints and metrics.jsonl")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--size", type=int, default=112, help="square input size in pixels")
    parser.add_argument("--batch-size", type=int, default=48)
    parser.add_argument("--lr", type=float, default=2e-3, help="AdamW peak learning rate")
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--supcon-weight", type=float, default=0.5, help="weight of the contrastive term")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 … (default: cuda when available)")
    parser.add_argument("--init", default="auto", choices=("auto", "imagenet", "scratch"))
    parser.add_argument(
        "--finetune",
        default=None,
        metavar="NAME",
        help="start from the shipped weights NAME (hash-checked; overrides --init), e.g. to continue "
        "a finished run with a fresh schedule",
    )
    parser.add_argument("--finetune-dir", default=None, help="where --finetune looks (default: the shipped dir)")
    parser.add_argument(
        "--test-time-flip",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="validate and serve each vector as the average with the mirror image's (recorded in the manifest)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (smoke tests)")
    parser.add_argument("--limit", type=int, default=0, help="use only this many images per set (smoke tests)")
    parser.add_argument("--export", action="store_true", help=f"write the best checkpoint as {WEIGHTS_NAME}")
    parser.add_argument("--weights-dir", default=None, help="where --export writes (default: the shipped dir)")
    parser.add_argument("--name", default=WEIGHTS_NAME, help="weights name for --export")
    return parser.parse_args(argv)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Augment:
    """Training-only PIL augmentation, applied before :func:`preprocess`.

    A random crop keeping 55–100 % of the area (street crops are often cut by
    occlusion), horizontal flips, colour jitter (lighting differs between a
    studio and a street) and occasional greyscale.
    """

    def __init__(self, config: PreprocessConfig) -> None:
        self.config = config
        self.colour = transforms.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.03)

    def crop(self, image: Image.Image) -> Image.Image:
        area = random.uniform(0.55, 1.0)
        aspect = math.exp(random.uniform(math.log(3 / 4), math.log(4 / 3)))
        width = min(image.width, max(1, round(image.width * math.sqrt(area * aspect))))
        height = min(image.height, max(1, round(image.height * math.sqrt(area / aspect))))
        left = random.randint(0, image.width - width)
        top = random.randint(0, image.height - height)
        return image.crop((left, top, left + width, top + height))

    def __call__(self, image: Image.Image) -> torch.Tensor:
        image = self.crop(image)
        if random.random() < 0.5:
            image = ImageOps.mirror(image)
        image = self.colour(image)
        if random.random() < 0.05:
            image = ImageOps.grayscale(image).convert("RGB")
        return preprocess(image, self.config)


def supcon_loss(embeddings: torch.Tensor, labels: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al. 2020) on unit vectors: same class = positive."""
    logits = embeddings @ embeddings.t() / temperature
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    logits = logits.masked_fill(eye, float("-inf"))
    positives = (labels[:, None] == labels[None, :]) & ~eye
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    count = positives.sum(dim=1)
    has_positive = count > 0
    if not has_positive.any():
        return embeddings.sum() * 0.0
    mean_log_prob = log_prob.masked_fill(~positives, 0.0).sum(dim=1)[has_positive] / count[has_positive]
    return -mean_log_prob.mean()


def eval_set(images: Sequence[Image.Image], labels: Sequence[int], config: PreprocessConfig) -> EvalSet:
    return EvalSet(np.stack([letterbox(image, config.size) for image in images]), np.asarray(labels))


def catalog_eval_set(root: Path, config: PreprocessConfig, limit: int) -> EvalSet:
    """Exactly the serving path: ``open_image`` on the original file, then the shared transform."""
    items = list_image_tree(root)
    if limit:
        items = items[:: max(1, len(items) // limit)]
    return eval_set([open_image(p) for p, _ in items], [CATALOG_CLASSES.index(c) for _, c in items], config)


@torch.inference_mode()
def embed_pixels(
    model: GarmentEmbedder,
    pixels: np.ndarray,
    config: PreprocessConfig,
    device: torch.device,
    batch_size: int = 128,
    *,
    test_time_flip: bool = False,
) -> np.ndarray:
    model.eval()

    def run(batch: torch.Tensor) -> np.ndarray:
        with autocast(device):
            return model(batch.to(device, memory_format=torch.channels_last)).float().cpu().numpy()

    chunks = []
    for start in range(0, len(pixels), batch_size):
        batch = normalize(pixels[start : start + batch_size], config)
        chunks.append(flip_averaged(run, batch) if test_time_flip else run(batch))
    vectors = np.concatenate(chunks)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)


def autocast(device: torch.device) -> torch.autocast:
    """bf16 autocast on CUDA (no loss scaling needed), a no-op elsewhere."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


def validate(
    model: GarmentEmbedder,
    sets: dict[str, EvalSet],
    config: PreprocessConfig,
    device: torch.device,
    *,
    test_time_flip: bool = False,
) -> dict[str, float]:
    """Catalog val → catalog train and street val → catalog train, cosine kNN with k=10, as served."""
    gallery = embed_pixels(model, sets["gallery"].pixels, config, device, test_time_flip=test_time_flip)
    metrics = {}
    for name in ("catalog", "street"):
        queries = embed_pixels(model, sets[name].pixels, config, device, test_time_flip=test_time_flip)
        result = knn_metrics(queries, sets[name].labels, gallery, sets["gallery"].labels, k=10)
        metrics[f"{name}_top1"] = result["top1"]
        metrics[f"{name}_p10"] = result["precision_at_k"]
    metrics["score"] = (metrics["catalog_top1"] + metrics["street_p10"]) / 2
    return metrics


def load_data(args: argparse.Namespace, config: PreprocessConfig) -> tuple[ImageDataset, dict[str, EvalSet]]:
    catalog = Path(args.catalog)
    cache_side = round(config.size * 1.5)
    images, labels = load_catalog(catalog / "train", cache_side)
    train_street = list(street_crops(args.ccp, "train"))
    val_street = list(street_crops(args.ccp, "val"))
    if args.limit:
        images, labels = (
            images[:: max(1, len(images) // args.limit)],
            labels[:: max(1, len(labels) // args.limit)],
        )
        train_street, val_street = train_street[: args.limit], val_street[: args.limit]
    dataset = ImageDataset(
        images + [shrink(c.image, cache_side) for c in train_street],
        labels + [CATALOG_CLASSES.index(c.label) for c in train_street],
        Augment(config),
        domains=[CATALOG] * len(images) + [STREET] * len(train_street),
    )
    sets = {
        "gallery": catalog_eval_set(catalog / "train", config, args.limit),
        "catalog": catalog_eval_set(catalog / "validation", config, args.limit),
        "street": eval_set([c.image for c in val_street], [CATALOG_CLASSES.index(c.label) for c in val_street], config),
    }
    return dataset, sets


def make_scheduler(optimizer: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over the first 3 % of steps, then cosine decay to zero."""
    warmup = max(1, int(0.03 * total_steps))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total_steps - warmup))))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def train_step(
    model: GarmentEmbedder,
    batch: tuple[torch.Tensor, ...],
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    supcon_weight: float,
) -> dict[str, float]:
    images, labels, _ = (t.to(device, non_blocking=True) for t in batch)
    images = images.contiguous(memory_format=torch.channels_last)
    with autocast(device):
        embeddings = model(images)
        logits = model.head(embeddings)
    ce = F.cross_entropy(logits.float(), labels, label_smoothing=0.1)
    con = supcon_loss(embeddings.float(), labels)
    loss = ce + supcon_weight * con
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    accuracy = (logits.argmax(dim=1) == labels).float().mean()
    return {"loss": loss.item(), "ce": ce.item(), "supcon": con.item(), "acc": accuracy.item()}


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def run_epoch(
    model: GarmentEmbedder,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LambdaLR,
    device: torch.device,
    args: argparse.Namespace,
    epoch: int,
    step: int,
) -> tuple[dict[str, float], int]:
    """One pass over the training data (or up to ``--max-steps``); returns mean stats and the step count."""
    model.train()
    totals: dict[str, float] = {}
    batches = 0
    for batch in tqdm(loader, desc=f"epoch {epoch}", mininterval=30, leave=False):
        stats = train_step(model, batch, optimizer, device, args.supcon_weight)
        scheduler.step()
        step += 1
        batches += 1
        for key, value in stats.items():
            totals[key] = totals.get(key, 0.0) + value
        if args.max_steps and step >= args.max_steps:
            break
    return {f"train_{k}": v / max(1, batches) for k, v in totals.items()}, step


def finetune_from(model: GarmentEmbedder, name: str, directory: str | None, config: PreprocessConfig) -> str:
    """Load shipped weights into ``model``; returns the lineage recorded as the manifest's ``init``."""
    weights = load_weights(name, directory=directory)
    if weights.meta.get("architecture") != "resnet34" or weights.meta.get("dim") != 512:
        raise WeightsError(f"{name} is not a 512-d ResNet34 embedder; it cannot be fine-tuned here")
    model.load_state_dict(weights.state_dict, strict=True)
    parent = weights.meta.get("init", "unknown")
    lineage = f"{name}@{weights.sha256[:12]} ({weights.meta.get('epoch')} epochs at {weights.meta.get('input_size')} px, from {parent})"
    print(json.dumps({"finetune_from": lineage, "size": config.size}), flush=True)
    return f"finetuned from {lineage}"


def command_line(argv: Sequence[str] | None) -> str:
    return "python -m training.embedding.train " + shlex.join(sys.argv[1:] if argv is None else argv)


def train(args: argparse.Namespace, argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Train (or resume) and return the state of the best epoch; export it when asked."""
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(args.seed)
    config = PreprocessConfig(size=args.size)
    model_config = EmbedderConfig(num_classes=len(CATALOG_CLASSES))
    model, started_from = build_embedder(model_config, init="scratch" if args.finetune else args.init)
    if args.finetune:
        started_from = finetune_from(model, args.finetune, args.finetune_dir, config)
    model = model.to(device, memory_format=torch.channels_last)
    dataset, sets = load_data(args, config)
    steps_per_epoch = math.ceil(len(dataset) / args.batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = make_scheduler(optimizer, args.epochs * steps_per_epoch)
    state: dict[str, Any] = {"epoch": 0, "step": 0, "best": None}
    if args.resume and (out / "last.pt").exists():
        state = torch.load(out / "last.pt", map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        started_from = state["started_from"]
    step = state["step"]
    for epoch in range(state["epoch"] + 1, args.epochs + 1):
        seed_everything(args.seed + epoch)
        generator = torch.Generator().manual_seed(args.seed + epoch)
        loader = DataLoader(
            dataset,
            batch_size=args.batch_size,
            shuffle=True,
            drop_last=len(dataset) > args.batch_size,
            num_workers=args.workers,
            generator=generator,
            pin_memory=device.type == "cuda",
            persistent_workers=False,
        )
        started = time.time()
        train_stats, step = run_epoch(model, loader, optimizer, scheduler, device, args, epoch, step)
        metrics = validate(model, sets, config, device, test_time_flip=args.test_time_flip)
        record = {
            "epoch": epoch,
            "step": step,
            "lr": scheduler.get_last_lr()[0],
            **train_stats,
            **metrics,
            "seconds": round(time.time() - started, 1),
        }
        with open(out / "metrics.jsonl", "a") as log:
            log.write(json.dumps(record) + "\n")
        print(json.dumps(record), flush=True)
        if state["best"] is None or metrics["score"] > state["best"]["score"]:
            state["best"] = record
            save_checkpoint(out / "best.pt", {"model": model.state_dict(), "record": record})
        state = {
            "epoch": epoch,
            "step": step,
            "best": state["best"],
            "started_from": started_from,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
        }
        save_checkpoint(out / "last.pt", state)
        if args.max_steps and step >= args.max_steps:
            break
    if args.export:
        export(args, argv, out, config, model_config, started_from, dataset, sets)
    return state["best"]


def export(
    args: argparse.Namespace,
    argv: Sequence[str] | None,
    out: Path,
    config: PreprocessConfig,
    model_config: EmbedderConfig,
    started_from: str,
    dataset: ImageDataset,
    sets: dict[str, EvalSet],
) -> dict[str, Any]:
    """Write ``best.pt`` as fp16 safetensors + manifest via :func:`save_weights`."""
    best = torch.load(out / "best.pt", map_location="cpu", weights_only=False)
    domains = dataset.domains.tolist()
    meta = {
        "architecture": "resnet34",
        "dim": 512,
        "config": config_to_meta(model_config),
        **config.to_meta(),
        "classes": list(CATALOG_CLASSES),
        "test_time_flip": args.test_time_flip,
        "init": started_from,
        "command": command_line(argv),
        "epoch": best["record"]["epoch"],
        "metrics": {k: v for k, v in best["record"].items() if k not in ("epoch", "step", "lr", "seconds")},
        "data": {
            "catalog_train": domains.count(CATALOG),
            "street_train_crops": domains.count(STREET),
            "catalog_validation": len(sets["catalog"].labels),
            "street_validation_crops": len(sets["street"].labels),
            "ccp_split": {"seed": CCP_SPLIT_SEED, "val_fraction": CCP_VAL_FRACTION},
        },
        "torch": torch.__version__,
    }
    manifest = save_weights(args.name, best["model"], meta, directory=args.weights_dir)
    print(
        json.dumps({"exported": args.name, "sha256": manifest["sha256"], "bytes": manifest["bytes"]}),
        flush=True,
    )
    return manifest


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    train(args, argv)


if __name__ == "__main__":
    main()
