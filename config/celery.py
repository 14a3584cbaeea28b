"""The Celery app. Start a worker with ``celery -A config worker -l info``."""

import os

from celery import Celery, signals

from config.services import start_embedded_services

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
def _start_embedded_services(**kwargs) -> None:
    """A worker or beat started on a fresh machine starts the embedded servers it is configured for."""
    start_embedded_services()


class TaskTimeLimitCap:
    """Celery annotation: no task's time limits exceed ``CELERY_LONGEST_TASK_SECONDS``.

    The broker's visibility timeout is that cap plus a margin (settings, docs/SECURITY.md): a task
    allowed to run longer would be handed to a second worker while the first still runs it."""

    def annotate(self, task):
        from django.conf import settings

        cap = settings.CELERY_LONGEST_TASK_SECONDS
        hard = min(task.time_limit or cap, cap)
        soft = min(task.soft_time_limit or hard, hard - 10)
        return {"time_limit": hard, "soft_time_limit": soft}
