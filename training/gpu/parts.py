"""Weights in parts: fp16 safetensors files no larger than a byte limit, and their join.

The device gives back files of at most 16 MiB; a ResNet34 U-Net is about 49 MB in fp16.
:func:`save_parts` splits a state dict by whole tensors into ``STEM.partNN.safetensors``
files (each under ``max_bytes``) and writes ``STEM.parts.json`` with every part's sha256;
:func:`join_parts` checks those hashes and returns the state dict as float32.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from recommender.ml.weights import WeightsError, file_sha256

#: What the device gives back per file.
MAX_PART_BYTES = 16 * 1024 * 1024
#: Room for each part's JSON header.
HEADER_ALLOWANCE = 256 * 1024


def _fp16(value: torch.Tensor) -> torch.Tensor:
    value = value.detach().to("cpu").contiguous()
    return value.half() if value.is_floating_point() else value


def save_parts(
    state_dict: Mapping[str, torch.Tensor],
    directory: str | os.PathLike,
    stem: str,
    *,
    max_bytes: int = MAX_PART_BYTES,
) -> list[Path]:
    """Write ``state_dict`` (fp16) as parts of at most ``max_bytes``; returns the part paths and the index."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    budget = max_bytes - HEADER_ALLOWANCE
    groups: list[dict[str, torch.Tensor]] = [{}]
    used = 0
    for key, value in state_dict.items():
        tensor = _fp16(value)
        size = tensor.numel() * tensor.element_size()
        if size > budget:
            raise WeightsError(f"tensor {key} alone ({size} bytes) exceeds the part limit of {max_bytes} bytes")
        if used + size > budget and groups[-1]:
            groups.append({})
            used = 0
        groups[-1][key] = tensor
        used += size
    paths = []
    for index, group in enumerate(groups):
        path = directory / f"{stem}.part{index:02d}.safetensors"
        save_file(group, str(path), metadata={"stem": stem, "part": str(index), "parts": str(len(groups))})
        if path.stat().st_size > max_bytes:
            raise WeightsError(f"{path} is {path.stat().st_size} bytes, over the {max_bytes}-byte limit")
        paths.append(path)
    index_path = directory / f"{stem}.parts.json"
    index_path.write_text(
        json.dumps({"stem": stem, "parts": [{"file": p.name, "sha256": file_sha256(p)} for p in paths]}, indent=2)
        + "\n"
    )
    return [*paths, index_path]


def join_parts(directory: str | os.PathLike, stem: str) -> dict[str, torch.Tensor]:
    """The state dict (float32) from ``STEM.parts.json`` and its parts, every part hash-checked."""
    directory = Path(directory)
    index_path = directory / f"{stem}.parts.json"
    if not index_path.exists():
        raise WeightsError(f"no {index_path.name} in {directory}")
    index = json.loads(index_path.read_text())
    state: dict[str, torch.Tensor] = {}
    for part in index["parts"]:
        path = directory / part["file"]
        if not path.exists():
            raise WeightsError(f"part {path} is missing")
        if file_sha256(path) != part["sha256"]:
            raise WeightsError(f"part {path} does not match its sha256 in {index_path.name}")
        for key, value in load_file(str(path)).items():
            if key in state:
                raise WeightsError(f"tensor {key} appears in two parts")
            state[key] = value.float() if value.is_floating_point() else value
    return state
