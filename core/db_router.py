"""An optional read replica (settings DATABASE_REPLICA_URL -> DATABASES["replica"]).

Only the reads that may lag a little and cost the most go there: the dashboards and the exports,
marked with `replica_reads` (a decorator or a `with` block). Everything else reads `default`, and
so does a marked read when:
- no replica is configured;
- `default` is inside a transaction (what the transaction wrote is not on the replica yet, and a
  read that decides a write must see the newest rows).
Writes and migrations always go to `default`; the replica is a hot standby that takes none.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_reading_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("reading_replica", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside (`with replica_reads():` or `@replica_reads()`) go to the replica when there
    is one and no transaction is open."""
    token = _reading_replica.set(True)
    try:
        yield
    finally:
        _reading_replica.reset(token)


def replica_configured() -> bool:
    return REPLICA in connections.settings


class ReplicaRouter:
    def db_for_read(self, model: type, **hints: Any) -> str | None:
        if not _reading_replica.get() or not replica_configured():
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # The replica holds the same rows as default: an object read from either may refer to one
        # read from the other.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        return db == DEFAULT_DB_ALIAS
