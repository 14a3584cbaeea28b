"""A wrong DATABASE_URL, REDIS_URL or bucket stops a process at start with one line naming the variable.

(The deploy check repeats these against its live servers: a wrong password, a bucket that does not exist.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.test_healthz import closed_port
from tests.servers import service_urls

ROOT = Path(__file__).resolve().parent.parent


def _start(**variables: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"} and not k.startswith("AWS_")}
    env.update(service_urls())  # servers that answer, so each test breaks only the variable it names
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="x7!q" + "k9Zr$Lm2@vWp4#Tn8^Yb6&Hc1*Jd5(Fg3)Se0_Ua" * 2,
        DJANGO_ALLOWED_HOSTS="shop.example.com",
        **variables,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _assert_one_clear_line(result: subprocess.CompletedProcess, variable: str) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and "RuntimeDirWarning" not in line]
    lines = [line for line in lines if "return Path(self.user_runtime_dir)" not in line]  # platformdirs' warning
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Configuration error: {variable}: "), lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "url",
    ["mysql://shop:pw@db:3306/shop", "postgres://shop:pw@db:notaport/shop", "postgres://shop:pw@db:5432/", "db:5432"],
)
def test_a_malformed_database_url_stops_the_process_naming_the_variable(url):
    line = _assert_one_clear_line(_start(DATABASE_URL=url), "DATABASE_URL")
    assert "pw@" not in line  # the password is never printed


def test_a_database_url_nothing_answers_stops_the_process_naming_the_variable():
    line = _assert_one_clear_line(
        _start(DATABASE_URL=f"postgres://shop:secret@127.0.0.1:{closed_port()}/shop"), "DATABASE_URL"
    )
    assert "cannot connect to PostgreSQL" in line
    assert "secret" not in line


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/0", "redis://"])
def test_a_malformed_redis_url_stops_the_process_naming_the_variable(url):
    _assert_one_clear_line(_start(REDIS_URL=url), "REDIS_URL")


def test_a_redis_url_nothing_answers_stops_the_process_naming_the_variable():
    line = _assert_one_clear_line(_start(REDIS_URL=f"redis://:secret@127.0.0.1:{closed_port()}/0"), "REDIS_URL")
    assert "cannot use Redis" in line
    assert "secret" not in line


def test_production_settings_without_a_database_url_stop_instead_of_starting_embedded_servers():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="x7!q" + "k9Zr$Lm2@vWp4#Tn8^Yb6&Hc1*Jd5(Fg3)Se0_Ua" * 2,
        DJANGO_ALLOWED_HOSTS="shop.example.com",
        EMBEDDED_POSTGRES_DIR=str(ROOT / "var" / "never-started"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    line = _assert_one_clear_line(result, "DATABASE_URL")
    assert "is not set" in line
    assert not (ROOT / "var" / "never-started").exists()


def test_an_s3_endpoint_nothing_answers_stops_the_process_naming_the_variable():
    line = _assert_one_clear_line(
        _start(
            AWS_STORAGE_BUCKET_NAME="outfit-media",
            AWS_S3_ENDPOINT_URL=f"http://127.0.0.1:{closed_port()}",
            AWS_ACCESS_KEY_ID="key",
            AWS_SECRET_ACCESS_KEY="secret",
        ),
        "AWS_S3_ENDPOINT_URL",
    )
    assert "cannot reach" in line
