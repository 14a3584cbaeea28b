"""Indexing and shop-by-photo searches get queues of their own only when a deployment names them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json, django; django.setup(); from config.celery import app; "
    "names = ['shop.tasks.process_product_image', 'recommender.tasks.embed_products', "
    "'recommender.tasks.run_photo_search', 'shop.tasks.clean_carts']; "
    "print(json.dumps({n: app.amqp.router.route({}, n)['queue'].name for n in names}))"
)


def _queues(**variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", **variables)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_queue_variables_every_task_goes_to_the_default_queue_so_one_worker_takes_everything():
    assert set(_queues().values()) == {"shop"}


def test_a_deployment_routes_indexing_and_photo_searches_to_their_own_queues():
    queues = _queues(CELERY_INDEXING_QUEUE="indexing", CELERY_PHOTO_SEARCH_QUEUE="photo-search")

    assert queues == {
        "shop.tasks.process_product_image": "indexing",
        "recommender.tasks.embed_products": "indexing",
        "recommender.tasks.run_photo_search": "photo-search",
        "shop.tasks.clean_carts": "shop",  # beat's housekeeping stays on the default queue
    }
