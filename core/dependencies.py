"""Which exceptions mean "a server the app depends on is not answering" rather than a bug.

A restarted PostgreSQL, a Redis that is down, an S3 store that cannot be reached: the request cannot be
served now, and can be in a moment. Those answer 503 with a clear message (``core.middleware``), never a
500 or a traceback. Everything else is still a bug and is left to Django's 500 handling.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

#: Human names of the dependencies, used in messages and in /healthz.
DATABASE, REDIS, STORAGE = "database", "redis", "storage"


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis
    from kombu.exceptions import OperationalError as KombuOperationalError

    return (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, KombuOperationalError)


def _storage_errors() -> tuple[type[BaseException], ...]:
    try:
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
    except ImportError:  # pragma: no cover - django-storages[s3] is a runtime dependency
        return ()
    return (BotoConnectionError, EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)


def _is_storage_server_error(exc: BaseException) -> bool:
    """An S3 answer of 5xx (a store still starting, or overloaded): try again later, not a bug."""
    response = getattr(exc, "response", None)
    if type(exc).__name__ != "ClientError" or not isinstance(response, dict):
        return False
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) >= 500


def unavailable_dependency(exc: BaseException) -> str | None:
    """The dependency whose outage ``exc`` (or an exception it was raised from) reports; None for anything else."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:
        if isinstance(current, OperationalError | InterfaceError):
            return DATABASE
        if isinstance(current, _redis_errors()):
            return REDIS
        if isinstance(current, _storage_errors()) or _is_storage_server_error(current):
            return STORAGE
        current = current.__cause__ or current.__context__
        seen += 1
    return None
