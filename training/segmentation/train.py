"""Train the outfit-segmentation U-Net on CCP.

    python -m training.segmentation.train --ccp ../shared/datasets/ccp --out runs/seg \
        --epochs 40 --base 16 --size 256x176 --threads 1 --export

    # the ResNet34 U-Net, its encoder started from the shipped embedder (hash-checked), frozen:
    python -m training.segmentation.train --ccp ../shared/datasets/ccp --out runs/seg-r34 \
        --arch resnet34-unet --encoder-from resnet34-garments --freeze-encoder 5 --size 320x224 \
        --epochs 16 --threads 1 --resume --export --name unet-r34-ccp

Every epoch writes ``OUT/last.pt`` (model, optimiser, scheduler, epoch, RNG: ``--resume``
continues from it), ``OUT/best.pt`` when validation mIoU improves, and one JSON line in
``OUT/metrics.jsonl``. ``--export`` writes the best model with ``save_weights`` into
``--weights-dir`` (default: the shipped ``recommender/ml/weights``); without it the
shipped weights are never touched, which is what smoke tests rely on.
Resuming with ``--epochs`` equal to the epochs already done just exports.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm import tqdm

from recommender.ml.datasets.ccp import read_label_mapping
from recommender.ml.segmentation.model import ARCHITECTURES, UNetConfig, build_unet, load_unet
from recommender.ml.weights import Weights, WeightsError, load_weights, pick_device, save_weights
from training.segmentation.data import SPLIT_SEED, VAL_FRACTION, CCPSegmentation, train_val_samples
from training.segmentation.metrics import confusion, iou_report
from training.segmentation.pseudo_labels import IGNORE, PseudoLabelled
from training.segmentation.resnet_unet import (
    encoder_state_from_embedder,
    freeze_encoder_stages,
    load_encoder_from_embedder,
    shared_encoder_tensors,
    train_mode,
)

MODEL_NAME = "unet-ccp"
WARMUP_STEPS = 100


def parse_size(text: str) -> tuple[int, int]:
    """``"256x176"`` → (256, 176): height first, like every size in this package."""
    try:
        height, width = (int(part) for part in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"size must look like 256x176 (HxW), got {text!r}") from exc
    return height, width


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training.segmentation.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--ccp", required=True, help="CCP folder (photos/, annotations/pixel-level/)")
    parser.add_argument("--out", default="runs/seg", help="checkpoints and metrics.jsonl go here")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--arch", choices=ARCHITECTURES, default="unet", help="network (see model.py)")
    parser.add_argument("--base", type=int, default=16, help="U-Net base width (64 = the classic design)")
    parser.add_argument(
        "--encoder-from",
        default="resnet34-garments",
        metavar="NAME",
        help="resnet34-unet: shipped embedder whose trunk starts the encoder (hash-checked); 'none' for random",
    )
    parser.add_argument(
        "--freeze-encoder",
        type=int,
        default=0,
        metavar="N",
        help="resnet34-unet: freeze the first N encoder stages (stem, layer1..layer4); 5 = the whole encoder",
    )
    parser.add_argument("--name", default=MODEL_NAME, help="weights name --export writes")
    parser.add_argument(
        "--pseudo",
        default=None,
        metavar="NPZ",
        help="extra training photos with pseudo-labels (pseudo_labels.py output); 255 = ignored pixels",
    )
    parser.add_argument("--size", type=parse_size, default=(256, 176), help="input HxW, multiples of 16")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 … (default: cuda if available)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many optimiser steps")
    parser.add_argument("--export", action="store_true", help=f"write the best model as '{MODEL_NAME}' weights")
    parser.add_argument("--weights-dir", default=None, help="where --export writes (default: shipped weights)")
    parser.add_argument(
        "--finetune",
        default=None,
        metavar="NAME",
        help="start from the shipped weights NAME (hash-checked; its width is kept, --size may change) "
        "with a fresh schedule",
    )
    parser.add_argument("--finetune-dir", default=None, help="where --finetune looks (default: shipped weights)")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm bars (for logs)")
    return parser


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def warmup_cosine(total_steps: int):
    """Linear warm-up then cosine decay to 1 % of the peak learning rate, per optimiser step."""

    def factor(step: int) -> float:
        if step < WARMUP_STEPS:
            return (step + 1) / WARMUP_STEPS
        progress = min(1.0, (step - WARMUP_STEPS) / max(1, total_steps - WARMUP_STEPS))
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy plus soft Dice: Dice weighs each class equally, which the rare dress class needs.

    Pixels labelled ``IGNORE`` (255: pseudo-label pixels the tags ruled out) count in neither term.
    """
    ce = F.cross_entropy(logits, target, ignore_index=IGNORE)
    probs = logits.float().softmax(dim=1)
    valid = (target != IGNORE).unsqueeze(1).float()
    one_hot = F.one_hot(torch.where(target == IGNORE, 0, target), probs.shape[1]).permute(0, 3, 1, 2).float()
    probs, one_hot = probs * valid, one_hot * valid
    dims = (0, 2, 3)
    dice = (2 * (probs * one_hot).sum(dims) + 1) / (probs.sum(dims) + one_hot.sum(dims) + 1)
    return ce + (1 - dice).mean()


@torch.inference_mode()
def validate(model: torch.nn.Module, loader: DataLoader, device: torch.device, classes: tuple[str, ...]) -> dict:
    """IoU at the input resolution (fast, for model selection); evaluate.py measures at full resolution."""
    model.eval()
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for images, labels in loader:
        predicted = model(images.to(device)).argmax(dim=1).cpu().numpy()
        matrix += confusion(predicted, labels.numpy(), len(classes))
    return iou_report(matrix, classes)


def finetune_source(name: str, directory: str | None, size: tuple[int, int]) -> tuple[Weights, UNetConfig]:
    """Shipped weights to start from (complete, shared encoder tensors included), and their config at ``size``."""
    parent = load_weights(name, directory=directory)
    if parent.meta.get("architecture") not in ARCHITECTURES or "config" not in parent.meta:
        raise WeightsError(f"'{name}' is not a network written by this trainer; it cannot be fine-tuned")
    model, _, _ = load_unet(name, directory=directory)
    parent = Weights(name=parent.name, state_dict=model.state_dict(), meta=parent.meta)
    config = UNetConfig.from_dict({**parent.meta["config"], "input_size": list(size)})
    return parent, config


class ConcatEpochs(torch.utils.data.ConcatDataset):
    """``ConcatDataset`` that passes ``epoch`` on to its parts (their augmentation depends on it)."""

    @property
    def epoch(self) -> int:
        return self.datasets[0].epoch

    @epoch.setter
    def epoch(self, value: int) -> None:
        for dataset in self.datasets:
            dataset.epoch = value


def save_atomic(payload: dict[str, Any], path: Path) -> None:
    """Write then rename, so a run killed mid-save leaves the previous checkpoint intact."""
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def export_best(out: Path, weights_dir: str | None, name: str = MODEL_NAME) -> dict[str, Any]:
    """Write ``best.pt`` as shipped weights ``name``; encoder tensors equal to the embedder's are left out."""
    best = torch.load(out / "best.pt", map_location="cpu", weights_only=False)
    state = best["model"]
    extra: dict[str, Any] = {}
    source = best.get("encoder_weights")
    if source:
        embedder = load_weights(source["name"])
        if embedder.sha256 != source["sha256"]:
            raise WeightsError(
                f"the run's encoder came from {source['name']}@{source['sha256'][:12]}, not {embedder.version}"
            )
        shared = shared_encoder_tensors(state, encoder_state_from_embedder(embedder.state_dict))
        if shared:
            state = {key: value for key, value in state.items() if key not in shared}
            extra["encoder_weights"] = {**source, "shared_tensors": len(shared)}
    meta = {
        **extra,
        "task": "segmentation",
        "architecture": best["config"].get("architecture", "unet"),
        "config": best["config"],
        "classes": best["config"]["classes"],
        "split": best["split"],
        "command": best["command"],
        "init": best.get("init", "scratch"),
        "best_epoch": best["epoch"] + 1,  # 1-based, as in metrics.jsonl
        "steps": best["step"],
        "val_metrics_input_resolution": best["metrics"],
        "dataset": "Clothing Co-Parsing (github.com/bearpaw/clothing-co-parsing), Apache-2.0",
    }
    return save_weights(name, state, meta, directory=weights_dir)


def train(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = "python -m training.segmentation.train " + shlex.join(sys.argv[1:])
    # --resume with no last.pt yet starts the run, so one command line both starts and continues it.
    resumable = args.resume and (out / "last.pt").exists()
    checkpoint = torch.load(out / "last.pt", map_location="cpu", weights_only=False) if resumable else None
    if checkpoint is not None:
        config = UNetConfig.from_dict(checkpoint["config"])
        command = checkpoint["command"]
    else:
        config = UNetConfig(base=args.base, input_size=args.size, architecture=args.arch)
    parent = None
    if args.finetune and checkpoint is None:
        parent, config = finetune_source(args.finetune, args.finetune_dir, args.size)
    seed_everything(args.seed)

    mapping = read_label_mapping(args.ccp)
    train_samples, val_samples = train_val_samples(args.ccp)
    progress = not args.no_progress
    train_set = CCPSegmentation(train_samples, mapping, config, augment=True, seed=args.seed, progress=progress)
    val_set = CCPSegmentation(val_samples, mapping, config, augment=False, progress=progress)
    val_loader = DataLoader(val_set, batch_size=args.batch_size, num_workers=args.workers)
    split = {
        "seed": SPLIT_SEED,
        "val_fraction": VAL_FRACTION,
        "train": len(train_set),
        "val_ids": val_set.ids,
    }
    if args.pseudo:
        pseudo_set = PseudoLabelled(args.pseudo, config, seed=args.seed)
        split["pseudo_labelled"] = len(pseudo_set)
        train_set = ConcatEpochs([train_set, pseudo_set])

    model = build_unet(config)
    init = checkpoint.get("init", "scratch") if checkpoint is not None else "scratch"
    encoder_weights = checkpoint.get("encoder_weights") if checkpoint is not None else None
    if parent is not None:
        model.load_state_dict(parent.state_dict, strict=True)
        encoder_weights = parent.meta.get("encoder_weights")
        shape = "x".join(str(side) for side in parent.meta["config"]["input_size"])
        init = (
            f"finetuned from {parent.name}@{parent.version} (trained at {shape}, {parent.meta.get('init', 'scratch')})"
        )
        print(json.dumps({"init": init, "input_size": config.input_size}), flush=True)
    elif checkpoint is None and config.architecture == "resnet34-unet" and args.encoder_from != "none":
        source = load_encoder_from_embedder(model, args.encoder_from, directory=args.finetune_dir)
        embedder = load_weights(args.encoder_from, directory=args.finetune_dir)
        encoder_weights = {"name": embedder.name, "sha256": embedder.sha256}
        init = f"encoder from the embedder {source}, decoder random"
        print(json.dumps({"init": init, "input_size": config.input_size}), flush=True)
    frozen_stages = checkpoint.get("freeze_encoder", 0) if checkpoint is not None else args.freeze_encoder
    frozen = freeze_encoder_stages(model, frozen_stages)
    model = model.to(device)
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(train_set) / args.batch_size)
    total_steps = args.epochs * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, warmup_cosine(total_steps))
    use_amp = device.type == "cuda"  # bf16 autocast: no loss scaling needed, unlike fp16
    start_epoch, step, best_miou = 0, 0, -1.0
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimiser.load_state_dict(checkpoint["optimiser"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        start_epoch, step, best_miou = checkpoint["epoch"] + 1, checkpoint["step"], checkpoint["best_miou"]
        set_rng_state(checkpoint["rng"])

    for epoch in range(start_epoch, args.epochs):
        if args.max_steps is not None and step >= args.max_steps:
            break
        started = time.time()
        train_set.epoch = epoch
        order = torch.Generator().manual_seed(args.seed * 1000 + epoch)
        loader = DataLoader(
            train_set,
            batch_size=args.batch_size,
            shuffle=True,
            generator=order,
            num_workers=args.workers,
            drop_last=True,
            pin_memory=use_amp,
        )
        train_mode(model, frozen)
        losses = []
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{args.epochs}", disable=not progress, mininterval=10)
        for images, labels in bar:
            images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                loss = segmentation_loss(model(images), labels)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            scheduler.step()
            step += 1
            losses.append(loss.item())
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}", refresh=False)
            if args.max_steps is not None and step >= args.max_steps:
                break
        metrics = validate(model, val_loader, device, config.classes)
        record = {
            "epoch": epoch + 1,
            "step": step,
            "loss": round(float(np.mean(losses)), 4),
            "lr": scheduler.get_last_lr()[0],
            "val_iou": metrics["iou"],
            "val_miou": metrics["miou"],
            "seconds": round(time.time() - started, 1),
        }
        with open(out / "metrics.jsonl", "a") as log:
            log.write(json.dumps(record) + "\n")
        print(json.dumps(record), flush=True)
        state = {
            "config": config.to_dict(),
            "command": command,
            "split": split,
            "init": init,
            "epoch": epoch,
            "step": step,
            "freeze_encoder": frozen_stages,
            "encoder_weights": encoder_weights,
        }
        if metrics["miou"] > best_miou:
            best_miou = metrics["miou"]
            save_atomic({**state, "model": model.state_dict(), "metrics": metrics}, out / "best.pt")
        save_atomic(
            {
                **state,
                "model": model.state_dict(),
                "optimiser": optimiser.state_dict(),
                "scheduler": scheduler.state_dict(),
                "best_miou": best_miou,
                "rng": rng_state(),
            },
            out / "last.pt",
        )

    result: dict[str, Any] = {"out": str(out), "best_val_miou": best_miou, "steps": step}
    if args.export:
        manifest = export_best(out, args.weights_dir, args.name)
        result["exported"] = {"name": args.name, "sha256": manifest["sha256"], "bytes": manifest["bytes"]}
    return result


def main(argv: list[str] | None = None) -> None:
    print(json.dumps(train(build_parser().parse_args(argv))))


if __name__ == "__main__":
    main()
