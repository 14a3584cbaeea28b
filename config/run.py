"""``make run``: the demo shop, its worker and the demo catalog's stocking, stopped as one.

``python -m config.run [--port 8000] [--no-stock]``

1. Starts the embedded PostgreSQL and Redis the settings describe, unless they are running
   (``config.services``; nothing is embedded when ``DATABASE_URL`` / ``REDIS_URL`` are set).
2. Migrates, then starts the web server, the Celery worker (with beat) and, in the background,
   ``manage.py stock_demo``: the shop answers while the demo catalog fills up.
3. On Ctrl-C (SIGINT) or SIGTERM it stops those three, then the embedded servers it started in
   step 1; servers it found running (another ``make run``, a test run) are left to whoever started them.

Each child runs in a process group of its own, so a Ctrl-C reaches only this launcher, which
stops the children in order: the web server and the stocking at once, the worker with a warm
shutdown (the batch it is indexing is finished or, after a grace period, handed back to the broker).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
#: Seconds the children get to stop on their own before they are killed.
STOP_GRACE_SECONDS = 15


class Stop(Exception):
    """A signal asked the launcher to stop."""


def _raise_stop(signum, frame) -> None:
    raise Stop(signal.Signals(signum).name)


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the launcher dies without stopping it (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (AttributeError, OSError):
        pass


class Child:
    def __init__(self, name: str, argv: list[str], *, stop_signal: int, env: dict[str, str]) -> None:
        self.name = name
        self.stop_signal = stop_signal
        self.process = subprocess.Popen(
            argv, cwd=BASE_DIR, env=env, process_group=0, preexec_fn=_die_with_parent if os.name == "posix" else None
        )

    def running(self) -> bool:
        return self.process.poll() is None

    def signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass


def _stop_children(children: list[Child]) -> None:
    for child in children:
        if child.running():
            child.signal_group(child.stop_signal)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while any(child.running() for child in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    for child in children:
        # The whole group: a Celery worker's pool processes too, had the worker itself exited first.
        child.signal_group(signal.SIGKILL)
        child.process.wait()


def _stop_embedded_servers() -> None:
    services = sys.modules.get("config.services")
    if services is None:  # the services module was never loaded: nothing was started
        return
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()
    for service in reversed(services.started_here()):
        if service.kind == "postgres":
            services.embedded_postgres_stop(service.data_dir)
        else:
            services.embedded_redis_stop(service.data_dir)
        print(f"Stopped the embedded {service.kind} ({service.data_dir}).", flush=True)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-stock", action="store_true", help="Do not stock the demo catalog.")
    args = parser.parse_args(argv)

    started = time.monotonic()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    children: list[Child] = []
    try:
        import django

        from config.services import start_embedded_services

        start_embedded_services()  # starts the embedded PostgreSQL and Redis, or finds them running
        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=1)
        env = {**os.environ, "RECOMMENDER_TORCH_THREADS": os.environ.get("RECOMMENDER_TORCH_THREADS", "1")}
        python = sys.executable
        url = f"http://127.0.0.1:{args.port}/"
        print(f"Starting the worker and the shop at {url}  (Ctrl-C stops everything)", flush=True)
        schedule = Path(settings.VAR_DIR) / "celerybeat-schedule"
        worker = ["-m", "celery", "-A", "config", "worker", "-B", "-s", str(schedule), "-l", "warning", "-c", "2"]
        children.append(Child("worker", [python, *worker], stop_signal=signal.SIGTERM, env=env))
        web = [python, "manage.py", "runserver", f"127.0.0.1:{args.port}", "--noreload"]
        children.append(Child("web", web, stop_signal=signal.SIGINT, env=env))
        if not args.no_stock:
            children.append(Child("stocking", [python, "manage.py", "stock_demo"], stop_signal=signal.SIGINT, env=env))
        opened = False
        while True:
            for child in children:
                code = child.process.poll()
                if code is not None and child.name != "stocking":
                    print(f"The {child.name} stopped (exit status {code}); stopping the rest.", flush=True)
                    return 1
            if not opened and _answers(url):
                opened = True
                print(f"The shop answers at {url} ({time.monotonic() - started:.1f} s after start).", flush=True)
            time.sleep(0.5)
    except (Stop, KeyboardInterrupt):
        print("Stopping…", flush=True)
    finally:
        # A second Ctrl-C must not cut the clean-up short: the embedded servers would be left running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop_children(children)
        _stop_embedded_servers()
    return 0


if __name__ == "__main__":
    sys.exit(main())
