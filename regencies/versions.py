"""The version of a regency's data: a number that changes when a transaction that wrote the
regency's members, districts, participants, assessments, queue entries, pledges, gifts or
campaigns commits, so that what the list pages computed from them can be kept and served again
until then.

The database keeps it, whatever writes those tables (the ORM, an import's set-based SQL, a job,
an operator's UPDATE):

- a statement trigger on each watched table notes the regencies of the statement's old and new
  rows in `regencies_datachange`, once per transaction (`trigger_sql`);
- a deferred constraint trigger on that table bumps `regencies_dataversion` for those regencies
  when the transaction commits, in regency order, and removes the notes. The row lock on a
  version is therefore taken last, at commit, and held only until the commit ends: a writer
  never waits for another lock while it holds one, so the versions add no deadlock to the
  write paths, and a statement or transaction that rolls back bumps nothing.

A reader reads the version before the data: what it then computes is at least as new as the
version, so a page kept under version N never misses a change that committed before N. Inside
a transaction (`connection.in_atomic_block`) nothing is kept or served: the transaction may
have written what it would read, and its version moves only at its commit.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection, connections, router
from django.utils import translation

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What a page keeps is replaced at the next version anyway; the TTL only bounds the memory that
# versions nobody reads again hold in the cache.
KEPT_SECONDS = 600

# Tables whose writes move their regencies' version (each app's migration adds the triggers).
WATCHED_TABLES = ("regencies_membership", "regencies_district", "participants_participant",
                  "assessments_assessment", "assessments_screening", "donations_pledge", "donations_gift",
                  "donations_campaign")

SCHEMA_SQL = """
CREATE TABLE regencies_dataversion (
    regency_id bigint PRIMARY KEY,
    version bigint NOT NULL
);
CREATE TABLE regencies_datachange (
    txid xid8 NOT NULL,
    regency_id bigint NOT NULL,
    PRIMARY KEY (txid, regency_id)
);
CREATE FUNCTION regencies_data_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The first note of the transaction bumps every regency it noted, in regency order; the
    -- later ones find nothing left.
    INSERT INTO regencies_dataversion AS v (regency_id, version)
    SELECT c.regency_id, 1 FROM regencies_datachange c
    WHERE c.txid = pg_current_xact_id()
    ORDER BY c.regency_id
    ON CONFLICT (regency_id) DO UPDATE SET version = v.version + 1;
    DELETE FROM regencies_datachange WHERE txid = pg_current_xact_id();
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER regencies_data_version_bump AFTER INSERT ON regencies_datachange
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION regencies_data_version_bump();
"""

SCHEMA_REVERSE_SQL = """
DROP TABLE regencies_datachange;
DROP FUNCTION regencies_data_version_bump();
DROP TABLE regencies_dataversion;
"""

# event -> (REFERENCING clause, the statement's old rows, its new rows)
_EVENTS = {
    "insert": ("NEW TABLE AS new_rows", None, "new_rows"),
    "update": ("OLD TABLE AS old_rows NEW TABLE AS new_rows", "old_rows", "new_rows"),
    "delete": ("OLD TABLE AS old_rows", "old_rows", None),
}


def trigger_sql(table: str) -> str:
    """The statement triggers that note the regencies whose rows of `table` a statement wrote."""
    parts = []
    for event, (referencing, old, new) in _EVENTS.items():
        # Names from this module only (the migration's table names), never from input.
        sides = " UNION ".join(f"SELECT regency_id FROM {rows}" for rows in (old, new) if rows)  # noqa: S608
        parts.append(f"""
CREATE FUNCTION {table}_data_changed_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regencies_datachange (txid, regency_id)
    SELECT pg_current_xact_id(), s.regency_id FROM ({sides}) AS s WHERE s.regency_id IS NOT NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER {table}_data_changed_{event} AFTER {event.upper()} ON {table}
    REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {table}_data_changed_{event}();
""")  # noqa: S608
    return "".join(parts)


def trigger_reverse_sql(table: str) -> str:
    return "".join(
        f"DROP TRIGGER {table}_data_changed_{event} ON {table};\n"
        f"DROP FUNCTION {table}_data_changed_{event}();\n"
        for event in _EVENTS
    )


_fresh: ContextVar[bool] = ContextVar("regency_data_fresh", default=False)


@contextmanager
def fresh() -> Iterator[None]:
    """Inside, `kept` builds every value and keeps none: what a page costs when its regency's
    data has just changed (`manage.py bench_year` times the dashboard so)."""
    token = _fresh.set(True)
    try:
        yield
    finally:
        _fresh.reset(token)


def data_version(regency_id: int) -> int:
    """The regency's version as committed now (0 before its first change), read where the page's
    own reads go: on a read replica (`core.db_router.replica_reads`) the replica's version, which
    arrives in the same commit as the data it counts."""
    from regencies.models import Regency

    with connections[router.db_for_read(Regency)].cursor() as cursor:
        cursor.execute("SELECT version FROM regencies_dataversion WHERE regency_id = %s", [regency_id])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _key(regency_id: int, version: int, name: str, parts: Iterable[Any]) -> str:
    digest = hashlib.blake2b(repr(tuple(parts)).encode(), digest_size=16).hexdigest()
    return f"regency-data:{regency_id}:{version}:{name}:{translation.get_language() or ''}:{digest}"


def kept(regency_id: int, name: str, parts: Iterable[Any], build: Callable[[], T],
         slim: Callable[[T], T] | None = None) -> T:
    """What `build()` returns for this regency, kept until its data's version changes.

    `name` and `parts` must name everything besides the regency's watched tables that the
    value depends on (the query's filters and cursor, a role's view); the language is part of
    the key. What is kept is `slim(value)` when given (a page without its model instances,
    say): the caller must need no more than that, though a fresh build returns it all. What
    `build` returns under a name must keep its shape: a release that changes it takes a new
    name, or the processes of the release before would read each other's values."""
    if connection.in_atomic_block or _fresh.get():
        return build()
    key = _key(regency_id, data_version(regency_id), name, parts)
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, slim(value) if slim else value, KEPT_SECONDS)
    return value
