"""``make run`` (``config/run.py``): Ctrl-C stops the shop, its worker and the embedded servers it started.

Each test runs the launcher as ``make run`` does, on embedded PostgreSQL and Redis of its own (a temporary
``VAR_DIR``; the demo catalog is not stocked), and interrupts it once the home page answers.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from config import services
from deploy.topology import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.worker  # the launcher starts a real Celery worker


@pytest.fixture
def var_dir():
    # Under /tmp, short: a unix socket's path must fit in 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="run-", dir="/tmp"))
    yield path
    services.embedded_postgres_stop(path / "postgres18")
    services.embedded_redis_stop(path / "redis")
    shutil.rmtree(path, ignore_errors=True)


def _env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "EMBEDDED_POSTGRES_DIR"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        VAR_DIR=str(var_dir),
        MEDIA_ROOT=str(var_dir / "media"),
        CELERY_QUEUE="shop",
    )
    return env


def _start_until_the_shop_answers(var_dir: Path) -> tuple[subprocess.Popen, list[psutil.Process]]:
    port = free_port()
    launcher = subprocess.Popen(
        [sys.executable, "-m", "config.run", "--port", str(port), "--no-stock"],
        cwd=ROOT,
        env=_env(var_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        process_group=0,  # like a terminal's foreground job: Ctrl-C reaches this group
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert launcher.poll() is None, launcher.stdout.read()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    else:
        os.killpg(launcher.pid, signal.SIGKILL)
        pytest.fail("the shop did not answer within 240 s")
    return launcher, psutil.Process(launcher.pid).children(recursive=True)


def _interrupt(launcher: subprocess.Popen) -> str:
    os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
    try:
        output, _ = launcher.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(launcher.pid, signal.SIGKILL)
        raise
    assert launcher.returncode == 0, output
    return output


def _processes(*pids: int) -> list[psutil.Process]:
    found = []
    for pid in pids:
        try:
            found.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    return found


def _running(processes: list[psutil.Process]) -> list[str]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(" ".join(process.cmdline()))
        except psutil.NoSuchProcess:
            pass
    return alive


def test_ctrl_c_stops_the_shop_its_worker_and_the_embedded_servers_it_started(var_dir):
    launcher, children = _start_until_the_shop_answers(var_dir)
    postgres = services.embedded_postgres_pid(var_dir / "postgres18")
    redis = services.embedded_redis_pid(var_dir / "redis")
    assert postgres and redis
    commands = " ".join(" ".join(child.cmdline()) for child in children)
    assert "runserver" in commands and "celery" in commands

    output = _interrupt(launcher)

    assert _running(children) == []
    assert services.embedded_postgres_pid(var_dir / "postgres18") is None
    assert services.embedded_redis_pid(var_dir / "redis") is None
    assert _running(_processes(postgres, redis)) == []  # exited (a zombie not yet reaped by init counts as exited)
    assert "Stopped the embedded postgres" in output and "Stopped the embedded redis" in output


def test_embedded_servers_found_running_are_left_to_whoever_started_them(var_dir):
    # Someone else (a test run, another shell) started the servers first.
    subprocess.run(
        [sys.executable, "-c", "from config.services import start_embedded_services; start_embedded_services()"],
        cwd=ROOT,
        env=_env(var_dir),
        check=True,
        timeout=120,
    )
    postgres = services.embedded_postgres_pid(var_dir / "postgres18")
    redis = services.embedded_redis_pid(var_dir / "redis")
    assert postgres and redis

    launcher, children = _start_until_the_shop_answers(var_dir)
    output = _interrupt(launcher)

    assert _running(children) == []
    assert services.embedded_postgres_pid(var_dir / "postgres18") == postgres
    assert services.embedded_redis_pid(var_dir / "redis") == redis
    assert "Stopped the embedded" not in output
