"""`/healthz` (CONTRACT.md): 200 `{"db": "ok", "broker": "ok"}`, or 503 naming what is down; the
outbox backlog is reported beside them and never fails the check."""

import socket
from unittest import mock

import pytest
from django.db import OperationalError, connection


def dead_redis_url() -> str:
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.mark.django_db
def test_healthz_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"db": "ok", "broker": "ok", "outbox": {"unsent": 0, "oldest_unsent_seconds": None}}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_503_names_the_broker_when_redis_is_down(client, settings):
    settings.CELERY_BROKER_URL = dead_redis_url()

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"db": "ok", "broker": "down", "outbox": {"unsent": 0, "oldest_unsent_seconds": None}}


@pytest.mark.django_db
def test_healthz_503_names_the_broker_when_its_url_is_unusable(client, settings):
    settings.CELERY_BROKER_URL = "nonsense://127.0.0.1/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"] == "down"


@pytest.mark.django_db
def test_healthz_503_names_the_database_when_it_is_down(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("gone")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"db": "down", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_answers_anonymous_get_only(client):
    assert client.post("/healthz").status_code == 405
