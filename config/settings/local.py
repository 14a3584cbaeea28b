"""Local development: the embedded services, debug pages, files on disk."""

from config.settings.base import *  # noqa: F403
from config.settings.base import INSTALLED_APPS, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
INSTALLED_APPS = [*INSTALLED_APPS, "training"]  # research commands: evaluate_*, benchmark_*, panels
