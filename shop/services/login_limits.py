"""Sign-in rate limits: one service behind every login path (pages, admin, API token).

Failures are counted per account (the username tried, case-insensitive) and per client
address (:func:`shop.security.client_address`), in Redis through the cache. After
``LOGIN_FAILURE_LIMIT`` failures (20) within ``LOGIN_FAILURE_WINDOW_SECONDS`` (900) of the
first one, further attempts for that account, or from that address, are refused until the
window ends: :class:`shop.middleware.LoginRateLimitMiddleware` answers 429 with
"try again in N s" before any password is checked. Failures are recorded from Django's
``user_login_failed`` signal, which every path that calls ``authenticate()`` sends.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

PREFIX = "login-failures"


def _limit() -> int:
    return settings.LOGIN_FAILURE_LIMIT


def _window() -> int:
    return settings.LOGIN_FAILURE_WINDOW_SECONDS


def _keys(*, username: str | None, address: str | None) -> list[str]:
    keys = []
    if username:
        digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
        keys.append(f"{PREFIX}:account:{digest}")
    if address:
        keys.append(f"{PREFIX}:address:{address}")
    return keys


def login_wait_seconds(*, username: str | None, address: str | None) -> int:
    """Seconds until this account and this address may try again; 0 when both may try now."""
    now = time.time()
    wait = 0.0
    for key in _keys(username=username, address=address):
        values = cache.get_many([f"{key}:n", f"{key}:start"])
        count, start = values.get(f"{key}:n") or 0, values.get(f"{key}:start")
        if count >= _limit() and start is not None:
            wait = max(wait, start + _window() - now)
    return math.ceil(wait) if wait > 0 else 0


def login_failure_record(*, username: str | None, address: str | None) -> None:
    """Count one failed sign-in against the account and the address (atomic INCR in Redis)."""
    for key in _keys(username=username, address=address):
        cache.add(f"{key}:start", time.time(), timeout=_window())
        cache.add(f"{key}:n", 0, timeout=_window())
        try:
            cache.incr(f"{key}:n")
        except ValueError:  # expired between add and incr
            cache.set(f"{key}:n", 1, timeout=_window())


def login_success_record(*, username: str | None) -> None:
    """A correct password clears the account's count (never the address's)."""
    for key in _keys(username=username, address=None):
        cache.delete_many([f"{key}:n", f"{key}:start"])
