"""Sessions do not live in a web process: two Django processes (two web machines) share them through
the database and Redis (`cached_db` on the `sessions` alias, core.cache.SessionRedisCache), and a
Redis outage neither loses them nor lets an ended one come back."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import connection

import core.cache
from core.cache import SessionRedisCache
from tests.child_database import database_url
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


class WebProcess:
    """tests/core/web_process.py in a process of its own."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.core.web_process"], cwd=ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )

    def ask(self, line: str) -> str:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        assert answer, self.process.stderr.read() if self.process.stderr else "no answer"
        return answer

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def web_env() -> dict[str, str]:
    url = database_url(connection.settings_dict)
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DATABASE_URL": url,
            "REDIS_URL": settings.REDIS_URL, "DJANGO_ALLOWED_HOSTS": "testserver", "DJANGO_DEBUG": "false"}


@pytest.fixture
def two_web_processes(web_env: dict[str, str]) -> Iterator[tuple[WebProcess, WebProcess]]:
    first, second = WebProcess(web_env), WebProcess(web_env)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


@pytest.mark.django_db(transaction=True)
def test_a_session_begun_in_one_process_is_used_and_ended_in_another(two_web_processes):
    first, second = two_web_processes
    user: Any = UserFactory()

    key = first.ask(f"login {user.pk}")
    assert first.ask("get /me/") == "200"

    # In Redis, where every web process reads it first.
    store = redis.Redis.from_url(settings.REDIS_URL)
    assert [k for k in store.scan_iter(match="satu-session:*") if k.decode().endswith(key)]

    assert second.ask(f"cookie {key}") == "ok"
    assert second.ask("get /me/") == "200"
    assert second.ask("logout") == "302"
    assert second.ask("get /me/") == "302"

    # The process that began the session keeps no copy of it: it is over there too.
    assert first.ask("get /me/") == "302"
    assert not [k for k in store.scan_iter(match="satu-session:*") if k.decode().endswith(key)]


@pytest.fixture
def session_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[SessionRedisCache]:
    monkeypatch.setattr(core.cache, "FAILOVER_RETRY_SECONDS", 0.0)
    cache = SessionRedisCache(settings.REDIS_URL, {"KEY_PREFIX": f"satu-session-test-{uuid.uuid4().hex}"})
    yield cache
    cache._drop_sessions()


def _redis_away(monkeypatch: pytest.MonkeyPatch, cache: SessionRedisCache) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise redis.exceptions.ConnectionError("Redis is away")

    monkeypatch.setattr(cache._cache, "get_client", refuse)  # type: ignore[attr-defined]


def test_with_redis_away_nothing_is_cached_in_the_process(session_cache, monkeypatch):
    with monkeypatch.context() as outage:
        _redis_away(outage, session_cache)

        session_cache.set("s1", {"_auth_user_id": "1"})

        assert session_cache.get("s1") is None  # the session store then reads the database


def test_when_redis_is_back_its_copies_older_than_the_outage_are_dropped(session_cache, monkeypatch):
    store = redis.Redis.from_url(settings.REDIS_URL)
    store.set("satu:1:not-a-session", b"kept")
    session_cache.set("s1", {"_auth_user_id": "1"})
    session_cache.set("s2", {"_auth_user_id": "2"})

    with monkeypatch.context() as outage:
        _redis_away(outage, session_cache)
        session_cache.delete("s1")  # a logout during the outage reaches only the database

    assert session_cache.get("s1") is None
    assert session_cache.get("s2") is None
    assert store.get("satu:1:not-a-session") == b"kept"
    store.delete("satu:1:not-a-session")
    session_cache.set("s3", {"_auth_user_id": "3"})
    assert session_cache.get("s3") == {"_auth_user_id": "3"}


def test_the_redis_cache_keeps_one_client_per_connection_pool(session_cache):
    """Django's client built a redis.Redis for every call; ours reuses one per pool, and the
    values still go through it."""
    client = session_cache._cache
    assert client.get_client("a") is client.get_client("b")
    assert client.get_client("a", write=True) is client.get_client("b", write=True)
    session_cache.set("k", {"v": 1})
    assert session_cache.get("k") == {"v": 1}
