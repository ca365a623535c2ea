"""A Redis cache that keeps the app working while Redis is away.

The cache holds only what can be rebuilt: login rate limits (django-allauth), API throttle
counts (DRF). When Redis does not answer, every call falls back to a per-process local-memory
cache instead of raising: login keeps working (rate limits still count, per process) and no
page turns into a 500. Redis is tried again after FAILOVER_RETRY_SECONDS.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)

FAILOVER_RETRY_SECONDS = 10.0


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class _OneClientPerPool(RedisCacheClient):
    """Django's client makes a new `redis.Redis` for every cache call, and each one builds its
    table of about 170 reply callbacks (a page's three cache reads spent more there than in
    Redis). One per connection pool is enough: the pool hands out the connections, per
    process and per thread as before."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        # Django's own private names (the stubs do not declare them): the pool for reads or writes
        # and the redis.Redis class.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class FailoverRedisCache(RedisCache):
    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        # A stopped Redis must cost a request milliseconds, not the OS's connect timeout.
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 1.0)
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._class = _OneClientPerPool
        self._fallback = self._make_fallback(params)
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._errors = _redis_errors()

    def _make_fallback(self, params: dict) -> BaseCache:
        return LocMemCache(f"failover-{id(self)}", {"TIMEOUT": params.get("TIMEOUT", 300)})

    def _call(self, name: str, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return getattr(self._fallback, name)(*args, **kwargs)
        try:
            return getattr(super(), name)(*args, **kwargs)
        except self._errors as exc:
            with self._lock:
                if time.monotonic() >= self._down_until:
                    logger.warning("cache: Redis unreachable (%s); local memory for %ss",
                                   type(exc).__name__, FAILOVER_RETRY_SECONDS)
                self._down_until = time.monotonic() + FAILOVER_RETRY_SECONDS
            return getattr(self._fallback, name)(*args, **kwargs)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def clear(self):
        self._fallback.clear()
        return self._call("clear")


class SessionRedisCache(FailoverRedisCache):
    """The cache in front of the database sessions (SESSION_ENGINE `cached_db`, alias `sessions`).

    While Redis is away nothing is cached: the database answers, the same on every web machine (a
    per-process copy would let one machine keep a session that another has ended). When Redis
    answers again after a failed call, the sessions it holds are dropped before anything else: a
    logout or a change made meanwhile reached only the database, and Redis's older copy must not
    outlive it.
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._missed = False

    def _make_fallback(self, params: dict) -> BaseCache:
        return DummyCache("sessions-fallback", {})

    def _call(self, name: str, *args, **kwargs):
        if self._missed and time.monotonic() >= self._down_until:
            try:
                self._drop_sessions()
                self._missed = False
            except self._errors:
                self._down_until = time.monotonic() + FAILOVER_RETRY_SECONDS
        down_until = self._down_until
        skipped = time.monotonic() < down_until
        result = super()._call(name, *args, **kwargs)
        if skipped or self._down_until != down_until:  # this call did not reach Redis
            self._missed = True
        return result

    def _drop_sessions(self) -> None:
        client = self._cache.get_client(None, write=True)  # type: ignore[attr-defined]
        keys = list(client.scan_iter(match=self.make_key("*"), count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start:start + 1000])
