"""The product page under load: both recommendation sections, 8 concurrent clients, a multi-process server.

Starts gunicorn (``config.wsgi``, several worker processes, DEBUG off) on a free loopback port,
against the same database and cache as the calling process, then lets ``clients`` threads
request product pages of indexed products for a fixed number of requests. Reports latency
percentiles over everything after a short warm-up, and how many pages showed each section.

``cache="cold"`` starts with no cached recommendations (most pages are a product's first visit
since the last re-indexing: both sections and their street-outfit reasons are computed);
``cache="warm"`` first visits every page once, as a browsed catalog is between two catalog
changes; ``cache="after-write"`` visits every page once, then calls ``after_warm_up`` (the command
writes to the catalog), as right after a curator's edit.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deploy.topology import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PageLoadResult:
    clients: int
    requests: int
    server_workers: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests_per_s: float
    errors: int
    share_with_complete_the_look: float
    share_with_similar_items: float
    cache: str


class Server:
    """A gunicorn on loopback, stopped on exit."""

    def __init__(self, *, workers: int, env: dict[str, str]):
        self.port = free_port()
        command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{self.port}"]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5).read()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.3)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _fetch(url: str) -> tuple[float, bool, bool, bool]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            html = response.read().decode()
            ok = response.status == 200
    except OSError:
        return (time.perf_counter() - started) * 1000, False, False, False
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, ok, "<h2>Complete the look</h2>" in html, "<h2>Similar items" in html


def run(
    paths: list[str],
    *,
    clients: int = 8,
    requests: int = 800,
    workers: int = 4,
    warmup: int = 40,
    seed: int = 0,
    cache: str = "cold",
    after_warm_up=None,
) -> PageLoadResult:
    """Request random ``paths`` (``/products/<slug>/``) ``requests`` times from ``clients`` threads.

    The caller empties the recommendation caches for a cold run (a new vectors generation)."""
    env = {"DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost"}
    server = Server(workers=workers, env=env)
    try:
        base = f"http://127.0.0.1:{server.port}"
        rng = random.Random(seed)
        urls = [base + rng.choice(paths) for _ in range(warmup + requests)]
        warm_up = urls[:warmup] if cache == "cold" else [base + path for path in paths]
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(_fetch, warm_up))
            if after_warm_up is not None:
                after_warm_up()
            started = time.perf_counter()
            results = list(pool.map(_fetch, urls[warmup:]))
            wall = time.perf_counter() - started
    finally:
        server.stop()
    latencies = np.array([r[0] for r in results])
    return PageLoadResult(
        clients=clients,
        requests=requests,
        server_workers=workers,
        p50_ms=round(float(np.percentile(latencies, 50)), 1),
        p95_ms=round(float(np.percentile(latencies, 95)), 1),
        p99_ms=round(float(np.percentile(latencies, 99)), 1),
        requests_per_s=round(requests / wall, 1),
        errors=sum(1 for r in results if not r[1]),
        share_with_complete_the_look=round(sum(r[2] for r in results) / requests, 3),
        share_with_similar_items=round(sum(r[3] for r in results) / requests, 3),
        cache=cache,
    )
