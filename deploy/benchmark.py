"""``make deploy-benchmark``: size a shop's machines on the production topology (docs/BENCHMARKS.md).

``python -m deploy.benchmark [--products 16] [--seconds 10] [--rounds 3] [--clients 8]`` starts the topology of
``deploy.check`` and measures, in one run:

* **indexing throughput** with one indexing worker, then with two (``-c 1`` each, one torch thread):
  ``--products`` fresh products are imported while the workers hold off the indexing queue (Celery's
  ``cancel_consumer``), then the workers take it (``add_consumer``); the time until every product is
  indexed (thumbnail, garment mask and colours, garment, look and complement vectors) gives products
  per second;
* **page throughput** with gunicorn at 2 and at 4 processes (``WEB_CONCURRENCY``): ``--clients``
  threads load product pages (both sections, warm cache) for ``--seconds``, in ``--rounds``
  alternating rounds; the median requests per second and latency percentiles.

It prints one line per figure and, last, the figures as one JSON line.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import sys
import threading
import time

from deploy.check import PROXY, Check, say
from deploy.topology import DEFAULT_QUEUE, INDEXING_QUEUE, Topology, wait_until

BENCH_CLASSES = ["t-shirt", "shirt", "longsleeve", "pants", "shorts", "skirt", "dress", "outwear"]


def indexing_rate(check: Check, *, workers: list[str], classes: list[str], prefix: str, offset: int) -> dict:
    """Import fresh products while the indexing workers hold off the queue, then let ``workers`` take it and
    time until every product is indexed: photo processing (thumbnail, mask, colours) and the vectors."""
    check.t.indexing_hold(True)
    skus = check.import_catalog(classes, prefix, offset=offset)
    started = time.monotonic()
    check.t.indexing_hold(False, workers)
    wait_until(lambda: check.indexed(skus) == len(skus), timeout=900, what="indexing", interval=0.25)
    seconds = time.monotonic() - started
    return {
        "products": len(skus),
        "seconds": round(seconds, 1),
        "products_per_s": round(len(skus) / seconds, 2),
        "load_average": round(os.getloadavg()[0], 1),  # the machine's, the topology included
    }


def page_load(base_port: int, paths: list[str], *, clients: int, seconds: float) -> dict:
    """``clients`` threads request ``paths`` round-robin for ``seconds``; every answer must be a 200."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(offset: int) -> None:
        n = offset
        while time.monotonic() < stop_at:
            path = paths[n % len(paths)]
            n += 1
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", base_port, timeout=30)
                conn.request("GET", path, headers=PROXY)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
                conn.close()
            except OSError:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    failures[0] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    latencies.sort()

    def pct(q: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1) if latencies else 0.0

    return {
        "requests": len(latencies),
        "failed": failures[0],
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "mean_ms": round(1000 * statistics.fmean(latencies), 1) if latencies else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=16, help="products indexed with 1 worker, and again with 2")
    parser.add_argument("--seconds", type=float, default=10, help="duration of each page load")
    parser.add_argument("--rounds", type=int, default=3, help="page loads per gunicorn size, alternating")
    parser.add_argument("--clients", type=int, default=8, help="concurrent page clients")
    parser.add_argument("--web-processes", default="2,4", help="gunicorn process counts, measured in this order")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    topology = Topology(log=say, web_workers=2)
    check = Check(topology)
    figures: dict = {}
    try:
        topology.start()
        skus = check.import_catalog(BENCH_CLASSES, "PAGES")
        check.wait_indexed(skus, timeout=900)
        check.smoke_skus = skus

        topology.worker_init("indexing2", [INDEXING_QUEUE, DEFAULT_QUEUE])
        topology.worker_start("indexing2")
        classes = (BENCH_CLASSES * (args.products // len(BENCH_CLASSES) + 1))[: args.products]
        one = indexing_rate(check, workers=["indexing"], classes=classes, prefix="ONE", offset=10)
        say(f"indexing, 1 worker: {one}")
        two = indexing_rate(check, workers=["indexing", "indexing2"], classes=classes, prefix="TWO", offset=30)
        say(f"indexing, 2 workers: {two}")
        figures["indexing"] = {"1_worker": one, "2_workers": two}
        topology.processes["indexing2"].stop()

        paths = [p for p in check._pages() if p.startswith("/products/") and p != "/products/"]
        figures["pages"] = {"clients": args.clients, "seconds": args.seconds}
        # The rounds alternate (2, 4, 2, 4, ...): a neighbour's load on a shared machine drifts, and the
        # median of alternating rounds compares the two sizes under the same drift.
        rounds: dict[int, list[dict]] = {}
        for _ in range(args.rounds):
            for workers in [int(n) for n in args.web_processes.split(",")]:
                topology.processes["web"].stop(signal.SIGQUIT)
                topology.web_init(workers)
                topology.web_start()
                page_load(topology.ports["web"], paths, clients=2, seconds=3)  # warm each process
                result = page_load(topology.ports["web"], paths, clients=args.clients, seconds=args.seconds)
                say(f"product pages, gunicorn {workers} processes: {result} (load average {os.getloadavg()[0]:.1f})")
                rounds.setdefault(workers, []).append(result)
        for workers, results in rounds.items():
            rates = sorted(r["requests_per_s"] for r in results)
            figures["pages"][f"gunicorn_{workers}"] = {
                "requests_per_s_median": statistics.median(rates),
                "requests_per_s_range": [rates[0], rates[-1]],
                "p50_ms_median": statistics.median(r["p50_ms"] for r in results),
                "p95_ms_median": statistics.median(r["p95_ms"] for r in results),
                "failed": sum(r["failed"] for r in results),
            }
            say(
                f"product pages, gunicorn {workers} processes, median of {len(results)}: {figures['pages'][f'gunicorn_{workers}']}"
            )
    finally:
        topology.stop()
        for name in ("postgres", "redis", "seaweedfs"):  # the servers' data; the logs stay
            shutil.rmtree(topology.dir / name, ignore_errors=True)
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
