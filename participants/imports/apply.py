"""Apply a loaded staging table: set-based SQL only, inside the caller's ONE transaction.

Steps (each one statement over the whole import, no per-row Python):
  a. rows of a regency outside the branch become row errors and leave staging
     (the parser already routes them; card numbers repeated within the file never
     reach staging: the parser keeps the first row and reports each repeat);
  b. a card number already registered in a regency outside the branch: row error;
  c. districts and villages are matched (by code where given, else by name
     within the regency/district, case- and space-insensitive) or created;
  d. families are upserted by (regency, number);
  e. participants: the known ones whose values changed are updated, the new ones
     inserted (by card number);
  f. one ArrearsRecord per valid row (the history);
  g. `full` mode: the branch's participants absent from the file are cleared;
  h. the clearing history screening and the `reactivated` figure read (`ClearingHistory`, per
     participant and regency) follows this list (`_clearing_history`), or is made again from the whole history when the
     list is not newer than every applied one.
An import older than the newest applied one of its branch writes the history
(and participants never seen before) but changes no current values.

Applies of different branches run side by side: the caller holds transaction locks on
the branch and on each of its regencies, and every row an apply writes belongs to one of
those regencies (families, districts, villages, history, the participants it updates or
clears) except a new participant: a card number is unique in the whole installation, and
another branch may insert the same one at the same moment (a participant who moved and
appears in both branches' lists). New participants are therefore inserted with
`ON CONFLICT (card_number) DO NOTHING`, in card-number order (two inserts meeting on
several card numbers wait for each other in the same order: no deadlock), and the rows
that lost the race become row errors like any card number registered outside the branch.
Families and history keep plain INSERTs (no other branch writes their keys).

An insert that at least doubles a table (a branch's first list) drops that table's
secondary indexes and builds them again afterwards, in the same transaction: building an
index over N rows costs a fraction of N index insertions (PostgreSQL manual, "Populating
a Database"). Dropping them takes the table's ACCESS EXCLUSIVE lock, so nobody else
inserts meanwhile: that insert is a plain INSERT of the card numbers still new once the
lock is held (a speculative insertion costs ~50 % more a row). See `_rebuilding_indexes`.

The caller (services.import_run) holds the transaction and the branch/regency locks.

Every statement is composed with `psycopg2.sql`: the tables are named from the models (and
the staging tables from the import's id) through `sql.Identifier`; values, the enums'
included, are parameters.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import DatabaseError, connection, models, transaction
from django.db.backends.utils import CursorWrapper
from django.utils.translation import gettext as _
from psycopg2 import sql

from participants.imports.staging import held_table_name, places_table_name, staging_table_name
from participants.models import (
    ArrearsImport,
    ArrearsRecord,
    BpjsStatus,
    ClearingHistory,
    ClearingHistoryMark,
    Family,
    ImportMode,
    ImportRowError,
    ImportStatus,
    Participant,
    ParticipantStatus,
    Standing,
)
from regencies.models import BpjsBranch, District, Regency, Village

logger = logging.getLogger(__name__)

# An insert of at least this many rows that at least doubles its table rebuilds the
# table's secondary indexes instead of maintaining them row by row.
BULK_MIN_ROWS = 20_000
# An apply that inserts at least this many participants checks the planner's estimate of them
# (`_analyze_if_underestimated`).
ANALYZE_MIN_ROWS = 1_000
# How long the apply waits for other sessions' reads to finish before it drops indexes;
# if they do not, it keeps the indexes and inserts row by row.
_BULK_LOCK_TIMEOUT = "2s"

# The tables the statements name (through sql.Identifier), from the models.
_TABLES: dict[str, type[models.Model]] = {
    "participant": Participant, "family": Family, "record": ArrearsRecord, "row_error": ImportRowError,
    "regency": Regency, "district": District, "village": Village,
    "import_t": ArrearsImport, "branch_regencies": BpjsBranch.regencies.through,
    "clearing": ClearingHistory, "clearing_mark": ClearingHistoryMark, "standing": Standing,
}

# The values the statements compare with or write: parameters, from the enums (and the file's
# column names the row errors point at).
_VALUES = {
    "cleared": ParticipantStatus.CLEARED.value, "active": ParticipantStatus.ACTIVE.value,
    "inactive": ParticipantStatus.INACTIVE.value, "bpjs_active": BpjsStatus.ACTIVE.value,
    "bpjs_inactive": BpjsStatus.INACTIVE.value,
    "col_regency": "kode_wilayah", "col_card": "no_kartu",
    "imp_applied": ImportStatus.APPLIED.value, "mode_full": ImportMode.FULL.value,
}


def _q(template: str, **parts: sql.Composable) -> sql.Composed:
    """`template` with {participant}, {family}, ... (see _TABLES) and `parts` filled in (the
    staging tables and the fragments of a statement come in `parts`)."""
    tables = {name: sql.Identifier(model._meta.db_table) for name, model in _TABLES.items()}
    return sql.SQL(template).format(**tables, **parts)


class _Run(Protocol):
    def __call__(self, statement: sql.Composable, extra: Mapping[str, Any] | None = None) -> None: ...


def _norm(expr: str) -> sql.Composed:
    """`lower(collapse-spaces(trim(x)))`: how names are compared; `expr` a column of the statement."""
    return sql.SQL(r"lower(regexp_replace(btrim({}), '\s+', ' ', 'g'))").format(sql.SQL(expr))


@dataclass
class ApplyResult:
    valid: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    cleared: int = 0
    removed: int = 0  # rows taken out of staging as errors (repeats, foreign card numbers)
    regency_counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class ApplyContext:
    import_id: int
    regency_ids: list[int]
    as_of: dt.date
    full_mode: bool
    outdated: bool
    # Clearing absent participants needs to know who is on the list: an invalid row
    # whose card number is readable keeps that participant (import_held_<id>); an
    # invalid row with no readable card number could be anyone, so nobody is cleared.
    may_clear: bool
    # For an outdated import: the newest applied import was a full list as of this date,
    # so a participant first seen in the older file is no longer on the list.
    newest_full_as_of: dt.date | None = None


def _split(template: str) -> tuple[str, str]:
    before, _sep, after = template.partition("{}")
    return before, after


def apply_staging(
    ctx: ApplyContext, *, progress: Callable[[int], None] | None = None
) -> ApplyResult:
    """Run every step; must be called inside `transaction.atomic()`."""
    if not connection.in_atomic_block:
        raise RuntimeError("apply_staging must run inside a transaction")
    # The staging tables' names (the statements name them through sql.Identifier).
    s = staging_table_name(ctx.import_id)
    held, places = held_table_name(ctx.import_id), places_table_name(ctx.import_id)
    result = ApplyResult()
    report = progress or (lambda _pct: None)
    params: dict[str, Any] = {
        "imp": ctx.import_id,
        "regs": list(ctx.regency_ids),
        "as_of": ctx.as_of,
        **_VALUES,
    }
    with connection.cursor() as cur:

        def run(statement: sql.Composable, extra: Mapping[str, Any] | None = None) -> None:
            cur.execute(statement, {**params, **(extra or {})})

        # These statements each read the whole file once: compiling them (JIT) costs
        # more than it saves, and a hash table of 200k wide rows wants more than 4 MB (one
        # apply per branch at a time: a few at most).
        run(sql.SQL("SET LOCAL jit = off; SET LOCAL work_mem = '256MB'"))
        run(_q(
            "CREATE TEMP TABLE imp_reg ON COMMIT DROP AS "
            "SELECT id, code, name FROM {regency} WHERE id = ANY(%(regs)s)"
        ))
        # The planner needs the size and the distinct card numbers; a small sample will do.
        run(sql.SQL("SET LOCAL default_statistics_target = 10; ANALYZE {} (card_number, place_key)").format(
            sql.Identifier(s)))
        result.removed += _remove_foreign_regency_rows(run, cur, s, places)
        result.removed += _remove_foreign_cards(run, cur, s)
        report(74)
        _districts(run, places)
        _villages(run)
        report(78)
        _resolve_rows(run, s)
        _families(run, cur, outdated=ctx.outdated)
        report(82)
        result.new, result.updated = _participants(run, cur, ctx)
        # Card numbers another branch registered while this apply ran (its insert won).
        result.removed += _remove_foreign_cards(run, cur, s)
        report(90)
        result.valid, result.regency_counts = _history(run, cur, s)
        _analyze_if_underestimated(cur, ctx.regency_ids, written=result.new, tables=(Participant, Family))
        report(95)
        if ctx.full_mode and not ctx.outdated:
            if not ctx.may_clear:
                result.notes.append(
                    _(
                        "Berkas ini berisi baris tidak valid yang nomor kartunya tidak terbaca, "
                        "jadi peserta yang tidak ada di berkas TIDAK ditandai keluar dari daftar. "
                        "Perbaiki baris tersebut lalu unggah ulang daftar lengkapnya."
                    )
                )
            elif _someone_is_absent(run, cur, result.valid):
                run(_q(
                    "UPDATE {participant} p SET status = %(cleared)s, cleared_at = %(as_of)s,"
                    " last_import_id = %(imp)s, updated_at = now() "
                    "WHERE p.regency_id = ANY(%(regs)s) AND p.status <> %(cleared)s "
                    "AND NOT EXISTS (SELECT 1 FROM {staging} x WHERE x.card_number = p.card_number) "
                    "AND NOT EXISTS (SELECT 1 FROM {held} h WHERE h.card_number = p.card_number)",
                    staging=sql.Identifier(s), held=sql.Identifier(held),
                ))
                result.cleared = cur.rowcount
        _clearing_history(run, cur, ctx)
        result.unchanged = max(result.valid - result.new - result.updated, 0)
        run(sql.SQL("DROP TABLE imp_hist"))
        run(sql.SQL("DROP VIEW imp_rows"))
        run(sql.SQL("DROP TABLE {}").format(sql.Identifier(s)))
        run(sql.SQL("DROP TABLE {}").format(sql.Identifier(held)))
        run(sql.SQL("DROP TABLE {}").format(sql.Identifier(places)))
        run(sql.SQL("DROP TABLE imp_d; DROP TABLE imp_v; DROP TABLE imp_place; DROP TABLE imp_reg"))
    report(99)
    return result


# The applied imports of each regency's branches, `this` import (being applied) counted or not:
# how many, the newest id and the newest list date.
_IMPORTS_OF_REGENCIES = """
SELECT br.regency_id, count(*), max(ai.id), max(ai.as_of)
FROM {import_t} ai JOIN {branch_regencies} br ON br.bpjsbranch_id = ai.branch_id
WHERE br.regency_id = ANY(%(regs)s) AND (ai.status = %(imp_applied)s OR ai.id = %(this)s)
  AND ai.id IS DISTINCT FROM %(other_than)s
GROUP BY br.regency_id
"""

# Every record of the regencies, in order per participant and regency (screening's view of the
# history: only applied imports of a branch that serves the record's regency), each with its
# clearing: the next record at zero, or a full list of the regency dated between it and the next
# record (the participant was not on it); and the first record in arrears dated after that.
_REBUILD_SQL = """
WITH imp AS (
    SELECT ai.id, ai.as_of, ai.mode, br.regency_id
    FROM {import_t} ai JOIN {branch_regencies} br ON br.bpjsbranch_id = ai.branch_id
    WHERE br.regency_id = ANY(%(regs)s) AND (ai.status = %(imp_applied)s OR ai.id = %(this)s)
),
full_imp AS (
    SELECT DISTINCT regency_id, as_of FROM imp WHERE mode = %(mode_full)s
),
rec0 AS (
    SELECT r.id, r.participant_id, r.regency_id, r.as_of, r.months_in_arrears AS months,
           r.bpjs_status = %(bpjs_inactive)s AS inactive,
           LEAD(r.as_of) OVER w AS next_as_of,
           LEAD(r.months_in_arrears) OVER w AS next_months,
           min(ARRAY[r.as_of - DATE '2000-01-01', r.months_in_arrears::int])
               FILTER (WHERE r.months_in_arrears > 0)
               OVER (PARTITION BY r.participant_id, r.regency_id ORDER BY r.as_of
                     RANGE BETWEEN '1 day'::interval FOLLOWING AND UNBOUNDED FOLLOWING) AS later_arrears,
           row_number() OVER (PARTITION BY r.participant_id, r.regency_id
                              ORDER BY r.as_of DESC, r.id DESC) AS newest
    FROM {record} r
    JOIN imp ON imp.id = r.arrears_import_id AND imp.regency_id = r.regency_id
    WHERE r.regency_id = ANY(%(regs)s)
    WINDOW w AS (PARTITION BY r.participant_id, r.regency_id ORDER BY r.as_of, r.id)
),
rec AS (
    SELECT rec0.*,
           LEAD(rec0.later_arrears) OVER (PARTITION BY rec0.participant_id, rec0.regency_id
                                          ORDER BY rec0.as_of, rec0.id) AS next_later_arrears
    FROM rec0
),
clr AS (
    SELECT rec.id, rec.participant_id, rec.regency_id, rec.as_of, rec.months, rec.newest, rec.inactive,
           gap.absent_as_of,
           CASE WHEN rec.months = 0 THEN NULL
                WHEN gap.absent_as_of IS NOT NULL THEN gap.absent_as_of
                WHEN rec.next_months = 0 THEN rec.next_as_of
           END AS cleared_date,
           CASE WHEN gap.absent_as_of IS NOT NULL THEN rec.later_arrears
                WHEN rec.next_months = 0 THEN rec.next_later_arrears
           END AS after_clear
    FROM rec
    LEFT JOIN LATERAL (
        SELECT min(f.as_of) AS absent_as_of FROM full_imp f
        WHERE f.regency_id = rec.regency_id AND f.as_of > rec.as_of
          AND (rec.next_as_of IS NULL OR f.as_of < rec.next_as_of)
    ) gap ON TRUE
)
INSERT INTO {clearing} (regency_id, participant_id, last_as_of, last_months, last_cleared,
                        awaiting_next, clearings, once_in_arrears)
SELECT regency_id, participant_id,
       max(as_of) FILTER (WHERE newest = 1),
       coalesce(max(months) FILTER (WHERE newest = 1), 0),
       coalesce(bool_or(newest = 1 AND months > 0 AND absent_as_of IS NOT NULL), FALSE),
       coalesce(bool_or(cleared_date IS NOT NULL AND after_clear IS NULL), FALSE),
       coalesce(jsonb_agg(jsonb_build_object(
                    'from', as_of, 'months', months, 'cleared', cleared_date,
                    'next', DATE '2000-01-01' + after_clear[1], 'next_months', after_clear[2])
                ORDER BY as_of, id) FILTER (WHERE cleared_date IS NOT NULL), '[]'::jsonb),
       bool_or(inactive)  -- these records only: _ONCE_IN_ARREARS_SQL adds the others
FROM clr
GROUP BY regency_id, participant_id
"""


# "Once in arrears" (`ClearingHistory.once_in_arrears`) from the whole history: every record of the
# regencies listed not active, whichever import wrote it (the `reactivated` figure has always read
# them all: `participants.selectors.record_in_arrears_q`). `_REBUILD_SQL` set it from the records
# of the applied imports; this adds the others' (none once every record comes from the apply: the
# anti-join leaves nothing to write). A participant with no row yet (records of no applied import
# of a branch serving the regency) gets one that says only that.
_ONCE_IN_ARREARS_SQL = """
INSERT INTO {clearing} AS c (regency_id, participant_id, last_as_of, last_months, last_cleared,
                             awaiting_next, clearings, once_in_arrears)
SELECT o.regency_id, o.participant_id, NULL::date, 0, FALSE, FALSE, '[]'::jsonb, TRUE
FROM (SELECT DISTINCT r.regency_id, r.participant_id FROM {record} r
      WHERE r.regency_id = ANY(%(regs)s) AND r.bpjs_status = %(bpjs_inactive)s) o
WHERE NOT EXISTS (SELECT 1 FROM {clearing} k WHERE k.participant_id = o.participant_id
                  AND k.regency_id = o.regency_id AND k.once_in_arrears)
ON CONFLICT (participant_id, regency_id) DO UPDATE SET once_in_arrears = TRUE
"""


def _write_marks(cur: CursorWrapper, regency_ids: list[int], *, this: int | None) -> None:
    """Record, per regency, the applied imports its clearing history now reflects."""
    cur.execute(_q(_IMPORTS_OF_REGENCIES), {**_VALUES, "regs": regency_ids, "this": this, "other_than": None})
    found = {regency_id: (n, newest) for regency_id, n, newest, _as_of in cur.fetchall()}
    cur.execute(_q(
        "INSERT INTO {clearing_mark} (regency_id, imports, newest_import_id) "
        "SELECT r, coalesce(n, 0), newest FROM unnest(%(regs)s::bigint[], %(ns)s::int[], %(newest)s::bigint[]) "
        "AS t(r, n, newest) "
        "ON CONFLICT (regency_id) DO UPDATE SET imports = EXCLUDED.imports, "
        "newest_import_id = EXCLUDED.newest_import_id"
    ), {
        "regs": regency_ids,
        "ns": [found.get(r, (0, None))[0] for r in regency_ids],
        "newest": [found.get(r, (0, None))[1] for r in regency_ids],
    })


def rebuild_clearing_history(cur: CursorWrapper, regency_ids: list[int], *, applying_import_id: int | None = None
                             ) -> None:
    """Make the regencies' `ClearingHistory` rows again from their whole history (one pass over
    it): when a list older than (or as old as) one already applied is applied, when the records
    were written by something other than the apply, and to fill them the first time.
    `applying_import_id`: the import being applied in this transaction counts as applied."""
    values = {**_VALUES, "regs": list(regency_ids), "this": applying_import_id}
    cur.execute(_q("DELETE FROM {clearing} WHERE regency_id = ANY(%(regs)s)"), values)
    cur.execute(_q(_REBUILD_SQL), values)
    rebuilt = cur.rowcount
    cur.execute(_q(_ONCE_IN_ARREARS_SQL), values)
    # Participants in arrears with no record (made by other means than a list) get an empty row, so
    # that screening does not take their absence for a history it has not seen yet.
    cur.execute(_q(
        "INSERT INTO {clearing} (regency_id, participant_id, last_as_of, last_months, last_cleared, "
        "awaiting_next, clearings, once_in_arrears) "
        "SELECT p.regency_id, p.id, NULL, 0, FALSE, FALSE, '[]'::jsonb, FALSE FROM {participant} p "
        "WHERE p.regency_id = ANY(%(regs)s) AND p.months_in_arrears > 0 "
        "AND NOT EXISTS (SELECT 1 FROM {clearing} c WHERE c.participant_id = p.id AND c.regency_id = p.regency_id)"
    ), values)
    _analyze_if_underestimated(cur, regency_ids, written=rebuilt, tables=(ClearingHistory,))
    _write_marks(cur, list(regency_ids), this=applying_import_id)


def _planned_rows(cur: CursorWrapper, table: str, regency_ids: list[int]) -> int:
    """The planner's estimate of the regencies' rows in `table` (EXPLAIN, nothing read)."""
    cur.execute(sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM {} WHERE regency_id = ANY(%s)").format(
        sql.Identifier(table)), [regency_ids])
    return int(cur.fetchone()[0][0]["Plan"]["Plan Rows"])


def _analyze_if_underestimated(cur: CursorWrapper, regency_ids: Iterable[int], *, written: int,
                               tables: tuple[type[models.Model], ...]) -> None:
    """ANALYZE the tables of `tables` when the planner believes these regencies hold fewer rows of the first
    than this transaction has just written to it: a regency's first list (or a rebuild) into a
    table that already holds other regencies did not double it, so `_rebuilding_indexes` kept its
    statistics, in which the regency is a handful of rows. The planner then picks nested loops
    over all of them: the summary refresh that follows in this transaction (the `reactivated`
    families) took 146 s for one regency of 50,000 participants, screening's freshness check on
    the clearing history 65 s and more; under a second once analyzed. ANALYZE reads a sample
    (30,000 rows at most), and in this transaction it counts the rows written; autovacuum sees
    them only after the commit, and screening follows the list at once."""
    if written < ANALYZE_MIN_ROWS or _planned_rows(cur, tables[0]._meta.db_table, list(regency_ids)) >= written:
        return
    for model in tables:
        cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(model._meta.db_table)))


def clearing_history_matches_imports(cur: CursorWrapper, regency_id: int) -> bool:
    """Whether the regency's `ClearingHistory` rows were made from its applied imports as they are
    now (the mark: how many, the newest id; one small read, not the history). What the figures
    check before they read `once_in_arrears` (records of an import the apply did not see)."""
    cur.execute(_q(
        "WITH imp AS (SELECT count(*) AS n, max(ai.id) AS newest FROM {import_t} ai "
        "JOIN {branch_regencies} br ON br.bpjsbranch_id = ai.branch_id "
        "WHERE br.regency_id = %(regency)s AND ai.status = %(imp_applied)s) "
        "SELECT coalesce(m.imports, 0) = imp.n AND m.newest_import_id IS NOT DISTINCT FROM imp.newest "
        "FROM imp LEFT JOIN {clearing_mark} m ON m.regency_id = %(regency)s"
    ), {**_VALUES, "regency": regency_id})
    return bool(cur.fetchone()[0])


def clearing_row_behind(participant: str, clearing: str) -> sql.Composable:
    """SQL that is TRUE when a participant in arrears (alias `participant`) has no clearing row in
    its regency (`clearing`, LEFT JOINed on participant and regency) or one older than the
    participant's newest list: the rows were not kept by the apply for that participant."""
    p, c = sql.Identifier(participant), sql.Identifier(clearing)
    return sql.SQL("({c}.id IS NULL OR {p}.as_of > {c}.last_as_of)").format(p=p, c=c)


def _clearing_history(run: _Run, cur: CursorWrapper, ctx: ApplyContext) -> None:
    """Bring the `ClearingHistory` of the branch's regencies up to date with this list, from the
    records it wrote (imp_hist) and, for a full list, the participants it does not name: each
    statement reads this list and the current rows, never the older months.

    A list dated no later than one already applied to these regencies (an older file, or a second
    list of the same date) changes what came after it: the rows are made again from the history
    then (`rebuild_clearing_history`). So are they when they did not match the applied imports
    before this one (the mark): a list cannot repair what it did not see."""
    regs = list(ctx.regency_ids)
    run(_q(_IMPORTS_OF_REGENCIES), {"this": None, "other_than": ctx.import_id})
    before = {regency_id: (int(n), newest, as_of) for regency_id, n, newest, as_of in cur.fetchall()}
    run(_q("SELECT regency_id, imports, newest_import_id FROM {clearing_mark} WHERE regency_id = ANY(%(regs)s)"))
    marks = {regency_id: (int(n), newest) for regency_id, n, newest in cur.fetchall()}
    in_order = not ctx.outdated and all(
        as_of < ctx.as_of for _n, _newest, as_of in before.values()
    )
    current = all(marks.get(r, (0, None)) == before.get(r, (0, None, None))[:2] for r in regs)
    if not (in_order and current):
        rebuild_clearing_history(cur, regs, applying_import_id=ctx.import_id)
        return
    event = (
        "jsonb_build_object('from', {s}.last_as_of, 'months', {s}.last_months, 'cleared', %(as_of)s::date,"
        " 'next', NULL, 'next_months', NULL)"
    )
    zero_clears = sql.SQL(
        "(EXCLUDED.last_months = 0 AND c.last_months > 0 AND NOT c.last_cleared)"
    )
    # One row per participant and regency of the list: a record in arrears is the first after any
    # clearing still waiting for one; a record at zero after one in arrears clears it (unless a
    # full list without the participant already did). A record listed not active makes the
    # participant "once in arrears" in the regency for good (the list is newer than every applied
    # one here, so the WHERE below lets every row of the list through).
    run(_q(
        "INSERT INTO {clearing} AS c (regency_id, participant_id, last_as_of, last_months, last_cleared,"
        " awaiting_next, clearings, once_in_arrears) "
        "SELECT regency_id, participant_id, %(as_of)s, months, FALSE, FALSE, '[]'::jsonb, inactive FROM imp_hist "
        "ON CONFLICT (participant_id, regency_id) DO UPDATE SET "
        "once_in_arrears = c.once_in_arrears OR EXCLUDED.once_in_arrears, "
        "clearings = CASE "
        " WHEN EXCLUDED.last_months > 0 AND c.awaiting_next THEN ("
        "  SELECT jsonb_agg(CASE WHEN e.value->'next' = 'null'::jsonb"
        "   THEN e.value || jsonb_build_object('next', %(as_of)s::date, 'next_months', EXCLUDED.last_months)"
        "   ELSE e.value END ORDER BY e.ordinality)"
        "  FROM jsonb_array_elements(c.clearings) WITH ORDINALITY e)"
        " WHEN {zero_clears} THEN c.clearings || jsonb_build_array({event}) "
        " ELSE c.clearings END, "
        "awaiting_next = CASE WHEN EXCLUDED.last_months > 0 THEN FALSE "
        " WHEN {zero_clears} THEN TRUE ELSE c.awaiting_next END, "
        "last_as_of = EXCLUDED.last_as_of, last_months = EXCLUDED.last_months, last_cleared = FALSE "
        "WHERE c.last_as_of IS NULL OR c.last_as_of < EXCLUDED.last_as_of",
        zero_clears=zero_clears, event=sql.SQL(event).format(s=sql.Identifier("c")),
    ))
    _analyze_if_underestimated(cur, ctx.regency_ids, written=cur.rowcount, tables=(ClearingHistory,))
    if ctx.full_mode:
        # A full list clears everyone of its regencies whose newest record was in arrears and who
        # is not on it (even when the apply keeps them in the list for unreadable rows: screening
        # has always read a full list that way).
        run(_q(
            "UPDATE {clearing} h SET clearings = h.clearings || jsonb_build_array({event}), "
            "awaiting_next = TRUE, last_cleared = TRUE "
            "WHERE h.regency_id = ANY(%(regs)s) AND h.last_months > 0 AND NOT h.last_cleared "
            "AND h.last_as_of < %(as_of)s",
            event=sql.SQL(event).format(s=sql.Identifier("h")),
        ))
    _write_marks(cur, regs, this=ctx.import_id)


def _someone_is_absent(run: _Run, cur: CursorWrapper, on_the_list: int) -> bool:
    """Whether the branch has more participants not cleared than the file names (every
    row of the file is one of them now): if not, there is nobody to clear."""
    # From the standing: an index-only count (the participant table has no index on status).
    run(_q("SELECT count(*) FROM {standing} WHERE regency_id = ANY(%(regs)s) AND status <> %(cleared)s"))
    return int(cur.fetchone()[0]) > on_the_list


def _history(run: _Run, cur: CursorWrapper, s: str) -> tuple[int, dict[str, int]]:
    """One ArrearsRecord per valid row; returns (rows, rows per regency code)."""
    run(_q("SELECT count(*) FROM {staging}", staging=sql.Identifier(s)))
    rows = int(cur.fetchone()[0])
    # The records written, for the clearing history (`_clearing_history`): listed not active or not.
    run(sql.SQL(
        "CREATE TEMP TABLE imp_hist (participant_id bigint, regency_id bigint, months int, inactive boolean)"
        " ON COMMIT DROP"
    ))
    with _rebuilding_indexes(cur, ArrearsRecord._meta.db_table, new_rows=rows):
        run(_q(
            "WITH h AS (INSERT INTO {record} (regency_id, arrears_import_id,"
            " participant_id, as_of, row_number, months_in_arrears, arrears_amount, bpjs_status,"
            " last_paid_date, care_class, segment, written_off, in_rehab, rehab_instalments_left) "
            "SELECT x.regency_id, %(imp)s, p.id, %(as_of)s, x.row_number, x.months_in_arrears,"
            " x.arrears_amount, x.bpjs_status, x.last_paid_date, x.care_class, x.segment,"
            " x.written_off, x.in_rehab, x.rehab_instalments_left "
            "FROM imp_rows x JOIN {participant} p ON p.card_number = x.card_number "
            "WHERE p.regency_id = ANY(%(regs)s) RETURNING regency_id, participant_id, months_in_arrears, bpjs_status), "
            "kept AS (INSERT INTO imp_hist SELECT participant_id, regency_id, months_in_arrears,"
            " bpjs_status = %(bpjs_inactive)s FROM h) "
            "SELECT r.code, count(*) FROM h JOIN imp_reg r ON r.id = h.regency_id "
            "GROUP BY r.code ORDER BY r.code"
        ))
        counts = {code: int(n) for code, n in cur.fetchall()}
    return sum(counts.values()), counts


@dataclass(frozen=True)
class _Index:
    name: str
    drop: sql.Composable
    create: sql.Composable


def _secondary_indexes(cur: CursorWrapper, table: str) -> list[_Index]:
    """Every index of `table` but the primary key, with the SQL that makes it again
    exactly as the migrations made it (same name, same definition: the catalog's own)."""
    cur.execute(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid), c.conname, pg_get_constraintdef(c.oid) "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary ORDER BY i.relname",
        [table],
    )
    indexes = []
    for name, index_def, constraint, constraint_def in cur.fetchall():
        if constraint:
            indexes.append(
                _Index(
                    name=constraint,
                    drop=sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                        sql.Identifier(table), sql.Identifier(constraint)),
                    create=sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                        sql.Identifier(table), sql.Identifier(constraint), sql.SQL(constraint_def)),
                )
            )
        else:
            indexes.append(_Index(name=name, drop=sql.SQL("DROP INDEX {}").format(sql.Identifier(name)),
                                  create=sql.SQL(index_def)))
    return indexes


def _worth_rebuilding(cur: CursorWrapper, table: str, *, new_rows: int) -> bool:
    """At least BULK_MIN_ROWS new rows, and at least as many as the table holds
    (the planner's estimate, kept current by ANALYZE and by every index build)."""
    if new_rows < BULK_MIN_ROWS:
        return False
    cur.execute("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass", [table])
    return new_rows >= int(cur.fetchone()[0])


@contextlib.contextmanager
def _rebuilding_indexes(cur: CursorWrapper, table: str, *, new_rows: int) -> Iterator[bool]:
    """Around an INSERT of `new_rows` into `table`: when that at least doubles the table,
    drop its secondary indexes first and build them again after (same transaction, so a
    failure leaves them as they were). Yields whether it did.

    Dropping an index takes the table's ACCESS EXCLUSIVE lock until the apply commits:
    readers of the table wait that long (seconds, once per branch's first list). If
    other sessions hold the table for more than `_BULK_LOCK_TIMEOUT`, the indexes stay
    and the insert maintains them row by row.

    A partitioned table (the history, one partition per list month) keeps its indexes: they
    span every month, while the insert fills one month's partition.
    """
    cur.execute("SELECT relkind = 'p' FROM pg_class WHERE oid = %s::regclass", [table])
    if cur.fetchone()[0] or not _worth_rebuilding(cur, table, new_rows=new_rows):
        yield False
        return
    indexes = _secondary_indexes(cur, table)
    try:
        with transaction.atomic():
            cur.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(_BULK_LOCK_TIMEOUT)))
            cur.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.Identifier(table)))
            for index in indexes:
                cur.execute(index.drop)
    except DatabaseError:
        logger.info("%s: busy, indexes kept for the insert", table, exc_info=True)
        yield False
        return
    cur.execute("SET LOCAL lock_timeout = 0; SET LOCAL maintenance_work_mem = '256MB'")
    yield True
    for index in indexes:
        cur.execute(index.create)
    # The planner's picture of the table is that of before the insert (often: empty).
    cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))


_ERROR_INSERT = 'INSERT INTO {row_error} (arrears_import_id, "row", "column", message, value) '


def _remove_foreign_regency_rows(run: _Run, cur: CursorWrapper, s: str, places: str) -> int:
    """Defensive: the parser already routes by the branch's codes."""
    before, after = _split(_("Kode wilayah {} bukan wilayah cabang ini."))
    run(
        _q(
            "WITH bad AS (DELETE FROM {staging} t USING {places} pl "
            "WHERE pl.place_key = t.place_key "
            "AND NOT EXISTS (SELECT 1 FROM imp_reg r WHERE r.code = pl.regency_code) "
            "RETURNING t.row_number, pl.regency_code) "
            "{error_insert}"
            "SELECT %(imp)s, row_number, %(col_regency)s, %(b)s || regency_code || %(a)s, regency_code "
            "FROM bad",
            staging=sql.Identifier(s), places=sql.Identifier(places), error_insert=_q(_ERROR_INSERT),
        ),
        {"b": before, "a": after},
    )
    return cur.rowcount


def _remove_foreign_cards(run: _Run, cur: CursorWrapper, s: str) -> int:
    before, after = _split(
        _(
            "Nomor kartu ini sudah terdaftar di {}, di luar wilayah cabang ini; "
            "baris tidak diterapkan."
        )
    )
    # One probe of the card number index per row of the file: left to itself the planner hashes
    # the file and reads every participant of the installation (each regency's, the cleared
    # ones too), a cost that grows with everyone ever listed anywhere, not with this list.
    run(sql.SQL("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"))
    run(
        _q(
            "WITH bad AS (DELETE FROM {staging} t USING {participant} p, {regency} r "
            "WHERE p.card_number = t.card_number AND r.id = p.regency_id "
            "AND NOT (p.regency_id = ANY(%(regs)s)) "
            "RETURNING t.row_number, t.card_number, r.name, r.code) "
            "{error_insert}"
            "SELECT %(imp)s, row_number, %(col_card)s, %(b)s || name || ' (' || code || ')' || %(a)s, "
            "card_number FROM bad",
            staging=sql.Identifier(s), error_insert=_q(_ERROR_INSERT),
        ),
        {"b": before, "a": after},
    )
    removed = cur.rowcount
    run(sql.SQL("SET LOCAL enable_hashjoin = on; SET LOCAL enable_mergejoin = on"))
    return removed


def _places(run: _Run, places: str) -> None:
    """The distinct place spellings of the file (a few thousand at most), with their
    normalised names: names are normalised once per spelling, not once per row."""
    run(_q(
        "CREATE TEMP TABLE imp_place ON COMMIT DROP AS "
        "SELECT t.place_key, r.id AS regency_id, t.regency_code, t.district_code, t.district_name, "
        "t.village_code, t.village_name, {dkey} AS dkey, "
        "{vkey} AS vkey, NULL::bigint AS district_id, NULL::bigint AS village_id "
        "FROM {places} t JOIN imp_reg r ON r.code = t.regency_code",
        dkey=_norm("t.district_name"), vkey=_norm("t.village_name"), places=sql.Identifier(places),
    ))


def _districts(run: _Run, places: str) -> None:
    _places(run, places)
    run(sql.SQL(
        "CREATE TEMP TABLE imp_d ON COMMIT DROP AS "
        "SELECT p.regency_id, p.district_code AS code, p.dkey AS key, "
        "min(btrim(p.district_name)) AS name, NULL::bigint AS district_id "
        "FROM imp_place p WHERE p.district_code <> '' OR p.dkey <> '' GROUP BY 1, 2, 3"
    ))
    d_key = _norm("d.name")
    # A district known by name only gets the code the file gives it.
    run(_q(
        "WITH cand AS (SELECT DISTINCT ON (m.regency_id, m.code) d.id, m.code "
        "FROM imp_d m JOIN {district} d ON d.regency_id = m.regency_id AND d.code = '' "
        "AND {d_key} = m.key WHERE m.code <> '' AND m.key <> '' "
        "AND NOT EXISTS (SELECT 1 FROM {district} d2 WHERE d2.regency_id = m.regency_id "
        "AND d2.code = m.code) ORDER BY m.regency_id, m.code, d.id), "
        "one AS (SELECT DISTINCT ON (id) id, code FROM cand ORDER BY id, code) "
        "UPDATE {district} d SET code = one.code FROM one WHERE d.id = one.id",
        d_key=d_key,
    ))
    run(_q(
        "INSERT INTO {district} (regency_id, code, name) "
        "SELECT DISTINCT ON (m.regency_id, m.code) m.regency_id, m.code, "
        "CASE WHEN m.name <> '' THEN m.name ELSE m.code END FROM imp_d m WHERE m.code <> '' "
        "AND NOT EXISTS (SELECT 1 FROM {district} d WHERE d.regency_id = m.regency_id "
        "AND d.code = m.code) "
        "AND NOT EXISTS (SELECT 1 FROM {district} d WHERE d.regency_id = m.regency_id "
        "AND m.key <> '' AND {d_key} = m.key) "
        "ORDER BY m.regency_id, m.code, m.key ON CONFLICT DO NOTHING",
        d_key=d_key,
    ))
    run(_q(
        "INSERT INTO {district} (regency_id, code, name) "
        "SELECT DISTINCT ON (m.regency_id, m.key) m.regency_id, '', m.name FROM imp_d m "
        "WHERE m.code = '' AND m.key <> '' "
        "AND NOT EXISTS (SELECT 1 FROM {district} d WHERE d.regency_id = m.regency_id "
        "AND {d_key} = m.key) ORDER BY m.regency_id, m.key, m.name ON CONFLICT DO NOTHING",
        d_key=d_key,
    ))
    run(_q(
        "UPDATE imp_d m SET district_id = d.id FROM {district} d "
        "WHERE m.code <> '' AND d.regency_id = m.regency_id AND d.code = m.code"
    ))
    run(_q(
        "UPDATE imp_d m SET district_id = x.id FROM (SELECT DISTINCT ON (d.regency_id, "
        "{d_key}) d.id, d.regency_id, {d_key} AS key FROM {district} d "
        "WHERE d.regency_id = ANY(%(regs)s) ORDER BY d.regency_id, {d_key}, d.id) x "
        "WHERE m.district_id IS NULL AND m.key <> '' AND x.regency_id = m.regency_id AND x.key = m.key",
        d_key=d_key,
    ))
    run(sql.SQL(
        "UPDATE imp_place p SET district_id = m.district_id FROM imp_d m "
        "WHERE m.regency_id = p.regency_id AND m.code = p.district_code AND m.key = p.dkey"
    ))


def _villages(run: _Run) -> None:
    run(sql.SQL(
        "CREATE TEMP TABLE imp_v ON COMMIT DROP AS "
        "SELECT p.regency_id, coalesce(p.district_id, 0) AS dkey, p.district_id, "
        "p.village_code AS code, p.vkey AS key, min(btrim(p.village_name)) AS name, "
        "NULL::bigint AS village_id FROM imp_place p "
        "WHERE p.village_code <> '' OR p.vkey <> '' GROUP BY 1, 2, 3, 4, 5"
    ))
    v_key = _norm("v.name")
    run(_q(
        "WITH cand AS (SELECT DISTINCT ON (m.regency_id, m.code) v.id, m.code "
        "FROM imp_v m JOIN {village} v ON v.district_id = m.district_id AND v.code = '' "
        "AND {v_key} = m.key WHERE m.code <> '' AND m.key <> '' "
        "AND NOT EXISTS (SELECT 1 FROM {village} v2 WHERE v2.regency_id = m.regency_id "
        "AND v2.code = m.code) ORDER BY m.regency_id, m.code, v.id), "
        "one AS (SELECT DISTINCT ON (id) id, code FROM cand ORDER BY id, code) "
        "UPDATE {village} v SET code = one.code FROM one WHERE v.id = one.id",
        v_key=v_key,
    ))
    run(_q(
        "INSERT INTO {village} (regency_id, district_id, code, name) "
        "SELECT DISTINCT ON (m.regency_id, m.code) m.regency_id, m.district_id, m.code, "
        "CASE WHEN m.name <> '' THEN m.name ELSE m.code END FROM imp_v m "
        "WHERE m.code <> '' AND m.district_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM {village} v WHERE v.regency_id = m.regency_id "
        "AND v.code = m.code) "
        "AND NOT EXISTS (SELECT 1 FROM {village} v WHERE v.district_id = m.district_id "
        "AND m.key <> '' AND {v_key} = m.key) "
        "ORDER BY m.regency_id, m.code, m.key ON CONFLICT DO NOTHING",
        v_key=v_key,
    ))
    run(_q(
        "INSERT INTO {village} (regency_id, district_id, code, name) "
        "SELECT DISTINCT ON (m.district_id, m.key) m.regency_id, m.district_id, '', m.name "
        "FROM imp_v m WHERE m.code = '' AND m.key <> '' AND m.district_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM {village} v WHERE v.district_id = m.district_id "
        "AND {v_key} = m.key) ORDER BY m.district_id, m.key, m.name ON CONFLICT DO NOTHING",
        v_key=v_key,
    ))
    run(_q(
        "UPDATE imp_v m SET village_id = v.id FROM {village} v "
        "WHERE m.code <> '' AND v.regency_id = m.regency_id AND v.code = m.code"
    ))
    run(_q(
        "UPDATE imp_v m SET village_id = x.id FROM (SELECT DISTINCT ON (v.district_id, "
        "{v_key}) v.id, v.district_id, {v_key} AS key FROM {village} v "
        "WHERE v.regency_id = ANY(%(regs)s) ORDER BY v.district_id, {v_key}, v.id) x "
        "WHERE m.village_id IS NULL AND m.key <> '' AND x.district_id = m.district_id "
        "AND x.key = m.key",
        v_key=v_key,
    ))
    # A village matched by code brings its district when the file named none.
    run(_q(
        "UPDATE imp_v m SET district_id = v.district_id FROM {village} v "
        "WHERE m.district_id IS NULL AND v.id = m.village_id"
    ))
    run(sql.SQL(
        "UPDATE imp_place p SET village_id = m.village_id, "
        "district_id = coalesce(m.district_id, p.district_id) FROM imp_v m "
        "WHERE m.regency_id = p.regency_id AND m.dkey = coalesce(p.district_id, 0) "
        "AND m.code = p.village_code AND m.key = p.vkey"
    ))


def _resolve_rows(run: _Run, s: str) -> None:
    """`imp_rows`: each valid staging row with its regency, district and village ids.

    A view, not a copy: joining the few thousand place spellings again on each read
    costs less than writing and analysing a second table of the whole file. The join is
    on the one integer the loader gave each spelling (`PlaceKeys`), so the planner
    knows it keeps every row."""
    run(sql.SQL("ANALYZE imp_place"))
    run(_q(
        "CREATE TEMP VIEW imp_rows AS "
        "SELECT t.*, p.regency_id, p.district_id, p.village_id "
        "FROM {staging} t JOIN imp_place p ON p.place_key = t.place_key",
        staging=sql.Identifier(s),
    ))


def _families(run: _Run, cur: CursorWrapper, *, outdated: bool) -> None:
    """Families by (regency, KK number): each takes the village of its first row."""
    run(sql.SQL(
        "CREATE TEMP TABLE imp_f ON COMMIT DROP AS "
        "SELECT x.regency_id, x.family_number AS number, x.village_id FROM imp_rows x "
        # the first row of each family (a hash aggregate: no sort of the whole file)
        "WHERE x.row_number IN (SELECT min(row_number) FROM imp_rows WHERE family_number <> '' "
        "GROUP BY regency_id, family_number)"
    ))
    if not outdated:
        run(_q(
            "UPDATE {family} f SET village_id = m.village_id, updated_at = now() "
            "FROM imp_f m WHERE f.regency_id = m.regency_id AND f.number = m.number "
            "AND m.village_id IS NOT NULL AND f.village_id IS DISTINCT FROM m.village_id"
        ))
    # What is left in imp_f is new.
    run(_q(
        "DELETE FROM imp_f m USING {family} f "
        "WHERE f.regency_id = m.regency_id AND f.number = m.number"
    ))
    run(sql.SQL("SELECT count(*) FROM imp_f"))
    with _rebuilding_indexes(cur, Family._meta.db_table, new_rows=int(cur.fetchone()[0])):
        run(_q(
            "INSERT INTO {family} (regency_id, number, village_id, created_at, updated_at) "
            "SELECT regency_id, number, village_id, now(), now() FROM imp_f"
        ))
    run(sql.SQL("DROP TABLE imp_f"))


# Participant columns whose values come from the file, with the expression for
# the new value (`n` = EXCLUDED, `p` = the existing row in the UPDATE).
_CURRENT = (
    ("regency_id", "n.regency_id"),
    ("nik", "n.nik"),
    ("name", "n.name"),
    ("birth_date", "n.birth_date"),
    ("sex", "n.sex"),
    ("relationship", "n.relationship"),
    ("care_class", "n.care_class"),
    ("segment", "n.segment"),
    # A file without family/district/village columns keeps what is known, in the same regency
    # only: a participant who moved to another regency never keeps the old one's rows.
    ("family_id", "CASE WHEN n.regency_id = p.regency_id THEN coalesce(n.family_id, p.family_id) ELSE n.family_id END"),
    ("district_id",
     "CASE WHEN n.regency_id = p.regency_id THEN coalesce(n.district_id, p.district_id) ELSE n.district_id END"),
    ("village_id",
     "CASE WHEN n.regency_id = p.regency_id THEN coalesce(n.village_id, p.village_id) ELSE n.village_id END"),
    ("address", "n.address"),
    ("months_in_arrears", "n.months_in_arrears"),
    ("arrears_amount", "n.arrears_amount"),
    ("last_paid_date", "n.last_paid_date"),
    ("bpjs_status", "n.bpjs_status"),
    ("status", "n.status"),
    ("cleared_at", "n.cleared_at"),
    # The columns of 2026 as the newest list gives them (NULL: the list does not say).
    ("written_off", "n.written_off"),
    ("in_rehab", "n.in_rehab"),
    ("rehab_instalments_left", "n.rehab_instalments_left"),
)


def _set_aside_new(run: _Run, s: str) -> None:
    run(_q(
        "CREATE TEMP TABLE imp_new ON COMMIT DROP AS SELECT x.card_number FROM {staging} x "
        "WHERE NOT EXISTS (SELECT 1 FROM {participant} p WHERE p.card_number = x.card_number)",
        staging=sql.Identifier(s),
    ))


def _participants(run: _Run, cur: CursorWrapper, ctx: ApplyContext) -> tuple[int, int]:
    """Update the known participants whose values changed, insert the new ones;
    returns (new, updated)."""
    s = staging_table_name(ctx.import_id)
    if ctx.outdated and ctx.newest_full_as_of is not None:
        # Not on the newer full list: known only from this older file.
        status, cleared_at = sql.SQL("%(cleared)s"), sql.SQL("%(newest)s::date")
    else:
        status = sql.SQL("CASE WHEN x.bpjs_status = %(bpjs_active)s THEN %(active)s ELSE %(inactive)s END")
        cleared_at = sql.SQL("NULL::date")
    columns = sql.SQL(", ").join(sql.Identifier(name) for name, _expr in _CURRENT)
    values = sql.SQL(
        "x.regency_id, x.nik, x.name, x.birth_date, x.sex, x.relationship, x.care_class,"
        " x.segment, f.id, x.district_id, x.village_id, x.address, x.months_in_arrears,"
        " x.arrears_amount, x.last_paid_date, x.bpjs_status, {status}, {cleared_at}, x.written_off,"
        " x.in_rehab, x.rehab_instalments_left, x.card_number"
    ).format(status=status, cleared_at=cleared_at)
    rows = _q(
        "FROM imp_rows x LEFT JOIN {family} f "
        "ON f.regency_id = x.regency_id AND f.number = x.family_number AND x.family_number <> ''"
    )
    extra = {"newest": ctx.newest_full_as_of}
    updated = 0
    if not ctx.outdated:
        exprs = sql.SQL(", ").join(sql.SQL(expr) for _name, expr in _CURRENT)
        run(
            _q(
                "UPDATE {participant} p SET ({columns}, last_import_id, as_of,"
                " updated_at) = ({exprs}, %(imp)s, %(as_of)s, now()) "
                "FROM (SELECT {values} {rows}) AS n ({columns}, card_number) "
                "WHERE p.card_number = n.card_number AND p.regency_id = ANY(%(regs)s) "
                "AND ({p_columns}) IS DISTINCT FROM ({exprs})",
                columns=columns, exprs=exprs, values=values, rows=rows,
                p_columns=sql.SQL(", ").join(sql.Identifier("p", name) for name, _expr in _CURRENT),
            ),
            extra,
        )
        updated = cur.rowcount
    run(_q("SELECT count(*), NOT EXISTS (SELECT 1 FROM {participant}) FROM {staging}",
           staging=sql.Identifier(s)))
    total, nobody_yet = cur.fetchone()
    # The new card numbers, set aside first: an INSERT whose anti-join reads the table it
    # writes to would scan its own new rows once the card number index is dropped. The
    # installation's first list skips this (every row is new) unless someone else's rows
    # arrive meanwhile (checked again below, under the lock).
    everyone_is_new = bool(nobody_yet)
    if not everyone_is_new:
        _set_aside_new(run, s)
        candidates = cur.rowcount
    else:
        candidates = int(total)
    new = 0
    if candidates:
        insert = _q(
            "INSERT INTO {participant} ({columns}, card_number, public_id,"
            " last_import_id, as_of, created_at, updated_at) "
            "SELECT {values}, x.public_id, %(imp)s, %(as_of)s, now(), now() {rows} ",
            columns=columns, values=values, rows=rows,
        )
        only_new = sql.SQL("JOIN imp_new n ON n.card_number = x.card_number ")
        with (_rebuilding_indexes(cur, Participant._meta.db_table, new_rows=candidates) as rebuilt,
              # the participants' standing, which their insert fills (participants/standing.py)
              _rebuilding_indexes(cur, Standing._meta.db_table, new_rows=candidates)):
            if rebuilt:
                # Nobody else inserts now (ACCESS EXCLUSIVE): a plain INSERT of the card numbers
                # that are still new (another branch may have committed some before the lock).
                if everyone_is_new:
                    run(_q("SELECT EXISTS (SELECT 1 FROM {participant})"))
                    if cur.fetchone()[0]:
                        everyone_is_new = False
                        _set_aside_new(run, s)
                else:
                    run(_q("DELETE FROM imp_new n USING {participant} p WHERE p.card_number = n.card_number"))
                run(insert if everyone_is_new else insert + only_new, extra)
            else:
                # Another branch may insert the same card number at this moment: the first to
                # commit keeps it, this one skips it (and reports the row afterwards).
                run(
                    (insert if everyone_is_new else insert + only_new)
                    + sql.SQL("ORDER BY x.card_number ON CONFLICT (card_number) DO NOTHING"),
                    extra,
                )
            new = cur.rowcount
    if not everyone_is_new:
        run(sql.SQL("DROP TABLE imp_new"))
    return new, updated
