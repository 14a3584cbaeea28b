"""``manage.py benchmark_vector_search --n 100000 [--dim 512]``: pgvector latency and recall; one JSON line last.

``--dim 512`` is the garment vectors of similar items; ``--dim 164`` the complement vectors of Complete the look
(unit vectors, cosine, one partial HNSW index per question)."""

from __future__ import annotations

import json

import numpy as np
from django.core.management.base import BaseCommand

from training.benchmarks import vector_search as bench


class Command(BaseCommand):
    help = "Load N synthetic unit vectors into a scratch table, build per-slot HNSW indexes, measure search."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--n", type=int, default=100_000)
        parser.add_argument("--dim", type=int, default=512, help="512: garment vectors; 164: complement vectors")
        parser.add_argument("--queries", type=int, default=300)
        parser.add_argument("--k", type=int, default=10)
        parser.add_argument("--ef-search", type=int, nargs="+", default=[40, 100])
        parser.add_argument("--m", type=int, default=16)
        parser.add_argument("--ef-construction", type=int, default=64)
        parser.add_argument("--keep", action="store_true", help="Keep the scratch table afterwards.")

    def handle(self, *args, n, dim, queries, k, ef_search, m, ef_construction, keep, **options):
        vectors = bench.synthetic_vectors(n, dim)
        self.stderr.write(f"loading {n} vectors …")
        load_s = bench.load_table(vectors)
        self.stderr.write(f"building HNSW indexes (m={m}, ef_construction={ef_construction}) …")
        build_s = bench.build_indexes(m=m, ef_construction=ef_construction)
        rng = np.random.default_rng(99)
        picks = rng.integers(0, n, size=queries)
        noisy = vectors[picks] + rng.normal(scale=0.02, size=(queries, dim)).astype(np.float32)
        slots = rng.integers(0, bench.SLOTS, size=queries)
        truth = bench.exact_neighbours(noisy, slots, k)
        results = [bench.search(noisy, slots, truth, k=k, ef_search=ef) for ef in ef_search]
        if not keep:
            bench.drop_table()
        line = {
            "vectors": n,
            "dim": dim,
            "queries": queries,
            "k": k,
            "load_s": round(load_s, 1),
            "index_build_s": round(build_s, 1),
            "hnsw": {"m": m, "ef_construction": ef_construction},
            "search": [r.__dict__ for r in results],
        }
        self.stdout.write(json.dumps(line))
