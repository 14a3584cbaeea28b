"""Serving: turn garment photos into 512-d unit vectors with the shipped weights.

::

    from recommender.ml.embedding.inference import get_embedder
    embedder = get_embedder()                  # loaded once per process, thread-safe
    vectors = embedder.embed([open_image(f)])  # (N, 512) float32, L2-normalised
    embedder.version                           # sha256 of the weights: store it with every vector

Images go through the same :func:`~recommender.ml.embedding.preprocess.preprocess_batch`
as in training, at the input size recorded in the manifest; when the manifest says
``test_time_flip``, each vector is the average of the photo's and its mirror image's. Two backends give the
same vectors (to fp32 rounding): ``onnx`` (ONNX Runtime, the default on CPU: on the
shared 2-core machine it ran 3.3x faster than torch channels-last, see
``docs/models/embedding.md``; the .onnx file is exported from the safetensors on
first use into a cache folder, keyed by the weights' hash, and never committed)
and ``torch`` (channels-last; the default on CUDA).
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from recommender.ml.embedding import WEIGHTS_NAME
from recommender.ml.embedding.maps import pooled_maps
from recommender.ml.embedding.model import EMBEDDING_DIM, GarmentEmbedder, load_embedder
from recommender.ml.embedding.preprocess import PreprocessConfig, preprocess_batch
from recommender.ml.loading import LoadOnce
from recommender.ml.weights import pick_device

#: Where the ONNX export is cached; override with ``RECOMMENDER_MODEL_CACHE``.
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "recommender" / "onnx"

Runner = Callable[[torch.Tensor], np.ndarray]


def torch_runner(model: GarmentEmbedder, device: torch.device) -> Runner:
    """Channels-last fp32 (bf16 autocast on CUDA) under ``inference_mode``."""
    # Module.to accepts device and memory_format together at runtime; the stub overloads do not.
    model = model.to(device, memory_format=torch.channels_last).eval()  # type: ignore[call-overload]

    def run(batch: torch.Tensor) -> np.ndarray:
        with (
            torch.inference_mode(),
            torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"),
        ):
            batch = batch.to(device, memory_format=torch.channels_last)
            return model(batch).float().cpu().numpy()

    return run


def export_onnx(model: GarmentEmbedder, size: int, path: Path) -> Path:
    """Write ``model`` as ONNX (dynamic batch) atomically; the file name carries the weights' hash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    example = torch.zeros(1, 3, size, size)
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated, but the torch.export one needs onnxscript (not installed).
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model.cpu().eval(),
            (example,),
            str(tmp),
            dynamo=False,
            input_names=["images"],
            output_names=["embeddings"],
            dynamic_axes={"images": {0: "n"}, "embeddings": {0: "n"}},
            opset_version=17,
        )
    tmp.replace(path)
    return path


def onnx_runner(model: GarmentEmbedder, size: int, sha256: str, cache_dir: Path | None) -> Runner:
    """An ONNX Runtime session on the cached export (created from the safetensors if missing)."""
    import onnxruntime as ort

    cache = cache_dir or Path(os.environ.get("RECOMMENDER_MODEL_CACHE", DEFAULT_CACHE_DIR))
    path = cache / f"{WEIGHTS_NAME}-{sha256[:16]}-{size}.onnx"
    if not path.exists():
        export_onnx(model, size, path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(batch: torch.Tensor) -> np.ndarray:
        return session.run(None, {"images": batch.numpy()})[0]

    return run


class Embedder:
    """The shipped garment model, ready to embed PIL images."""

    dim: int = EMBEDDING_DIM

    def __init__(
        self,
        runner: Runner,
        preprocess: PreprocessConfig,
        version: str,
        meta: dict[str, Any],
        *,
        test_time_flip: bool | None = None,
        module: GarmentEmbedder | None = None,
    ) -> None:
        self._run = runner
        #: The torch module behind the runner (CPU, eval): what :meth:`pooled_maps` reads.
        self._module = module
        self.preprocess = preprocess
        self.version = version
        self.meta = meta
        #: Average each image's vector with its mirror image's (the manifest's ``test_time_flip``).
        #: Part of the model's definition, like its input size: vectors made with and without it differ.
        self.test_time_flip = bool(meta.get("test_time_flip", False)) if test_time_flip is None else test_time_flip

    @classmethod
    def load(
        cls,
        device: str | torch.device | None = None,
        name: str = WEIGHTS_NAME,
        directory: str | os.PathLike | None = None,
        *,
        backend: str = "auto",
        cache_dir: str | os.PathLike | None = None,
    ) -> Embedder:
        """Load and hash-check the weights (``WeightsError`` if missing or corrupt).

        ``backend``: ``"auto"`` (ONNX Runtime on CPU, torch on CUDA), ``"onnx"`` or ``"torch"``.
        """
        device = pick_device(device)
        if backend == "auto":
            backend = "onnx" if device.type == "cpu" else "torch"
        model, weights = load_embedder(name, directory=directory, device="cpu")
        config = PreprocessConfig.from_meta(weights.meta)
        # The maps are read on the CPU, from a module the runner never moves to another device.
        maps_module = model if device.type == "cpu" else copy.deepcopy(model)
        if backend == "onnx":
            if device.type != "cpu":
                raise ValueError("the onnx backend runs on CPU only")
            runner = onnx_runner(model, config.size, weights.sha256, Path(cache_dir) if cache_dir else None)
        elif backend == "torch":
            runner = torch_runner(model, device)
        else:
            raise ValueError(f"backend must be torch or onnx, not {backend!r}")
        return cls(runner, config, weights.sha256, weights.meta, module=maps_module)

    def embed(self, images: Sequence[Image.Image], batch_size: int = 64) -> np.ndarray:
        """(N, 512) float32 unit vectors, one per image, in order."""
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        chunks = [
            self._forward(preprocess_batch(images[start : start + batch_size], self.preprocess))
            for start in range(0, len(images), batch_size)
        ]
        vectors = np.concatenate(chunks).astype(np.float32, copy=False)
        # Renormalise: fp16/bf16 and ONNX rounding must not leave vectors slightly off the sphere.
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)

    def pooled_maps(self, crops: Sequence[Image.Image], masks: Sequence[np.ndarray]) -> np.ndarray:
        """(N, MAPS_DIM) float32: each crop's middle-layer maps pooled under its boolean mask
        (:mod:`recommender.ml.embedding.maps`), from this embedder's own weights."""
        if self._module is None:
            raise ValueError("this embedder was built from a bare runner: it has no module to read maps from")
        return pooled_maps(self._module, crops, masks, config=self.preprocess)

    def _forward(self, batch: torch.Tensor) -> np.ndarray:
        if not self.test_time_flip:
            return self._run(batch)
        return flip_averaged(self._run, batch)


def flip_averaged(run: Callable[[torch.Tensor], Any], batch: torch.Tensor) -> Any:
    """Sum of the vectors of ``batch`` and of its mirror image, in one network call (renormalise after).

    The letterbox pads symmetrically, so flipping the tensor equals preprocessing the mirrored photo.
    """
    both = run(torch.cat([batch, batch.flip(-1)]))
    return both[: len(batch)] + both[len(batch) :]


#: The process-wide :class:`Embedder`: ``get_embedder()`` for the shipped weights, or with
#: ``Embedder.load`` keyword arguments (``name``, ``directory``, …) for others; each loaded once.
get_embedder: LoadOnce[Embedder] = LoadOnce(lambda **kwargs: Embedder.load(**kwargs))
