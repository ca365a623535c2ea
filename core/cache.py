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

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

FAILOVER_RETRY_SECONDS = 10.0


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class FailoverRedisCache(RedisCache):
    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        # A stopped Redis must cost a request milliseconds, not the OS's connect timeout.
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 1.0)
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._fallback = LocMemCache(f"failover-{id(self)}", {"TIMEOUT": params.get("TIMEOUT", 300)})
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._errors = _redis_errors()

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
