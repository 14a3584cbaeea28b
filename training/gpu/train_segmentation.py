"""Train the ResNet34 U-Net from a segmentation pack within a wall-clock budget (one GPU run).

    python -m training.gpu.train_segmentation --pack gpu/packs/segmentation.npz --out $OUT --minutes 8

The whole pack goes to the device as uint8; every batch is augmented there
(:mod:`.augment`) and trained under bf16 autocast in channels-last. The encoder starts from
the shipped embedder ``resnet34-garments`` (hash-checked before any step), or from shipped
segmentation weights with ``--finetune NAME``. The number of epochs is ``--epochs`` or
fewer: after the second epoch (the first carries start-up costs) the run measures its pace and shortens the cosine schedule so
that it ends inside ``--minutes``. Validation (mIoU at the pack's size, flip-averaged) runs
every ``--val-every`` epochs and at the end; the best epoch's weights are written as fp16
safetensors parts of at most 16 MiB (``STEM.partNN.safetensors`` + ``STEM.parts.json``) with
``metrics.json`` (the manifest-to-be and the history) into ``--out``.
``python -m training.gpu.export`` turns them into shipped weights.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from recommender.ml.segmentation.model import UNetConfig, build_unet
from recommender.ml.weights import load_weights, pick_device
from training.gpu.augment import augment_segmentation, normalise
from training.gpu.budget import WallClock, epoch_record, planned_epochs
from training.gpu.packs import PSEUDO, TRAIN, VAL, read_pack
from training.gpu.parts import save_parts
from training.segmentation.metrics import confusion, iou_report
from training.segmentation.resnet_unet import freeze_encoder_stages, load_encoder_from_embedder, train_mode
from training.segmentation.train import finetune_source, segmentation_loss

WARMUP_FRACTION = 0.03


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training.gpu.train_segmentation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pack", required=True, help="segmentation pack (make gpu-packs)")
    parser.add_argument("--out", required=True, help="parts and metrics.json go here ($OUT on the device)")
    parser.add_argument("--minutes", type=float, default=8.0, help="wall-clock budget for the whole run")
    parser.add_argument("--epochs", type=int, default=150, help="upper bound; the budget may shorten it")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3, help="AdamW peak learning rate of the decoder")
    parser.add_argument("--encoder-lr-scale", type=float, default=0.3, help="encoder lr = lr × this")
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--freeze-encoder", type=int, default=0, metavar="N", help="frozen encoder stages (0-5)")
    parser.add_argument("--encoder-from", default="resnet34-garments", help="embedder whose trunk starts the encoder")
    parser.add_argument("--finetune", default=None, metavar="NAME", help="start from shipped segmentation weights")
    parser.add_argument("--no-pseudo", action="store_true", help="train on the hand-labelled photos only")
    parser.add_argument("--val-every", type=int, default=5)
    parser.add_argument("--stem", default="unet-r34-ccp", help="file name stem of the parts")
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (smoke tests)")
    return parser.parse_args(argv)


class Schedule:
    """Warm-up then cosine to 1 % of the peak, over a total that may shrink once the pace is known."""

    def __init__(self, total_steps: int) -> None:
        self.total_steps = max(1, total_steps)

    def __call__(self, step: int) -> float:
        warmup = max(1, int(WARMUP_FRACTION * self.total_steps))
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, self.total_steps - warmup))
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress))


def autocast(device: torch.device) -> torch.autocast:
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


@torch.inference_mode()
def validate(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    config: UNetConfig,
    device: torch.device,
    batch_size: int,
) -> dict[str, Any]:
    """mIoU at the pack's size, each prediction averaged with the mirrored photo's (the served TTA)."""
    model.eval()
    classes = config.classes
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for start in range(0, len(images), batch_size):
        batch = normalise(images[start : start + batch_size].permute(0, 3, 1, 2).float() / 255, config.mean, config.std)
        batch = batch.contiguous(memory_format=torch.channels_last)
        with autocast(device):
            probs = model(batch).float().softmax(1) + model(batch.flip(-1)).float().softmax(1).flip(-1)
        predicted = probs.argmax(1).cpu().numpy()
        matrix += confusion(predicted, labels[start : start + batch_size].cpu().numpy(), len(classes))
    return iou_report(matrix, classes)


def train(args: argparse.Namespace, argv: Sequence[str] | None = None) -> dict[str, Any]:
    clock = WallClock(args.minutes)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    device = pick_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    pack = read_pack(args.pack)
    height, width = pack["meta"]["size"]
    split = pack["split"]
    train_mask = (split == TRAIN) | ((split == PSEUDO) & (not args.no_pseudo))
    images = torch.from_numpy(pack["images"]).to(device)
    labels = torch.from_numpy(pack["labels"]).to(device)
    train_index = torch.from_numpy(np.flatnonzero(train_mask)).to(device)
    val_index = torch.from_numpy(np.flatnonzero(split == VAL)).to(device)

    # Encoder from the embedder (hash-checked here, before any step), or a whole shipped model.
    if args.finetune:
        parent, config = finetune_source(args.finetune, None, (height, width))
        model = build_unet(config)
        model.load_state_dict(parent.state_dict)
        encoder_weights = parent.meta.get("encoder_weights")
        init = f"finetuned from {parent.name}@{parent.version}"
    else:
        config = UNetConfig(architecture="resnet34-unet", input_size=(height, width))
        model = build_unet(config)
        source = load_encoder_from_embedder(model, args.encoder_from)
        embedder = load_weights(args.encoder_from)
        encoder_weights = {"name": embedder.name, "sha256": embedder.sha256}
        init = f"encoder from the embedder {source}, decoder random"
    frozen = freeze_encoder_stages(model, args.freeze_encoder)
    model = model.to(device, memory_format=torch.channels_last)
    encoder_params = [p for n, p in model.named_parameters() if n.startswith("encoder.") and p.requires_grad]
    other_params = [p for n, p in model.named_parameters() if not n.startswith("encoder.") and p.requires_grad]
    groups = [{"params": other_params, "lr": args.lr}]
    if encoder_params:
        groups.append({"params": encoder_params, "lr": args.lr * args.encoder_lr_scale})
    optimiser = torch.optim.AdamW(groups, weight_decay=args.weight_decay)
    steps_per_epoch = max(1, len(train_index) // args.batch_size)
    schedule = Schedule(args.epochs * steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, schedule)
    print(
        json.dumps({"init": init, "device": str(device), "train": len(train_index), "val": len(val_index)}), flush=True
    )

    epochs = args.epochs
    step = 0
    best: dict[str, Any] = {"miou": -1.0}
    history = []
    epoch = 0
    while epoch < epochs:
        epoch_started = time.monotonic()
        train_mode(model, frozen)
        order = train_index[torch.randperm(len(train_index), generator=generator).to(device)]
        losses = []
        for start in range(0, steps_per_epoch * args.batch_size, args.batch_size):
            index = order[start : start + args.batch_size]
            inputs, targets = augment_segmentation(
                images[index], labels[index], (height, width), mean=config.mean, std=config.std, generator=generator
            )
            inputs = inputs.contiguous(memory_format=torch.channels_last)
            with autocast(device):
                loss = segmentation_loss(model(inputs), targets)
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
        # Out of time before the planned end: validate and keep what we have.
        last = epoch >= epochs or bool(args.max_steps and step >= args.max_steps) or clock.out_of_time()
        if epoch % args.val_every == 0 or last:
            metrics = validate(model, images[val_index], labels[val_index], config, device, args.batch_size)
            record.update(val_iou=metrics["iou"], val_miou=metrics["miou"])
            if metrics["miou"] > best["miou"]:
                state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
                best = {"miou": metrics["miou"], "iou": metrics["iou"], "epoch": epoch, "step": step, "state": state}
        history.append(record)
        print(json.dumps(record), flush=True)
        if last:
            break

    files = save_parts(best["state"], out, args.stem)
    command = "python -m training.gpu.train_segmentation " + shlex.join(sys.argv[1:] if argv is None else argv)
    pseudo = pack["meta"].get("pseudo")
    manifest = {
        "task": "segmentation",
        "architecture": config.architecture,
        "config": config.to_dict(),
        "classes": list(config.classes),
        "command": command,
        "init": init,
        "encoder_weights": encoder_weights,
        "freeze_encoder": args.freeze_encoder,
        "best_epoch": best["epoch"],
        "epochs": epoch,
        "steps": best["step"],
        "val_metrics_pack_tta_flip": {"miou": best["miou"], "iou": best["iou"]},
        "split": {**pack["meta"]["split"], "train": int((split == TRAIN).sum())},
        "pseudo_labelled": 0 if args.no_pseudo or not pseudo else int((split == PSEUDO).sum()),
        "dataset": "Clothing Co-Parsing (github.com/bearpaw/clothing-co-parsing), Apache-2.0",
        "trained_on": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
    }
    summary = {
        "stem": args.stem,
        "kind": "segmentation",
        "manifest": manifest,
        "history": history,
        "seconds": round(clock.spent(), 1),
        "files": [path.name for path in files],
    }
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(
        json.dumps({k: summary[k] for k in ("stem", "seconds", "files")} | {"best_val_miou": best["miou"]}), flush=True
    )
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    train(parse_args(argv), argv)


if __name__ == "__main__":
    main()
