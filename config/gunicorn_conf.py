"""gunicorn's settings for production: ``gunicorn -c python:config.gunicorn_conf config.wsgi``.

Everything has an environment variable, so compose, the deploy check and a real host share this file:
``GUNICORN_BIND`` (``0.0.0.0:8000``), ``WEB_CONCURRENCY`` (worker processes, 3), ``GUNICORN_TIMEOUT`` (60 s).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
accesslog = "-"
# One line per request: status and duration (microseconds) come first, for log readers and load tests.
access_log_format = '%(s)s %(D)sus "%(r)s" %(b)s'


def on_starting(server):
    """Load the settings once in the master, before any worker forks: a wrong DATABASE_URL, REDIS_URL or
    bucket stops gunicorn here with the settings' one-line message (config/preflight.py), instead of
    every worker failing to boot in a loop."""
    import django

    django.setup()
