"""The arrears history by list month: one partition of `participants_arrearsrecord` per month.

The table is partitioned by RANGE on `as_of` (migration 0009). A month's partition is named
`participants_arrearsrecord_yYYYYmMM`; rows of a month nobody prepared land in
`participants_arrearsrecord_default`, which `check_integrity` watches (it should stay empty).

- `history_partition_ensure(month=...)`: the month's partition, made if missing. The import
  calls it before its apply transaction (so the apply writes one partition, and holds no lock
  on the table's structure while it runs); the monthly beat job calls
  `history_partitions_ensure_ahead` for the coming months. Rows of that month already in the
  DEFAULT partition are moved into the new one.
- `history_partitions()`: every month attached, the DEFAULT partition, and months detached but
  not dropped, with rows and bytes (`manage.py history_partitions list`).
- `history_detach(...)`: months before a given one leave the table (`DETACH PARTITION`), are
  written to a compressed CSV file, and are dropped only when asked to
  (`manage.py history_partitions detach`). The current month and later ones are never touched,
  and a month holding the newest record of some participant (what screening and reconciliation
  read) is refused unless forced.

`DETACH PARTITION ... CONCURRENTLY` is refused by PostgreSQL while the table has a DEFAULT
partition, which this one always has: a detach is then a plain DETACH, a change of the catalog
only, that waits at most `DETACH_LOCK_TIMEOUT` for the readers of the table and is tried again
`DETACH_ATTEMPTS` times before it gives up (the readers are not stalled behind it for longer).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import gzip
import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from django.db import OperationalError, connection, transaction
from django.utils import timezone
from psycopg2 import sql

from participants.models import ArrearsRecord

logger = logging.getLogger(__name__)

HISTORY_TABLE: str = ArrearsRecord._meta.db_table
DEFAULT_PARTITION: str = f"{HISTORY_TABLE}_default"
_NAME = re.compile(rf"^{re.escape(HISTORY_TABLE)}_y(\d{{4}})m(\d{{2}})$")
_BOUND = re.compile(r"FROM \('(\d{4}-\d{2}-\d{2})'\) TO \('(\d{4}-\d{2}-\d{2})'\)")
# Any two sessions making partitions wait for each other (pg_advisory_xact_lock(key1, key2)).
_LOCK_KEY = (0x5A7A, 0x0921)
DETACH_LOCK_TIMEOUT = "5s"
DETACH_ATTEMPTS = 3


def month_start(day: dt.date) -> dt.date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def month_add(month: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after (or before, when negative) `month`'s."""
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def partition_name(month: dt.date) -> str:
    """The table name of `month`'s partition."""
    return f"{HISTORY_TABLE}_y{month:%Y}m{month:%m}"


def current_month() -> dt.date:
    """This month in the installation's time zone: it and every later month stay attached."""
    return month_start(timezone.localdate())


@dataclasses.dataclass(frozen=True)
class HistoryPartition:
    """One table of the history: a month's partition (attached or detached) or the DEFAULT one."""

    name: str
    month: dt.date | None  # None: the DEFAULT partition
    attached: bool
    rows: int
    rows_exact: bool
    bytes: int

    def as_json(self) -> dict[str, object]:
        """A JSON-friendly dict (the month as `YYYY-MM`, or "default")."""
        return {
            "month": self.month.strftime("%Y-%m") if self.month else "default",
            "table": self.name, "attached": self.attached, "rows": self.rows,
            "rows_exact": self.rows_exact, "bytes": self.bytes,
        }


def _attached() -> dict[str, dt.date | None]:
    """Attached partitions: table name -> month (None for DEFAULT)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            [HISTORY_TABLE],
        )
        found: dict[str, dt.date | None] = {}
        for name, bound in cur.fetchall():
            if bound == "DEFAULT":
                found[name] = None
                continue
            match = _BOUND.search(bound)
            if match is None:
                raise ValueError(f"{name}: partition bound {bound!r} is not a month")
            found[name] = dt.date.fromisoformat(match.group(1))
    return found


def _detached() -> dict[str, dt.date]:
    """Tables named like a month's partition but not attached (detached, not dropped yet)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' AND c.relname LIKE %s"
            " AND c.relnamespace = current_schema()::regnamespace AND NOT c.relispartition",
            [f"{HISTORY_TABLE}_y%"],
        )
        found = {}
        for (name,) in cur.fetchall():
            match = _NAME.match(name)
            if match:
                found[name] = dt.date(int(match.group(1)), int(match.group(2)), 1)
    return found


def history_partitions(*, exact: bool = False) -> list[HistoryPartition]:
    """Every month's table (attached first by month, then detached) and the DEFAULT partition;
    rows are the planner's estimate unless `exact` (or the table was never analysed)."""
    tables = [(name, month, True) for name, month in _attached().items()]
    tables += [(name, month, False) for name, month in _detached().items()]
    result = []
    with connection.cursor() as cur:
        for name, month, attached in tables:
            cur.execute(
                "SELECT c.reltuples::bigint, pg_total_relation_size(c.oid) FROM pg_class c WHERE c.oid = %s::regclass",
                [name],
            )
            estimate, size = cur.fetchone()
            rows_exact = exact or estimate < 0
            if rows_exact:
                cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name)))
                estimate = cur.fetchone()[0]
            result.append(HistoryPartition(name=name, month=month, attached=attached, rows=int(estimate),
                                           rows_exact=rows_exact, bytes=int(size)))
    return sorted(result, key=lambda p: (p.month is None, not p.attached, p.month or dt.date.min))


def history_partition_ensure(*, month: dt.date, lock_timeout: str | None = None) -> bool:
    """`month`'s partition exists when this returns; True when it was made now.

    Made in its own short transaction: a table of the parent's shape, the month's rows moved in
    from the DEFAULT partition, then ATTACH (which takes a SHARE UPDATE EXCLUSIVE lock on the
    history, not blocking its readers or writers, and builds the partition's indexes). A month
    whose table was detached and not dropped is not made again: its rows go to DEFAULT, where
    `check_integrity` reports them.

    ATTACH also needs the DEFAULT partition to itself for a moment, which a long reader of the
    history (a reconciliation run) holds. With `lock_timeout` (the import passes one) it waits
    that long, then gives up and returns False: the rows go to DEFAULT until the monthly job
    moves them, rather than the import waiting, or making every reader queue behind it.
    """
    if lock_timeout is None:
        return _ensure(month=month_start(month), lock_timeout=None)
    try:
        return _ensure(month=month_start(month), lock_timeout=lock_timeout)
    except OperationalError as exc:
        if getattr(exc.__cause__, "pgcode", None) != "55P03":  # lock_not_available
            raise
        logger.warning("history month %s: the history stayed busy for %s; its partition is made later",
                       month_start(month).isoformat(), lock_timeout)
        return False


def _ensure(*, month: dt.date, lock_timeout: str | None) -> bool:
    """history_partition_ensure's work (month is a first of the month). The making itself is
    `participants_history_month_make` (migration 0012), which runs as the tables' owner: only
    the owner may attach a partition, and the application's role owns nothing."""
    name = partition_name(month)
    if name in _attached():
        return False
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT current_setting('lock_timeout')")
        previous = cur.fetchone()[0]
        if lock_timeout is not None:
            cur.execute("SELECT set_config('lock_timeout', %s, true)", [lock_timeout])
        cur.execute("SELECT participants_history_month_make(%s)", [month])
        moved = cur.fetchone()[0]
        # Inside a caller's transaction the setting would outlive this block.
        cur.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    if moved is None:
        return False
    if moved < 0:
        logger.warning("history month %s is detached (table %s): its rows go to %s",
                       month.isoformat(), name, DEFAULT_PARTITION)
        return False
    if moved:
        logger.info("history month %s: %s rows moved out of %s", month.isoformat(), moved, DEFAULT_PARTITION)
    logger.info("history month %s: partition %s made", month.isoformat(), name)
    return True


def history_partitions_ensure_ahead(*, months: int, today: dt.date | None = None) -> list[dt.date]:
    """The current month's partition and the next `months` ones; returns the months made now."""
    start = month_start(today or timezone.localdate())
    return [month_add(start, n) for n in range(months + 1) if history_partition_ensure(month=month_add(start, n))]


def history_partitions_from_default() -> list[dt.date]:
    """A partition for every month that has rows in the DEFAULT partition (those rows moved
    into it); returns the months made. A detached month's rows stay where they are."""
    if DEFAULT_PARTITION not in _attached():
        return []
    with connection.cursor() as cur:
        cur.execute(sql.SQL("SELECT DISTINCT date_trunc('month', as_of)::date FROM {} ORDER BY 1")
                    .format(sql.Identifier(DEFAULT_PARTITION)))
        months = [row[0] for row in cur.fetchall()]
    return [month for month in months if history_partition_ensure(month=month)]


def default_partition_rows() -> int:
    """Rows sitting in the DEFAULT partition (of months that have no partition)."""
    with connection.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(DEFAULT_PARTITION)))
        return int(cur.fetchone()[0])


def newest_records_before(*, before: dt.date) -> dict[dt.date, int]:
    """Per month before `before`: how many participants have their newest record there (no
    record in `before` or later). Those months are still read as "the newest record" by
    screening and reconciliation. The months kept are probed through the partition key
    (pruned at plan time); the months read whole are the ones about to leave."""
    with connection.cursor() as cur:
        cur.execute(sql.SQL(
            "SELECT date_trunc('month', o.newest)::date, count(*) FROM ("
            "SELECT r.participant_id, max(r.as_of) AS newest FROM {t} r WHERE r.as_of < %(before)s"
            " GROUP BY r.participant_id) o"
            " WHERE NOT EXISTS (SELECT 1 FROM {t} x WHERE x.participant_id = o.participant_id"
            " AND x.as_of >= %(before)s)"
            " GROUP BY 1 ORDER BY 1"
        ).format(t=sql.Identifier(HISTORY_TABLE)), {"before": before})
        return {month: int(n) for month, n in cur.fetchall()}


class DetachRefused(Exception):
    """The detach would take away what the application still reads, or cannot run now."""


@dataclasses.dataclass
class DetachedMonth:
    """What happened to one month."""

    month: dt.date
    table: str
    rows: int = 0
    detached: bool = False
    archive: str | None = None
    dropped: bool = False

    def as_json(self) -> dict[str, object]:
        """A JSON-friendly dict."""
        return {"month": self.month.strftime("%Y-%m"), "table": self.table, "rows": self.rows,
                "detached": self.detached, "archive": self.archive, "dropped": self.dropped}


def _detach(name: str, *, concurrently: bool) -> None:
    """DETACH one partition: CONCURRENTLY when the table has no DEFAULT partition, else a plain
    DETACH that waits at most DETACH_LOCK_TIMEOUT for the table's readers, a few times."""
    statement = sql.SQL("ALTER TABLE {table} DETACH PARTITION {part}{how}").format(
        table=sql.Identifier(HISTORY_TABLE), part=sql.Identifier(name),
        how=sql.SQL(" CONCURRENTLY" if concurrently else ""))
    if concurrently:
        # Cannot run inside a transaction block: autocommit, as Django runs outside atomic().
        with connection.cursor() as cur:
            cur.execute(statement)
        return
    for attempt in range(1, DETACH_ATTEMPTS + 1):
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("SELECT set_config('lock_timeout', %s, true)", [DETACH_LOCK_TIMEOUT])
                cur.execute(statement)
            return
        except OperationalError as exc:
            if attempt == DETACH_ATTEMPTS:
                raise DetachRefused(
                    f"{name}: the history table stayed busy ({exc}); try again when no import or screening runs"
                ) from exc
            time.sleep(attempt)


def _archive(name: str, directory: Path) -> tuple[Path, int]:
    """The table's rows as a gzip-compressed CSV with a header (`COPY ... TO STDOUT`), written
    beside its final name and renamed into place once read back whole; returns (path, rows)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.csv.gz"
    partial = directory / f".{name}.csv.gz.partial"
    with gzip.open(partial, "wt", encoding="utf-8", newline="") as out, connection.cursor() as cur:
        cur.cursor.copy_expert(
            sql.SQL("COPY (SELECT * FROM {} ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)")
            .format(sql.Identifier(name)).as_string(cur.cursor.connection),
            out,
        )
    with gzip.open(partial, "rt", encoding="utf-8", newline="") as back:
        written = sum(1 for _row in csv.reader(back)) - 1
    with connection.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name)))
        rows = int(cur.fetchone()[0])
    if written != rows:
        partial.unlink()
        raise DetachRefused(f"{name}: the archive holds {written} rows, the table {rows}; nothing dropped")
    os.replace(partial, path)
    return path, rows


def history_detach(
    *,
    before: dt.date,
    archive_dir: Path | None = None,
    drop: bool = False,
    force: bool = False,
    progress: Callable[[str], None] = lambda _message: None,
) -> list[DetachedMonth]:
    """Detach every month before `before` (never the current month or a later one), write each
    to `archive_dir` when given, and drop it when `drop` (which needs the archive).

    Months already detached by an earlier run (tables not dropped) are archived and dropped the
    same way. Raises DetachRefused, before changing anything, when `before` is later than the
    current month, when `drop` comes without `archive_dir`, or when a month holds the newest
    record of some participant and `force` is not set.
    """
    before = month_start(before)
    if before > current_month():
        raise DetachRefused(f"--before {before:%Y-%m} is later than the current month {current_month():%Y-%m}")
    if drop and archive_dir is None:
        raise DetachRefused("--drop needs --archive-dir: a month is dropped only once it is archived")
    attached = _attached()
    months = {name: month for name, month in attached.items() if month is not None and month < before}
    leftovers = {name: month for name, month in _detached().items() if month < before}
    if not force:
        newest = newest_records_before(before=before)
        held = {month: n for month, n in newest.items() if n and partition_name(month) in months}
        if held:
            listed = ", ".join(f"{month:%Y-%m} ({n})" for month, n in sorted(held.items()))
            raise DetachRefused(
                "these months hold the newest record of some participants (what screening and "
                f"reconciliation read): {listed}; detach earlier months, or pass --force"
            )
    concurrently = DEFAULT_PARTITION not in attached
    done = []
    for name, month in sorted({**months, **leftovers}.items(), key=lambda item: item[1]):
        entry = DetachedMonth(month=month, table=name)
        if name in months:
            progress(f"{month:%Y-%m}: detach {name}{' concurrently' if concurrently else ''}")
            _detach(name, concurrently=concurrently)
            entry.detached = True
        if archive_dir is not None:
            progress(f"{month:%Y-%m}: archive to {archive_dir}")
            path, entry.rows = _archive(name, archive_dir)
            entry.archive = str(path)
        if drop:
            progress(f"{month:%Y-%m}: drop {name}")
            with connection.cursor() as cur:
                cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
            entry.dropped = True
        done.append(entry)
    return done
