"""The one retry and delivery policy every Celery task of the apps uses.

``acks_late`` + ``reject_on_worker_lost``: a worker killed mid-task leaves the message
unacknowledged, so the broker hands it to the next worker and the task is redone (every task is
idempotent). Transient failures of the database or the broker are retried with exponential
backoff and jitter. Time limits are not set per task: every task runs under the project-wide
``CELERY_TASK_TIME_LIMIT`` (``CELERY_LONGEST_TASK_SECONDS``), which the broker's visibility timeout
is sized from (``config/settings/base.py``).
"""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, ConnectionError, TimeoutError)

RELIABLE_TASK: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 6,
    "ignore_result": True,
}
