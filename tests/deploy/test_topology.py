"""The production topology, run for real by ``python -m deploy.check`` (what ``make deploy-check`` runs).

PostgreSQL, Redis and SeaweedFS S3 over TCP with passwords, gunicorn with production settings, an indexing
worker, a photo-search worker and celery beat, each its own process; a smoke flow, wrong configuration,
then a killed worker, a PostgreSQL restart, a Redis restart and 30 s without S3 (docs/DEPLOY.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.check import CATALOG, STREET

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def deploy_check() -> tuple[dict, dict]:
    if not CATALOG.is_dir() or not STREET.is_dir():
        pytest.fail(f"The deploy check imports photos from {CATALOG} and {STREET}; the datasets are missing.")
    result = subprocess.run(
        [sys.executable, "-m", "deploy.check"], cwd=ROOT, capture_output=True, text=True, timeout=1200
    )
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr[-3000:]
    summary = json.loads(lines[-1])
    report_path = next(line.split("details: ", 1)[1].split(" (")[0] for line in lines if "details: " in line)
    report = json.loads(Path(report_path).read_text())
    print(result.stdout)  # shown by pytest when a test fails
    return summary, report


pytestmark = [pytest.mark.deploy, pytest.mark.timeout(1300)]


def test_the_last_line_is_the_json_the_project_is_measured_by(deploy_check):
    summary, _ = deploy_check
    assert set(summary) == {"smoke", "faults"}
    assert set(summary["faults"]) == {"worker_kill", "postgres_restart", "redis_restart", "s3_outage"}
    for fault in summary["faults"].values():
        assert set(fault) == {"recovered_s", "lost", "duplicated", "tracebacks"}


def test_the_smoke_flow_passes_on_production_settings_over_tcp_and_s3(deploy_check):
    summary, report = deploy_check
    smoke = report["smoke"]
    assert summary["smoke"] == "ok", smoke
    assert smoke["product_page"]["sections"]["complete-the-look"] > 0
    assert smoke["product_page"]["sections"]["similar-items"] > 0
    assert smoke["product_page"]["images_on_s3"] == smoke["product_page"]["images"] > 0
    assert smoke["photo_search"]["status"] == "done" and smoke["photo_search"]["items"] > 0
    assert smoke["order"]["status"] == 201 and smoke["order"]["stored"] == 1


def test_check_deploy_is_clean_with_the_topology_s_variables(deploy_check):
    _, report = deploy_check
    assert "no issues" in report["check_deploy"], report["check_deploy"]


def test_a_wrong_database_url_redis_url_or_bucket_stops_a_process_with_one_line(deploy_check):
    _, report = deploy_check
    errors = report["configuration_errors"]
    assert set(errors) == {"DATABASE_URL", "REDIS_URL", "AWS_STORAGE_BUCKET_NAME"}
    assert all(error["one_clear_line"] for error in errors.values()), errors


@pytest.mark.parametrize("fault", ["worker_kill", "postgres_restart", "redis_restart", "s3_outage"])
def test_each_fault_loses_nothing_does_nothing_twice_and_shows_no_traceback(deploy_check, fault):
    summary, report = deploy_check
    result = summary["faults"][fault]
    assert result["recovered_s"] is not None, report["faults"][fault]
    assert (result["lost"], result["duplicated"], result["tracebacks"]) == (0, 0, 0), report["faults"][fault]


def test_a_killed_worker_s_batch_is_indexed_exactly_once_within_two_minutes_of_the_restart(deploy_check):
    summary, report = deploy_check
    assert summary["faults"]["worker_kill"]["recovered_s"] <= 120, report["faults"]["worker_kill"]


@pytest.mark.parametrize("fault", ["postgres_restart", "redis_restart"])
def test_the_app_serves_again_within_10_s_of_postgresql_or_redis_coming_back(deploy_check, fault):
    _, report = deploy_check
    details = report["faults"][fault]["details"]
    assert details["serving_again_s"] <= 10, details
    assert details["answers"].get("healthz 503", 0) > 0, "while the server was down /healthz must have said so"


def test_uploads_fail_clearly_without_s3_and_a_retry_succeeds_within_60_s(deploy_check):
    _, report = deploy_check
    details = report["faults"]["s3_outage"]["details"]
    assert set(details["uploads_during_outage"]) == {"503"}, details
    assert "nothing was saved" in details["message_during_outage"]
    assert details["half_saved_rows"] == 0
    assert details["retry_succeeded_after_s"] <= 60
    assert details["retried_search"] == "done"
    assert details["answers"].get("healthz 503", 0) > 0
