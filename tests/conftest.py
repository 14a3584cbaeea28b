"""Test fixtures: the real PostgreSQL (pgvector), the real Redis, and a real Celery worker."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config, items) -> None:
    """Every test that uses the real worker is a ``worker`` test (``make check`` leaves those out)."""
    for item in items:
        if "celery_worker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.worker)


def pytest_configure(config) -> None:
    """The test run starts the embedded PostgreSQL and Redis its settings describe (none with URLs set)."""
    from config.services import start_embedded_services

    start_embedded_services()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache (its own Redis database, never the broker's)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def signed_in_api_client(api_client, user):
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    api_client.user = user
    return api_client


@pytest.fixture(scope="session")
def embedder_weights_dir(tmp_path_factory) -> Path:
    """A small, seeded, untrained embedder saved like the shipped one (64 px input: fast on CPU).

    Tests of the pipeline use it instead of the shipped weights, so they do not depend on
    training and can switch model versions (a second file has another hash)."""
    return make_embedder_weights(tmp_path_factory.mktemp("weights-a"), seed=0)


def make_embedder_weights(directory: Path, *, seed: int) -> Path:
    import torch

    from recommender.ml.embedding import WEIGHTS_NAME
    from recommender.ml.embedding.model import EmbedderConfig, build_embedder, config_to_meta
    from recommender.ml.embedding.preprocess import PreprocessConfig
    from recommender.ml.weights import save_weights

    torch.manual_seed(seed)
    config = EmbedderConfig()
    model, _ = build_embedder(config, init="scratch")
    meta = {"config": config_to_meta(config), **PreprocessConfig(size=64).to_meta(), "note": "test weights"}
    save_weights(WEIGHTS_NAME, model.state_dict(), meta, directory=directory)
    return directory


def make_complement_weights(directory: Path, *, seed: int = 0, embedder_sha256: str = "0" * 64, dim: int = 8) -> Path:
    """A tiny seeded, untrained complement model saved like the shipped one."""
    import torch

    from recommender.ml.complement import WEIGHTS_NAME
    from recommender.ml.complement.features import FEATURE_VERSION
    from recommender.ml.complement.model import ComplementConfig, build_complement_net, config_to_meta
    from recommender.ml.weights import save_weights

    torch.manual_seed(seed)
    config = ComplementConfig(hidden=16, dim=dim)
    net = build_complement_net(config)
    meta = {
        "config": config_to_meta(config),
        "feature_version": FEATURE_VERSION,
        "embedder_sha256": embedder_sha256,
        "note": "test weights",
    }
    save_weights(WEIGHTS_NAME, net.state_dict(), meta, directory=directory)
    return directory


@pytest.fixture(autouse=True)
def _test_embedder(request, settings):
    """Point the recommender at the test weights (only where a test asks for them)."""
    if "embedder_weights_dir" in request.fixturenames or "celery_worker" in request.fixturenames:
        weights_dir = request.getfixturevalue("embedder_weights_dir")
        settings.RECOMMENDER_EMBEDDER_WEIGHTS = {"name": "resnet34-garments", "directory": str(weights_dir)}


def _worker_env(queue: str, weights_dir: Path) -> dict[str, str]:
    """The worker must use the *test* database, the test media folder and an isolated queue."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    env["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    env["CELERY_QUEUE"] = queue
    env["RECOMMENDER_WEIGHTS_DIR"] = str(weights_dir)
    env["RECOMMENDER_TORCH_THREADS"] = "1"
    test_db = connection.settings_dict["NAME"]
    if os.environ.get("DATABASE_URL"):
        parts = urlsplit(os.environ["DATABASE_URL"])
        env["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + test_db))
    else:
        env["EMBEDDED_POSTGRES_DB"] = test_db
    return env


class WorkerProcess:
    """A real ``celery worker`` process (in its own process group) on the real broker."""

    def __init__(self, queue: str, weights_dir: Path, *, extra_env: dict[str, str] | None = None):
        from config.celery import app

        self.queue = queue
        self.hostname = f"{queue}-{uuid.uuid4().hex[:4]}@localhost"
        (ROOT / "var").mkdir(exist_ok=True)
        self.log_path = ROOT / "var" / f"celery-{self.hostname.split('@')[0]}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()/kill()
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info", "-c", "1"]
        command += ["-Q", queue, "-n", self.hostname, "--without-gossip", "--without-mingle", "--without-heartbeat"]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**_worker_env(queue, weights_dir), **(extra_env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[self.hostname], timeout=0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"Celery worker did not start; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once, as a crashed machine would."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=20)
        self._log.close()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        self._log.close()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, embedder_weights_dir):
    """One worker for the whole session, consuming a queue of its own."""
    from config.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    worker = WorkerProcess(queue, embedder_weights_dir)
    yield worker
    worker.stop()
    app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE


@pytest.fixture(autouse=True)
def _worker_idle_after_test(request):
    """A test that used the session's worker ends only once the worker is idle: work the test set off
    (an image task queues indexing) must not run while the test database is being flushed."""
    yield
    if "celery_worker" not in request.fixturenames:
        return
    from config.celery import app

    worker = request.getfixturevalue("celery_worker")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with app.connection_for_write() as conn:
            waiting = conn.default_channel.client.llen(worker.queue)
        inspect = app.control.inspect(destination=[worker.hostname], timeout=1.0)
        busy = [(getattr(inspect, state)() or {}).get(worker.hostname, []) for state in ("active", "reserved")]
        if not waiting and not any(busy):
            return
        time.sleep(0.2)


@pytest.fixture
def unconsumed_queue():
    """Send tasks to a queue no worker reads, so a test sees exactly what it runs itself."""
    from config.celery import app

    previous = app.conf.task_default_queue
    app.conf.task_default_queue = f"unconsumed-{uuid.uuid4().hex[:8]}"
    yield app.conf.task_default_queue
    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(app.conf.task_default_queue)
    app.conf.task_default_queue = previous


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.1):
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Condition not met within {timeout:.0f}s")
        time.sleep(interval)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _chromium_page(viewport: dict[str, int]):
    """Headless Debian Chromium through Playwright; yields one page of the given size."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls in the test are still
    # plain synchronous code, so Django's async guard does not apply here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser.new_context(viewport=viewport).new_page()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page():
    """A page in headless Chromium, sized like a phone."""
    yield from _chromium_page({"width": 390, "height": 844})


@pytest.fixture
def laptop_page():
    """A page in headless Chromium, sized like a 1366 px laptop screen."""
    yield from _chromium_page({"width": 1366, "height": 768})


@pytest.fixture
def complement_version(settings, tmp_path, embedder_weights_dir):
    """A complement model in service, as far as serving can tell (only its manifest's version matters there)."""
    import torch

    from recommender import inference
    from recommender.ml.weights import save_weights

    meta = {"note": "test", "embedder_sha256": inference.current_model_version()}
    manifest = save_weights("complement-ccp", {"w": torch.zeros(2)}, meta, directory=tmp_path)
    settings.RECOMMENDER_COMPLEMENT_WEIGHTS = {"name": "complement-ccp", "directory": str(tmp_path)}
    return manifest["sha256"]
