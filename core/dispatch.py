"""Queue a Celery task by name once the current transaction commits.

Services never import task modules (tasks import services): they name the task, and this sends it
after commit, so a worker never reads a row that is not there yet and a rolled-back write queues
nothing. Routing to queues is by name (``CELERY_TASK_ROUTES``), as for any other send.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.db import transaction


def enqueue_on_commit(task_name: str, *args: Any) -> None:
    """Send ``task_name(*args)`` when the surrounding transaction commits (at once outside one)."""
    transaction.on_commit(lambda: current_app.send_task(task_name, args=args))
