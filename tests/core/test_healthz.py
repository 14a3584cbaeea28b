"""/healthz for load balancers, and the 503 a shopper sees while a dependency is down."""

from __future__ import annotations

import socket

import pytest


def closed_port() -> int:
    """A TCP port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_healthz_answers_200_with_the_database_redis_and_storage_checked(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "storage"}
    assert all(check["ok"] for check in body["checks"].values())
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_503_naming_redis_when_redis_does_not_answer(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["ok"] is False
    assert "Connection" in body["checks"]["redis"]["error"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_healthz_answers_503_naming_storage_when_the_media_folder_cannot_be_made(client, settings, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    settings.MEDIA_ROOT = str(tmp_path / "a-file" / "media")

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_healthz_refuses_other_methods(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
@pytest.mark.urls("tests.core.urls_unavailable")
def test_a_page_whose_database_is_down_answers_503_with_a_clear_page_not_a_traceback(client):
    response = client.get("/page/")

    assert response.status_code == 503
    assert response["Retry-After"]
    text = response.content.decode()
    assert "try again" in text
    assert "Traceback" not in text and "OperationalError" not in text


@pytest.mark.django_db
@pytest.mark.urls("tests.core.urls_unavailable")
def test_an_api_call_whose_database_is_down_answers_503_in_the_error_shape(client):
    response = client.get("/api/v1/thing/")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert response.json()["error"]["details"] == {"dependency": "database"}


@pytest.mark.django_db
@pytest.mark.urls("tests.core.urls_unavailable")
def test_a_real_bug_is_still_a_500(client):
    client.raise_request_exception = False

    assert client.get("/bug/").status_code == 500


def test_outages_are_told_apart_from_bugs():
    import redis
    from botocore.exceptions import ClientError, EndpointConnectionError

    from core.dependencies import unavailable_dependency

    assert unavailable_dependency(redis.ConnectionError("refused")) == "redis"
    assert unavailable_dependency(EndpointConnectionError(endpoint_url="http://127.0.0.1:1")) == "storage"
    busy = ClientError(
        {"Error": {"Code": "ServiceUnavailable"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "PutObject"
    )
    assert unavailable_dependency(busy) == "storage"
    denied = ClientError({"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "PutObject")
    assert unavailable_dependency(denied) is None
    assert unavailable_dependency(ValueError("bug")) is None
