"""Start-up checks of the deployment variables: a wrong one stops the process with one line naming it.

A deployment gets its servers only through ``DATABASE_URL``, ``REDIS_URL`` and the ``AWS_*`` variables.
Read raw, a typo surfaces much later as a stack trace from deep inside psycopg, redis-py or boto3, in
whichever process touches the server first. Here every process checks them once, while the settings
load, and a wrong value ends it with a single line on stderr::

    Configuration error: DATABASE_URL: cannot connect to PostgreSQL at 127.0.0.1:5432 as "shop": ...

``url_checked`` refuses malformed URLs in every environment (cheap, no network); ``services_verify``
connects to each server (production settings only, ``DJANGO_VERIFY_SERVICES``). Both raise
:class:`ConfigurationError`; :func:`exit_on_configuration_error` turns that into the one line.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}
REDIS_SCHEMES = {"redis", "rediss", "unix"}
CONNECT_TIMEOUT_SECONDS = 5


class ConfigurationError(Exception):
    """A deployment variable is wrong; ``str()`` names the variable and says what is wrong."""

    def __init__(self, variable: str, problem: str):
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@contextlib.contextmanager
def exit_on_configuration_error() -> Iterator[None]:
    """Leave the process with one line on stderr (exit status 1) instead of a traceback."""
    try:
        yield
    except ConfigurationError as exc:
        sys.exit(f"Configuration error: {exc}")


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def url_checked(variable: str, url: str, *, schemes: set[str]) -> str:
    """``url`` if it is a well-formed URL with one of ``schemes``; otherwise ConfigurationError."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ConfigurationError(variable, f"{_redacted(url)!r} is not a URL ({exc}).") from None
    if parts.scheme not in schemes:
        raise ConfigurationError(
            variable,
            f"{_redacted(url)!r} has scheme {parts.scheme or '(none)'!r}; expected one of {', '.join(sorted(schemes))}.",
        )
    # libpq's own spelling of a unix socket: postgres://user@/dbname?host=/run/postgresql
    socket_dir = parts.scheme in POSTGRES_SCHEMES and "host=/" in parts.query
    if parts.scheme != "unix" and not parts.hostname and not socket_dir:
        raise ConfigurationError(variable, f"{_redacted(url)!r} names no host.")
    if parts.scheme in POSTGRES_SCHEMES and not parts.path.strip("/"):
        raise ConfigurationError(variable, f"{_redacted(url)!r} names no database (…/dbname).")
    return url


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].strip() if text else type(exc).__name__


def database_verify(database: dict) -> None:
    """Connect once with the settings' ``DATABASES['default']`` and run ``SELECT 1``."""
    import psycopg2

    kwargs = {
        "dbname": database.get("NAME"),
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "host": database.get("HOST") or database.get("OPTIONS", {}).get("host") or None,
        "port": database.get("PORT") or None,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
    }
    where = f"{kwargs['host'] or 'localhost'}:{kwargs['port'] or 5432}/{kwargs['dbname']}"
    try:
        connection = psycopg2.connect(**{k: v for k, v in kwargs.items() if v is not None})
    except psycopg2.Error as exc:
        raise ConfigurationError(
            "DATABASE_URL", f"cannot connect to PostgreSQL at {where} as {kwargs['user']!r}: {_first_line(exc)}"
        ) from None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()


def redis_verify(redis_url: str, *, variable: str = "REDIS_URL") -> None:
    """PING the server (a password the server refuses fails here too)."""
    import redis

    client = redis.Redis.from_url(
        redis_url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=CONNECT_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ConfigurationError(variable, f"cannot use Redis at {_redacted(redis_url)}: {_first_line(exc)}") from None
    finally:
        client.close()


def bucket_verify(*, bucket: str, endpoint_url: str | None, region: str | None) -> None:
    """HEAD the bucket with the credentials boto3 finds (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        config=Config(
            connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=CONNECT_TIMEOUT_SECONDS, retries={"max_attempts": 1}
        ),
    )
    where = endpoint_url or "AWS S3"
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in {"404", "NoSuchBucket", "NotFound"}:
            raise ConfigurationError("AWS_STORAGE_BUCKET_NAME", f"no bucket {bucket!r} at {where}.") from None
        if code in {"403", "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
            raise ConfigurationError(
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY", f"{where} refuses these keys for bucket {bucket!r}."
            ) from None
        raise ConfigurationError("AWS_STORAGE_BUCKET_NAME", f"bucket {bucket!r} at {where}: {code}") from None
    except BotoCoreError as exc:
        variable = "AWS_S3_ENDPOINT_URL" if endpoint_url else "AWS_STORAGE_BUCKET_NAME"
        raise ConfigurationError(variable, f"cannot reach {where}: {_first_line(exc)}") from None


def services_verify(
    *, database: dict, redis_url: str, bucket: str = "", endpoint_url: str | None = None, region: str | None = None
) -> None:
    """Every server the process will use answers with these credentials, or ConfigurationError."""
    database_verify(database)
    redis_verify(redis_url)
    if bucket:
        bucket_verify(bucket=bucket, endpoint_url=endpoint_url, region=region)
