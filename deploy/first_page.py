"""``make first-page``: how long a fresh clone's ``make run`` takes to its first page and to a stocked shop.

``python -m deploy.first_page [--port 8010] [--no-second-run] [--keep]`` clones the committed branch into a
temporary folder (``../shared`` and ``.venv`` linked in, so the virtualenv is not rebuilt: ``make -o`` treats its
stamp as current), then runs ``make run`` there with an empty ``var/`` and ``media/``:

* **first page**: seconds from ``make run`` to the first HTTP 200 of the home page;
* **stocked**: seconds until the background stocking reports the demo catalog done (every product in the shop
  and indexed, the street outfits read), with the home page's "N of M" sampled on the way;
* Ctrl-C (SIGINT to ``make``'s process group, as a terminal sends it), then that nothing of the run is left:
  no process whose command line names the clone (web server, worker, stocking, PostgreSQL, Redis);
* unless ``--no-second-run``, the same again on the now stocked clone (a second ``make run`` redoes nothing).

It prints one line per figure and, last, the figures as one JSON line (with the load average and core count,
which the times depend on).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
STOCKED = re.compile(r"Demo shop stocked in")
PROGRESS = re.compile(r"(\d+) of (\d+) products are in,\s*(\d+) analysed")


def _home(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode() if response.status == 200 else None
    except (urllib.error.URLError, OSError):
        return None


def _leftovers(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if marker in line and "deploy.first_page" not in line]


def _one_run(clone: Path, *, port: int, log: Path, timeout: float) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "VAR_DIR", "MEDIA_ROOT"}}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    url = f"http://127.0.0.1:{port}/"
    started = time.monotonic()
    with log.open("w") as out:
        make = subprocess.Popen(
            ["make", "-o", ".venv/.installed", "run", f"RUN_PORT={port}"],
            cwd=clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
    figures: dict = {"samples": []}
    try:
        next_sample = 0.0
        while time.monotonic() - started < timeout:
            if make.poll() is not None:
                figures["error"] = f"make run exited with {make.returncode}; see {log}"
                break
            elapsed = time.monotonic() - started
            if "first_page_s" not in figures or elapsed >= next_sample:
                page = _home(url)
                if page is not None:
                    figures.setdefault("first_page_s", round(time.monotonic() - started, 1))
                    match = PROGRESS.search(page)
                    if match:
                        figures["samples"].append([round(elapsed), *map(int, match.groups())])
                    next_sample = elapsed + 30
            if STOCKED.search(log.read_text(errors="replace")):
                figures["stocked_s"] = round(time.monotonic() - started, 1)
                break
            time.sleep(0.5)
        else:
            figures["error"] = f"not stocked within {timeout:.0f} s; see {log}"
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGINT)
        try:
            make.wait(timeout=60)
        except subprocess.TimeoutExpired:
            figures["error"] = "make run did not stop within 60 s of SIGINT"
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
    time.sleep(1)
    figures["left_running"] = _leftovers(str(clone))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.first_page", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--timeout", type=float, default=3600, help="Seconds to wait for the stocked shop.")
    parser.add_argument("--no-second-run", action="store_true")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary clone (its logs are there).")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="first-page-"))
    clone = root / "shop"
    subprocess.run(["git", "clone", "--quiet", str(BASE_DIR), str(clone)], check=True)
    (root / "shared").symlink_to((BASE_DIR.parent / "shared").resolve())
    (clone / ".venv").symlink_to((BASE_DIR / ".venv").resolve())
    result: dict = {"cores": os.cpu_count(), "load_before": os.getloadavg()[0]}
    try:
        print(f"Fresh clone in {clone}; make run on port {args.port}", flush=True)
        first = _one_run(clone, port=args.port, log=root / "run-1.log", timeout=args.timeout)
        result["fresh"] = first
        print(f"fresh clone: first page {first.get('first_page_s')} s, stocked {first.get('stocked_s')} s", flush=True)
        if not args.no_second_run:
            second = _one_run(clone, port=args.port, log=root / "run-2.log", timeout=600)
            result["second"] = second
            print(
                f"second run: first page {second.get('first_page_s')} s, stocked {second.get('stocked_s')} s",
                flush=True,
            )
        result["load_after"] = os.getloadavg()[0]
    finally:
        if args.keep:
            print(f"Kept {root}", flush=True)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(result), flush=True)
    runs = [result.get("fresh", {}), result.get("second", {})]
    return 1 if any(run.get("error") or run.get("left_running") for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
