"""Turn a GPU run's returned files into shipped weights: join the parts, write manifest and model card.

    python -m training.gpu.export --run OUT --name unet-ccp [--weights-dir DIR]

``--run`` is the folder holding ``metrics.json`` and the ``STEM.part*.safetensors`` parts (the GPU
run's ``--out``). The parts are hash-checked against ``STEM.parts.json`` and joined;
a segmentation model's encoder tensors that equal the embedder's are left out, as the CPU
trainer does; :func:`recommender.ml.weights.save_weights` writes ``NAME.safetensors`` (fp16)
and ``NAME.json``, and ``NAME.md`` gets a model card generated from the run's metrics.
Measure the exported model with the project's evaluation commands before shipping it.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from recommender.ml.weights import WEIGHTS_DIR, WeightsError, load_weights, save_weights
from training.gpu.parts import join_parts
from training.segmentation.resnet_unet import encoder_state_from_embedder, shared_encoder_tensors

#: Names that other models depend on: replacing them needs ``--replace``.
PROTECTED = ("resnet34-garments",)


def model_card(name: str, manifest: dict[str, Any], summary: dict[str, Any]) -> str:
    """A short Markdown card from the run: what, how trained, what it measured."""
    history = summary.get("history", [])
    validated = [record for record in history if "val_miou" in record or "score" in record]
    lines = [
        f"# {name}",
        "",
        f"- Task: {manifest.get('task', 'embedding')}; architecture `{manifest['architecture']}`.",
        f"- Start: {manifest.get('init')}.",
        f"- Trained on {manifest.get('trained_on')} (torch {manifest.get('torch')}) in {summary.get('seconds')} s, "
        f"{len(history)} epochs; best epoch {manifest.get('best_epoch', manifest.get('epoch'))}.",
        f"- Command: `{manifest.get('command')}`",
        f"- sha256: `{manifest['sha256']}` ({manifest['bytes']} bytes, fp16 safetensors).",
        "",
        "## Validation during training (the pack's own validation split)",
        "",
    ]
    for record in validated[-5:]:
        shown = {k: v for k, v in record.items() if k not in ("lr", "seconds", "planned_epochs")}
        lines.append(f"- `{json.dumps(shown)}`")
    lines += [
        "",
        "These are measured at the pack's resolution on WebP-compressed photos. The figures that count are",
        "the project's own commands on the original files (docs/models/segmentation.md, docs/models/embedding.md);",
        "add them here before shipping.",
        "",
    ]
    return "\n".join(lines)


def export_run(
    run: str | os.PathLike,
    name: str,
    *,
    weights_dir: str | os.PathLike | None = None,
    replace: bool = False,
) -> dict[str, Any]:
    run = Path(run)
    summary = json.loads((run / "metrics.json").read_text())
    if name in PROTECTED and not replace:
        raise WeightsError(
            f"'{name}' is the shipped embedder: a new one changes every stored vector and the models trained on "
            "them. Export under another name, or pass --replace after planning the reindex."
        )
    state = join_parts(run, summary["stem"])
    manifest = dict(summary["manifest"])
    source = manifest.pop("encoder_weights", None)
    if source:
        embedder = load_weights(source["name"])
        if embedder.sha256 != source["sha256"]:
            raise WeightsError(f"the run started from {source['name']}@{source['sha256'][:12]}, not {embedder.version}")
        shared = shared_encoder_tensors(state, encoder_state_from_embedder(embedder.state_dict))
        if shared:
            state = {key: value for key, value in state.items() if key not in shared}
            manifest["encoder_weights"] = {**source, "shared_tensors": len(shared)}
    written = save_weights(name, state, manifest, directory=weights_dir)
    card = Path(weights_dir or WEIGHTS_DIR) / f"{name}.md"
    card.write_text(model_card(name, written, summary))
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.gpu.export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--run", required=True, help="folder with metrics.json and the weight parts")
    parser.add_argument("--name", required=True, help="weights name to write (e.g. unet-ccp)")
    parser.add_argument("--weights-dir", default=None, help="default: the shipped recommender/ml/weights")
    parser.add_argument("--replace", action="store_true", help="allow writing a protected name")
    args = parser.parse_args(argv)
    manifest = export_run(args.run, args.name, weights_dir=args.weights_dir, replace=args.replace)
    print(json.dumps({"name": args.name, "sha256": manifest["sha256"], "bytes": manifest["bytes"]}))


if __name__ == "__main__":
    main()
