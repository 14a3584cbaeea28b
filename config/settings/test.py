"""Test run: the same real PostgreSQL and Redis, isolated queue, cache and media."""

from pathlib import Path

from config.services import redis_url_with_db
from config.settings.base import *  # noqa: F403
from config.settings.base import BASE_DIR, INSTALLED_APPS, REDIS_URL, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; never in production
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "test-media")))
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="shop-test")
CACHES = {
    "default": {
        "BACKEND": "config.cache.SharedClientRedisCache",
        "LOCATION": redis_url_with_db(REDIS_URL, 2),
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="shop-test"),
    }
}
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": "10000/min", "user": "10000/min", "burst": "3/min"}
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
CELERY_TASK_ROUTES = {}  # every task on the test run's own queue, whatever the environment says
INSTALLED_APPS = [*INSTALLED_APPS, "training"]  # research commands: evaluate_*, benchmark_*, panels
