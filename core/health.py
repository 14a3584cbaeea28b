"""The dependency checks behind /healthz: the database, Redis (broker and cache) and media storage.

Each check is a read that costs the server almost nothing (``SELECT 1``, ``PING``, a cache read, an S3
``HeadBucket``), with short timeouts: a load balancer probing every few seconds learns within about two
seconds that a dependency is gone, and the next probe after it is back says so.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection

from core.dependencies import DATABASE, REDIS, STORAGE

PROBE_TIMEOUT_SECONDS = 2


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    ms: float
    error: str = ""

    def as_dict(self) -> dict:
        return {"ok": self.ok, "ms": round(self.ms, 1), **({"error": self.error} if self.error else {})}


def _database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        # A broken connection must not be reused by the next request of this process.
        connection.close_if_unusable_or_obsolete()
        raise


@functools.cache
def _redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT_SECONDS, socket_timeout=PROBE_TIMEOUT_SECONDS)


def _redis() -> None:
    if settings.REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        _redis_client(settings.REDIS_URL).ping()
    cache.get("healthz:probe")  # the cache may live elsewhere (CACHE_URL)


@functools.cache
def _s3_probe_client(endpoint_url: str | None, region: str | None):
    import boto3
    from botocore.config import Config

    # One attempt, short timeouts: the probe reports an outage, the storage's own client retries.
    config = Config(
        connect_timeout=PROBE_TIMEOUT_SECONDS, read_timeout=PROBE_TIMEOUT_SECONDS, retries={"max_attempts": 1}
    )
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


def _storage() -> None:
    bucket = getattr(default_storage, "bucket_name", None)
    if bucket:
        client = _s3_probe_client(
            getattr(default_storage, "endpoint_url", None), getattr(default_storage, "region_name", None)
        )
        client.head_bucket(Bucket=bucket)
        return
    # Files on disk: the folder, or the nearest folder above it (the storage creates the rest on the
    # first save), must be a writable directory.
    location = Path(getattr(default_storage, "location", "") or ".")
    existing = next((p for p in (location, *location.parents) if p.exists()), None)
    if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK):
        raise OSError(f"media folder {location} cannot be written")


CHECKS = {DATABASE: _database, REDIS: _redis, STORAGE: _storage}


def _run(check) -> CheckResult:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - any failure of a dependency is "down", with its reason
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return CheckResult(False, (time.perf_counter() - started) * 1000, f"{type(exc).__name__}: {first_line[:200]}")
    return CheckResult(True, (time.perf_counter() - started) * 1000)


def dependencies_check() -> dict[str, CheckResult]:
    """Every dependency's state, checked now."""
    return {name: _run(check) for name, check in CHECKS.items()}
