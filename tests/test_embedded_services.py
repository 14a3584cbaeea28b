from config.services import celery_broker_url, redis_url_with_db


def test_unix_socket_urls_are_spelled_for_each_client():
    assert celery_broker_url("unix:///srv/var/redis.sock") == "redis+socket:///srv/var/redis.sock"
    assert celery_broker_url("redis://cache:6379/0") == "redis://cache:6379/0"


def test_the_cache_gets_its_own_redis_database():
    assert redis_url_with_db("unix:///srv/var/redis.sock", 2) == "unix:///srv/var/redis.sock?db=2"
    assert redis_url_with_db("redis://cache:6379/0", 1) == "redis://cache:6379/1"


def test_the_settings_use_different_databases_for_broker_and_cache(settings):
    assert settings.CACHES["default"]["LOCATION"] != settings.CELERY_BROKER_URL


def test_the_database_offers_iterative_hnsw_scans_and_trigram_search(db):
    """Development, tests and production run the same PostgreSQL features: pgvector ≥ 0.8
    (iterative index scans keep filtered HNSW queries at k rows) and pg_trgm (search typos)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT extname, extversion FROM pg_extension WHERE extname IN ('vector', 'pg_trgm')")
        installed = dict(cursor.fetchall())
        cursor.execute("SET LOCAL hnsw.iterative_scan = strict_order")
        cursor.execute("SELECT similarity('denim', 'denin')")
        (similarity,) = cursor.fetchone()
    assert set(installed) == {"vector", "pg_trgm"}
    assert tuple(int(part) for part in installed["vector"].split(".")[:2]) >= (0, 8)
    assert similarity > 0.3


def test_a_data_directory_from_another_postgresql_major_version_is_refused_with_the_fix(tmp_path):
    import pytest

    from config.services import EmbeddedServiceError, embedded_postgres

    (tmp_path / "PG_VERSION").write_text("16\n")
    with pytest.raises(EmbeddedServiceError, match="make clean-var && make run"):
        embedded_postgres(tmp_path, "shop")


def test_loading_the_settings_starts_no_server_the_entry_points_do(tmp_path):
    """Settings only describe the embedded servers; manage.py (like the WSGI app, the worker and the
    test run) starts them."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    data_dir = tmp_path / "postgres"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", EMBEDDED_POSTGRES_DIR=str(data_dir))
    probe = (
        "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['HOST'])"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip().endswith(str(data_dir))
    assert not data_dir.exists()

    started = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    try:
        assert started.returncode == 0, started.stderr
        assert (data_dir / "PG_VERSION").read_text().strip() == "18"
    finally:  # the postmaster's pid is the first line of postmaster.pid; SIGINT is a fast shutdown
        pid_file = data_dir / "postmaster.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
