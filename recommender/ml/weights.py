"""Shipped model weights: fp16 safetensors files with a JSON manifest and a hash check.

Every model ships as two files in ``recommender/ml/weights/``:

* ``NAME.safetensors`` — the tensors, stored fp16 (safetensors: no pickles, ever);
* ``NAME.json`` — the manifest: ``sha256`` of the safetensors file, plus whatever the
  model needs to rebuild itself (classes, input size, normalisation, architecture
  config) and what it measured (metrics, training command).

A human-readable model card (``NAME.md``) sits beside them. :func:`load_weights`
refuses a file whose hash differs from the manifest, so a truncated download, an
LFS pointer or a swapped file fails loudly instead of producing garbage vectors.
The hash doubles as the model version stored with every vector.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


class WeightsError(RuntimeError):
    """Weights are missing, corrupt or do not match their manifest."""


@dataclass(frozen=True)
class Weights:
    """Loaded weights: the state dict (float32) and the manifest that describes them."""

    name: str
    state_dict: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return self.meta["sha256"]

    @property
    def version(self) -> str:
        """Short, stable model version: the first 12 hex digits of the weights' hash."""
        return self.sha256[:12]


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def weights_paths(name: str, directory: str | os.PathLike | None = None) -> tuple[Path, Path]:
    base = Path(directory) if directory is not None else WEIGHTS_DIR
    return base / f"{name}.safetensors", base / f"{name}.json"


def save_weights(
    name: str,
    state_dict: Mapping[str, torch.Tensor],
    meta: Mapping[str, Any],
    *,
    directory: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Write ``state_dict`` as fp16 safetensors plus its manifest; return the manifest."""
    tensor_path, manifest_path = weights_paths(name, directory)
    tensor_path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for key, value in state_dict.items():
        value = value.detach().to("cpu").contiguous()
        # Floating point tensors go to fp16; integer buffers (BatchNorm counters) stay as they are.
        tensors[key] = value.half() if value.is_floating_point() else value
    tmp = tensor_path.with_suffix(".safetensors.tmp")
    save_file(tensors, str(tmp), metadata={"name": name})
    os.chmod(tmp, 0o644)  # readable by the web and worker users, whatever umask training ran under
    os.replace(tmp, tensor_path)
    manifest = dict(meta)
    manifest["name"] = name
    manifest["sha256"] = file_sha256(tensor_path)
    manifest["bytes"] = tensor_path.stat().st_size
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def read_manifest(name: str, *, directory: str | os.PathLike | None = None) -> dict[str, Any]:
    _, manifest_path = weights_paths(name, directory)
    if not manifest_path.exists():
        raise WeightsError(
            f"No manifest for model '{name}' at {manifest_path}. "
            "Train the model (see docs/MODELS.md) or restore the shipped file."
        )
    try:
        return json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise WeightsError(f"The manifest {manifest_path} is not valid JSON: {exc}") from exc


def manifest_version(name: str, *, directory: str | os.PathLike | None = None) -> tuple[str, str | None]:
    """The manifest's ``sha256`` (the model version) and the ``embedder_sha256`` it expects, if any.

    Web requests ask for the models in service several times each: the file is read every time (a
    replaced file is seen at once) but parsed only when its bytes differ from the last ones seen."""
    _, manifest_path = weights_paths(name, directory)
    try:
        raw = manifest_path.read_bytes()
    except OSError:
        meta = read_manifest(name, directory=directory)  # the usual error (or a file that just appeared)
        return meta["sha256"], meta.get("embedder_sha256")
    try:
        return _manifest_version(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WeightsError(f"The manifest {manifest_path} is not valid JSON: {exc}") from exc


@functools.lru_cache(maxsize=32)
def _manifest_version(raw: bytes) -> tuple[str, str | None]:
    meta = json.loads(raw)
    return meta["sha256"], meta.get("embedder_sha256")


def load_weights(name: str, *, directory: str | os.PathLike | None = None) -> Weights:
    """Load ``name``'s weights as float32, after checking the file against its manifest."""
    tensor_path, _ = weights_paths(name, directory)
    meta = read_manifest(name, directory=directory)
    if not tensor_path.exists():
        raise WeightsError(
            f"The weights file {tensor_path} is missing. "
            "Train the model (see docs/MODELS.md) or restore the shipped file."
        )
    actual = file_sha256(tensor_path)
    expected = meta.get("sha256")
    if actual != expected:
        raise WeightsError(
            f"The weights file {tensor_path} is corrupt or was replaced: sha256 {actual[:12]}… "
            f"does not match the manifest's {str(expected)[:12]}…"
        )
    try:
        tensors = load_file(str(tensor_path))
    except Exception as exc:  # safetensors raises its own error types
        raise WeightsError(f"The weights file {tensor_path} cannot be read: {exc}") from exc
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in tensors.items()}
    return Weights(name=name, state_dict=state, meta=meta)


def pick_device(device: str | torch.device | None = None) -> torch.device:
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
