"""Load each model once per process, however many threads ask at the same time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class LoadOnce(Generic[T]):
    """A thread-safe cache of loaded models, one per distinct set of load arguments."""

    def __init__(self, loader: Callable[..., T]) -> None:
        self._loader = loader
        self._lock = threading.Lock()
        self._loaded: dict[tuple[tuple[str, Any], ...], T] = {}

    def __call__(self, **load_kwargs: Any) -> T:
        key = tuple(sorted(load_kwargs.items()))
        if key not in self._loaded:
            with self._lock:
                if key not in self._loaded:
                    self._loaded[key] = self._loader(**load_kwargs)
        return self._loaded[key]

    def cache_clear(self) -> None:
        with self._lock:
            self._loaded.clear()
