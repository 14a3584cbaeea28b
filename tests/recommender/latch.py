"""A Redis latch that pauses a real worker's photo-search job at a named point (``PHOTO_SEARCH_STEP_HOOK``).

The test names the point for one search; the worker, on reaching it, says so and waits until the
test lets it go. Nothing of the code under test is replaced: the job runs as in service, only held."""

from __future__ import annotations

import redis
from django.conf import settings

PREFIX = "test-photo-search-latch"
HOLD_SECONDS = 60


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def wait_at_point(*, search_id: str, point: str) -> None:
    """The hook the worker calls: hold here if the test asked for this search to stop at ``point``."""
    client = _redis()
    if client.get(f"{PREFIX}:{search_id}:at") != point.encode():
        return
    client.rpush(f"{PREFIX}:{search_id}:reached", point)
    client.blpop([f"{PREFIX}:{search_id}:go"], timeout=HOLD_SECONDS)


class Latch:
    """The test's side: ``Latch(search_id, point)``, then ``reached()`` and ``release()``."""

    def __init__(self, search_id, point: str):
        self.client = _redis()
        self.key = f"{PREFIX}:{search_id}"
        self.point = point
        self.client.set(f"{self.key}:at", point, ex=300)

    def reached(self, timeout: int = 120) -> bool:
        return self.client.blpop([f"{self.key}:reached"], timeout=timeout) is not None

    def release(self) -> None:
        self.client.rpush(f"{self.key}:go", 1)
        self.client.expire(f"{self.key}:go", 300)
        self.client.delete(f"{self.key}:at")
