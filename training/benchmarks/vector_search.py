"""pgvector similar-item search at catalog scale: latency p50/p99 and recall@10 against exact search.

Synthetic but shaped like garment vectors: unit vectors around a few thousand "style"
centroids, spread over the six slots, queried the way ``similar_products`` queries
(ORDER BY cosine distance within one slot, served by that slot's partial HNSW index).
Data goes in with binary COPY into a throw-away UNLOGGED table, so the catalog is never
touched.
"""

from __future__ import annotations

import io
import struct
import time
from dataclasses import dataclass

import numpy as np
from django.db import connection

SLOTS = 6
TABLE = "bench_garment_vectors"


@dataclass
class SearchResult:
    ef_search: int
    p50_ms: float
    p99_ms: float
    recall_at_k: float


def synthetic_vectors(n: int, dim: int, *, seed: int = 0, centroids: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(centroids, dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 50_000):
        stop = min(n, start + 50_000)
        owners = rng.integers(0, centroids, size=stop - start)
        chunk = centres[owners] + rng.normal(scale=0.6, size=(stop - start, dim)).astype(np.float32)
        out[start:stop] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return out


def _binary_copy(ids: np.ndarray, slots: np.ndarray, vectors: np.ndarray) -> io.BytesIO:
    """PostgreSQL binary COPY of (id int4, slot int2, embedding vector) built with numpy."""
    n, dim = vectors.shape
    row = np.dtype(
        [
            ("nfields", ">i2"),
            ("id_len", ">i4"), ("id", ">i4"),
            ("slot_len", ">i4"), ("slot", ">i2"),
            ("vec_len", ">i4"), ("dim", ">i2"), ("unused", ">i2"), ("values", ">f4", (dim,)),
        ]
    )  # fmt: skip
    rows = np.zeros(n, dtype=row)
    rows["nfields"], rows["id_len"], rows["slot_len"] = 3, 4, 2
    rows["id"], rows["slot"] = ids, slots
    rows["vec_len"], rows["dim"] = 4 + 4 * dim, dim
    rows["values"] = vectors
    buffer = io.BytesIO()
    buffer.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
    buffer.write(rows.tobytes())
    buffer.write(struct.pack(">h", -1))
    buffer.seek(0)
    return buffer


def load_table(vectors: np.ndarray, *, seed: int = 0) -> float:
    """Create and fill the benchmark table; returns seconds spent loading."""
    n, dim = vectors.shape
    slots = np.random.default_rng(seed + 1).integers(0, SLOTS, size=n).astype(np.int16)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(f"CREATE UNLOGGED TABLE {TABLE} (id int PRIMARY KEY, slot smallint, embedding vector({dim}))")
        raw = cursor.cursor
        for start in range(0, n, 100_000):
            stop = min(n, start + 100_000)
            ids = np.arange(start, stop, dtype=np.int32)
            raw.copy_expert(
                f"COPY {TABLE} (id, slot, embedding) FROM STDIN WITH (FORMAT binary)",
                _binary_copy(ids, slots[start:stop], vectors[start:stop]),
            )
        cursor.execute(f"ANALYZE {TABLE}")
    return time.perf_counter() - started


def build_indexes(*, m: int = 16, ef_construction: int = 64, workers: int = 2) -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '2GB'")
        cursor.execute("SET max_parallel_maintenance_workers = %s", [workers])
        for slot in range(SLOTS):
            cursor.execute(
                f"CREATE INDEX {TABLE}_{slot}_hnsw ON {TABLE} USING hnsw (embedding vector_cosine_ops) "
                f"WITH (m = {m}, ef_construction = {ef_construction}) WHERE slot = {slot}"
            )
    return time.perf_counter() - started


def _query(cursor, vector: np.ndarray, slot: int, k: int) -> list[int]:
    cursor.execute(
        f"SELECT id FROM {TABLE} WHERE slot = %s ORDER BY embedding <=> %s::vector LIMIT %s",
        [slot, "[" + ",".join(f"{x:.6f}" for x in vector) + "]", k],
    )
    return [row[0] for row in cursor.fetchall()]


def exact_neighbours(queries: np.ndarray, slots: np.ndarray, k: int) -> list[list[int]]:
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        truth = [_query(cursor, q, int(s), k) for q, s in zip(queries, slots, strict=True)]
        cursor.execute("COMMIT")
    return truth


def search(queries: np.ndarray, slots: np.ndarray, truth: list[list[int]], *, k: int, ef_search: int) -> SearchResult:
    latencies, hits = [], 0
    with connection.cursor() as cursor:
        cursor.execute("SET hnsw.ef_search = %s", [ef_search])
        for query, slot, expected in zip(queries, slots, truth, strict=True):
            started = time.perf_counter()
            found = _query(cursor, query, int(slot), k)
            latencies.append((time.perf_counter() - started) * 1000)
            hits += len(set(found) & set(expected))
        cursor.execute("RESET hnsw.ef_search")
    return SearchResult(
        ef_search=ef_search,
        p50_ms=round(float(np.percentile(latencies, 50)), 2),
        p99_ms=round(float(np.percentile(latencies, 99)), 2),
        recall_at_k=round(hits / (k * len(queries)), 4),
    )


def drop_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
