# ruff: noqa: S608  (SQL is built from constants and an integer table suffix; values are parameters)
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
  g. `full` mode: the branch's participants absent from the file are cleared.
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
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.utils.translation import gettext as _

from participants.imports.staging import held_table_name, places_table_name, staging_table_name

logger = logging.getLogger(__name__)

# An insert of at least this many rows that at least doubles its table rebuilds the
# table's secondary indexes instead of maintaining them row by row.
BULK_MIN_ROWS = 20_000
# How long the apply waits for other sessions' reads to finish before it drops indexes;
# if they do not, it keeps the indexes and inserts row by row.
_BULK_LOCK_TIMEOUT = "2s"

# `lower(collapse-spaces(trim(x)))`: how names are compared.
_SPACES = r"'\s+'"


def _norm(expr: str) -> str:
    return f"lower(regexp_replace(btrim({expr}), {_SPACES}, ' ', 'g'))"


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
    s = staging_table_name(ctx.import_id)
    result = ApplyResult()
    report = progress or (lambda _pct: None)
    params = {
        "imp": ctx.import_id,
        "regs": list(ctx.regency_ids),
        "as_of": ctx.as_of,
    }
    with connection.cursor() as cur:

        def run(sql: str, extra: dict | None = None) -> None:
            cur.execute(sql, {**params, **(extra or {})})

        # These statements each read the whole file once: compiling them (JIT) costs
        # more than it saves, and a hash table of 200k wide rows wants more than 4 MB (one
        # apply per branch at a time: a few at most).
        run("SET LOCAL jit = off; SET LOCAL work_mem = '256MB'")
        run(
            "CREATE TEMP TABLE imp_reg ON COMMIT DROP AS "
            "SELECT id, code, name FROM regencies_regency WHERE id = ANY(%(regs)s)"
        )
        # The planner needs the size and the distinct card numbers; a small sample will do.
        run(
            f"SET LOCAL default_statistics_target = 10; ANALYZE {s} (card_number, place_key)"
        )
        result.removed += _remove_foreign_regency_rows(run, cur, s, ctx.import_id)
        result.removed += _remove_foreign_cards(run, cur, s)
        report(74)
        _districts(run, ctx.import_id)
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
                run(
                    "UPDATE participants_participant p SET status = 'cleared', cleared_at = %(as_of)s,"
                    " last_import_id = %(imp)s, updated_at = now() "
                    "WHERE p.regency_id = ANY(%(regs)s) AND p.status <> 'cleared' "
                    f"AND NOT EXISTS (SELECT 1 FROM {s} x WHERE x.card_number = p.card_number) "
                    f"AND NOT EXISTS (SELECT 1 FROM {held_table_name(ctx.import_id)} h"
                    " WHERE h.card_number = p.card_number)"
                )
                result.cleared = cur.rowcount
        result.unchanged = max(result.valid - result.new - result.updated, 0)
        run("DROP VIEW imp_rows")
        run(f"DROP TABLE {s}")
        run(f"DROP TABLE {held_table_name(ctx.import_id)}")
        run(f"DROP TABLE {places_table_name(ctx.import_id)}")
        run("DROP TABLE imp_d; DROP TABLE imp_v; DROP TABLE imp_place; DROP TABLE imp_reg")
    report(99)
    return result


def _someone_is_absent(run, cur, on_the_list: int) -> bool:
    """Whether the branch has more participants not cleared than the file names (every
    row of the file is one of them now): if not, there is nobody to clear."""
    run("SELECT count(*) FROM participants_participant WHERE regency_id = ANY(%(regs)s) AND status <> 'cleared'")
    return int(cur.fetchone()[0]) > on_the_list


def _history(run, cur, s: str) -> tuple[int, dict[str, int]]:
    """One ArrearsRecord per valid row; returns (rows, rows per regency code)."""
    run(f"SELECT count(*) FROM {s}")
    rows = int(cur.fetchone()[0])
    with _rebuilding_indexes(cur, "participants_arrearsrecord", new_rows=rows):
        run(
            "WITH h AS (INSERT INTO participants_arrearsrecord (regency_id, arrears_import_id,"
            " participant_id, as_of, row_number, months_in_arrears, arrears_amount, bpjs_status,"
            " last_paid_date, care_class, segment, written_off, in_rehab, rehab_instalments_left) "
            "SELECT x.regency_id, %(imp)s, p.id, %(as_of)s, x.row_number, x.months_in_arrears,"
            " x.arrears_amount, x.bpjs_status, x.last_paid_date, x.care_class, x.segment,"
            " x.written_off, x.in_rehab, x.rehab_instalments_left "
            "FROM imp_rows x JOIN participants_participant p ON p.card_number = x.card_number "
            "WHERE p.regency_id = ANY(%(regs)s) RETURNING regency_id) "
            "SELECT r.code, count(*) FROM h JOIN imp_reg r ON r.id = h.regency_id "
            "GROUP BY r.code ORDER BY r.code"
        )
        counts = {code: int(n) for code, n in cur.fetchall()}
    return sum(counts.values()), counts


@dataclass(frozen=True)
class _Index:
    name: str
    drop: str
    create: str


def _secondary_indexes(cur, table: str) -> list[_Index]:
    """Every index of `table` but the primary key, with the SQL that makes it again
    exactly as the migrations made it (same name, same definition)."""
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
                    drop=f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"',
                    create=f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {constraint_def}',
                )
            )
        else:
            indexes.append(_Index(name=name, drop=f'DROP INDEX "{name}"', create=index_def))
    return indexes


def _worth_rebuilding(cur, table: str, *, new_rows: int) -> bool:
    """At least BULK_MIN_ROWS new rows, and at least as many as the table holds
    (the planner's estimate, kept current by ANALYZE and by every index build)."""
    if new_rows < BULK_MIN_ROWS:
        return False
    cur.execute("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass", [table])
    return new_rows >= int(cur.fetchone()[0])


@contextlib.contextmanager
def _rebuilding_indexes(cur, table: str, *, new_rows: int) -> Iterator[bool]:
    """Around an INSERT of `new_rows` into `table`: when that at least doubles the table,
    drop its secondary indexes first and build them again after (same transaction, so a
    failure leaves them as they were). Yields whether it did.

    Dropping an index takes the table's ACCESS EXCLUSIVE lock until the apply commits:
    readers of the table wait that long (seconds, once per branch's first list). If
    other sessions hold the table for more than `_BULK_LOCK_TIMEOUT`, the indexes stay
    and the insert maintains them row by row.
    """
    if not _worth_rebuilding(cur, table, new_rows=new_rows):
        yield False
        return
    indexes = _secondary_indexes(cur, table)
    try:
        with transaction.atomic():
            cur.execute(f"SET LOCAL lock_timeout = '{_BULK_LOCK_TIMEOUT}'")
            cur.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
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
    cur.execute(f"ANALYZE {table}")


_ERROR_INSERT = (
    'INSERT INTO participants_importrowerror (arrears_import_id, "row", "column", message, value) '
)


def _remove_foreign_regency_rows(run, cur, s: str, import_id: int) -> int:
    """Defensive: the parser already routes by the branch's codes."""
    before, after = _split(_("Kode wilayah {} bukan wilayah cabang ini."))
    run(
        f"WITH bad AS (DELETE FROM {s} t USING {places_table_name(import_id)} pl "
        "WHERE pl.place_key = t.place_key "
        "AND NOT EXISTS (SELECT 1 FROM imp_reg r WHERE r.code = pl.regency_code) "
        "RETURNING t.row_number, pl.regency_code) "
        + _ERROR_INSERT
        + "SELECT %(imp)s, row_number, 'kode_wilayah', %(b)s || regency_code || %(a)s, regency_code "
        "FROM bad",
        {"b": before, "a": after},
    )
    return cur.rowcount


def _remove_foreign_cards(run, cur, s: str) -> int:
    before, after = _split(
        _(
            "Nomor kartu ini sudah terdaftar di {}, di luar wilayah cabang ini; "
            "baris tidak diterapkan."
        )
    )
    run(
        f"WITH bad AS (DELETE FROM {s} t USING participants_participant p, regencies_regency r "
        f"WHERE p.card_number = t.card_number AND r.id = p.regency_id "
        f"AND NOT (p.regency_id = ANY(%(regs)s)) "
        f"RETURNING t.row_number, t.card_number, r.name, r.code) "
        + _ERROR_INSERT
        + "SELECT %(imp)s, row_number, 'no_kartu', %(b)s || name || ' (' || code || ')' || %(a)s, "
        "card_number FROM bad",
        {"b": before, "a": after},
    )
    return cur.rowcount


def _places(run, import_id: int) -> None:
    """The distinct place spellings of the file (a few thousand at most), with their
    normalised names: names are normalised once per spelling, not once per row."""
    run(
        "CREATE TEMP TABLE imp_place ON COMMIT DROP AS "
        "SELECT t.place_key, r.id AS regency_id, t.regency_code, t.district_code, t.district_name, "
        f"t.village_code, t.village_name, {_norm('t.district_name')} AS dkey, "
        f"{_norm('t.village_name')} AS vkey, NULL::bigint AS district_id, NULL::bigint AS village_id "
        f"FROM {places_table_name(import_id)} t JOIN imp_reg r ON r.code = t.regency_code"
    )


def _districts(run, import_id: int) -> None:
    _places(run, import_id)
    run(
        "CREATE TEMP TABLE imp_d ON COMMIT DROP AS "
        "SELECT p.regency_id, p.district_code AS code, p.dkey AS key, "
        "min(btrim(p.district_name)) AS name, NULL::bigint AS district_id "
        "FROM imp_place p WHERE p.district_code <> '' OR p.dkey <> '' GROUP BY 1, 2, 3"
    )
    d_key = _norm("d.name")
    # A district known by name only gets the code the file gives it.
    run(
        "WITH cand AS (SELECT DISTINCT ON (m.regency_id, m.code) d.id, m.code "
        "FROM imp_d m JOIN regencies_district d ON d.regency_id = m.regency_id AND d.code = '' "
        f"AND {d_key} = m.key WHERE m.code <> '' AND m.key <> '' "
        "AND NOT EXISTS (SELECT 1 FROM regencies_district d2 WHERE d2.regency_id = m.regency_id "
        "AND d2.code = m.code) ORDER BY m.regency_id, m.code, d.id), "
        "one AS (SELECT DISTINCT ON (id) id, code FROM cand ORDER BY id, code) "
        "UPDATE regencies_district d SET code = one.code FROM one WHERE d.id = one.id"
    )
    run(
        "INSERT INTO regencies_district (regency_id, code, name) "
        "SELECT DISTINCT ON (m.regency_id, m.code) m.regency_id, m.code, "
        "CASE WHEN m.name <> '' THEN m.name ELSE m.code END FROM imp_d m WHERE m.code <> '' "
        "AND NOT EXISTS (SELECT 1 FROM regencies_district d WHERE d.regency_id = m.regency_id "
        "AND d.code = m.code) "
        "AND NOT EXISTS (SELECT 1 FROM regencies_district d WHERE d.regency_id = m.regency_id "
        f"AND m.key <> '' AND {d_key} = m.key) "
        "ORDER BY m.regency_id, m.code, m.key ON CONFLICT DO NOTHING"
    )
    run(
        "INSERT INTO regencies_district (regency_id, code, name) "
        "SELECT DISTINCT ON (m.regency_id, m.key) m.regency_id, '', m.name FROM imp_d m "
        "WHERE m.code = '' AND m.key <> '' "
        "AND NOT EXISTS (SELECT 1 FROM regencies_district d WHERE d.regency_id = m.regency_id "
        f"AND {d_key} = m.key) ORDER BY m.regency_id, m.key, m.name ON CONFLICT DO NOTHING"
    )
    run(
        "UPDATE imp_d m SET district_id = d.id FROM regencies_district d "
        "WHERE m.code <> '' AND d.regency_id = m.regency_id AND d.code = m.code"
    )
    run(
        "UPDATE imp_d m SET district_id = x.id FROM (SELECT DISTINCT ON (d.regency_id, "
        f"{d_key}) d.id, d.regency_id, {d_key} AS key FROM regencies_district d "
        f"WHERE d.regency_id = ANY(%(regs)s) ORDER BY d.regency_id, {d_key}, d.id) x "
        "WHERE m.district_id IS NULL AND m.key <> '' AND x.regency_id = m.regency_id AND x.key = m.key"
    )
    run(
        "UPDATE imp_place p SET district_id = m.district_id FROM imp_d m "
        "WHERE m.regency_id = p.regency_id AND m.code = p.district_code AND m.key = p.dkey"
    )


def _villages(run) -> None:
    run(
        "CREATE TEMP TABLE imp_v ON COMMIT DROP AS "
        "SELECT p.regency_id, coalesce(p.district_id, 0) AS dkey, p.district_id, "
        "p.village_code AS code, p.vkey AS key, min(btrim(p.village_name)) AS name, "
        "NULL::bigint AS village_id FROM imp_place p "
        "WHERE p.village_code <> '' OR p.vkey <> '' GROUP BY 1, 2, 3, 4, 5"
    )
    v_key = _norm("v.name")
    run(
        "WITH cand AS (SELECT DISTINCT ON (m.regency_id, m.code) v.id, m.code "
        "FROM imp_v m JOIN regencies_village v ON v.district_id = m.district_id AND v.code = '' "
        f"AND {v_key} = m.key WHERE m.code <> '' AND m.key <> '' "
        "AND NOT EXISTS (SELECT 1 FROM regencies_village v2 WHERE v2.regency_id = m.regency_id "
        "AND v2.code = m.code) ORDER BY m.regency_id, m.code, v.id), "
        "one AS (SELECT DISTINCT ON (id) id, code FROM cand ORDER BY id, code) "
        "UPDATE regencies_village v SET code = one.code FROM one WHERE v.id = one.id"
    )
    run(
        "INSERT INTO regencies_village (regency_id, district_id, code, name) "
        "SELECT DISTINCT ON (m.regency_id, m.code) m.regency_id, m.district_id, m.code, "
        "CASE WHEN m.name <> '' THEN m.name ELSE m.code END FROM imp_v m "
        "WHERE m.code <> '' AND m.district_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM regencies_village v WHERE v.regency_id = m.regency_id "
        "AND v.code = m.code) "
        "AND NOT EXISTS (SELECT 1 FROM regencies_village v WHERE v.district_id = m.district_id "
        f"AND m.key <> '' AND {v_key} = m.key) "
        "ORDER BY m.regency_id, m.code, m.key ON CONFLICT DO NOTHING"
    )
    run(
        "INSERT INTO regencies_village (regency_id, district_id, code, name) "
        "SELECT DISTINCT ON (m.district_id, m.key) m.regency_id, m.district_id, '', m.name "
        "FROM imp_v m WHERE m.code = '' AND m.key <> '' AND m.district_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM regencies_village v WHERE v.district_id = m.district_id "
        f"AND {v_key} = m.key) ORDER BY m.district_id, m.key, m.name ON CONFLICT DO NOTHING"
    )
    run(
        "UPDATE imp_v m SET village_id = v.id FROM regencies_village v "
        "WHERE m.code <> '' AND v.regency_id = m.regency_id AND v.code = m.code"
    )
    run(
        "UPDATE imp_v m SET village_id = x.id FROM (SELECT DISTINCT ON (v.district_id, "
        f"{v_key}) v.id, v.district_id, {v_key} AS key FROM regencies_village v "
        f"WHERE v.regency_id = ANY(%(regs)s) ORDER BY v.district_id, {v_key}, v.id) x "
        "WHERE m.village_id IS NULL AND m.key <> '' AND x.district_id = m.district_id "
        "AND x.key = m.key"
    )
    # A village matched by code brings its district when the file named none.
    run(
        "UPDATE imp_v m SET district_id = v.district_id FROM regencies_village v "
        "WHERE m.district_id IS NULL AND v.id = m.village_id"
    )
    run(
        "UPDATE imp_place p SET village_id = m.village_id, "
        "district_id = coalesce(m.district_id, p.district_id) FROM imp_v m "
        "WHERE m.regency_id = p.regency_id AND m.dkey = coalesce(p.district_id, 0) "
        "AND m.code = p.village_code AND m.key = p.vkey"
    )


def _resolve_rows(run, s: str) -> None:
    """`imp_rows`: each valid staging row with its regency, district and village ids.

    A view, not a copy: joining the few thousand place spellings again on each read
    costs less than writing and analysing a second table of the whole file. The join is
    on the one integer the loader gave each spelling (`PlaceKeys`), so the planner
    knows it keeps every row."""
    run("ANALYZE imp_place")
    run(
        "CREATE TEMP VIEW imp_rows AS "
        "SELECT t.*, p.regency_id, p.district_id, p.village_id "
        f"FROM {s} t JOIN imp_place p ON p.place_key = t.place_key"
    )


def _families(run, cur, *, outdated: bool) -> None:
    """Families by (regency, KK number): each takes the village of its first row."""
    run(
        "CREATE TEMP TABLE imp_f ON COMMIT DROP AS "
        "SELECT x.regency_id, x.family_number AS number, x.village_id FROM imp_rows x "
        # the first row of each family (a hash aggregate: no sort of the whole file)
        "WHERE x.row_number IN (SELECT min(row_number) FROM imp_rows WHERE family_number <> '' "
        "GROUP BY regency_id, family_number)"
    )
    if not outdated:
        run(
            "UPDATE participants_family f SET village_id = m.village_id, updated_at = now() "
            "FROM imp_f m WHERE f.regency_id = m.regency_id AND f.number = m.number "
            "AND m.village_id IS NOT NULL AND f.village_id IS DISTINCT FROM m.village_id"
        )
    # What is left in imp_f is new.
    run(
        "DELETE FROM imp_f m USING participants_family f "
        "WHERE f.regency_id = m.regency_id AND f.number = m.number"
    )
    run("SELECT count(*) FROM imp_f")
    with _rebuilding_indexes(cur, "participants_family", new_rows=int(cur.fetchone()[0])):
        run(
            "INSERT INTO participants_family (regency_id, number, village_id, created_at, updated_at) "
            "SELECT regency_id, number, village_id, now(), now() FROM imp_f"
        )
    run("DROP TABLE imp_f")


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


def _set_aside_new(run, staging: str) -> None:
    run(
        f"CREATE TEMP TABLE imp_new ON COMMIT DROP AS SELECT x.card_number FROM {staging} x "
        "WHERE NOT EXISTS (SELECT 1 FROM participants_participant p WHERE p.card_number = x.card_number)"
    )


def _participants(run, cur, ctx: ApplyContext) -> tuple[int, int]:
    """Update the known participants whose values changed, insert the new ones;
    returns (new, updated)."""
    if ctx.outdated and ctx.newest_full_as_of is not None:
        # Not on the newer full list: known only from this older file.
        status, cleared_at = "'cleared'", "%(newest)s::date"
    else:
        status = "CASE WHEN x.bpjs_status = 'active' THEN 'active' ELSE 'inactive' END"
        cleared_at = "NULL::date"
    columns = [name for name, _expr in _CURRENT]
    values = (
        "x.regency_id, x.nik, x.name, x.birth_date, x.sex, x.relationship, x.care_class,"
        " x.segment, f.id, x.district_id, x.village_id, x.address, x.months_in_arrears,"
        f" x.arrears_amount, x.last_paid_date, x.bpjs_status, {status}, {cleared_at}, x.written_off,"
        " x.in_rehab, x.rehab_instalments_left, x.card_number"
    )
    rows = (
        "FROM imp_rows x LEFT JOIN participants_family f "
        "ON f.regency_id = x.regency_id AND f.number = x.family_number AND x.family_number <> ''"
    )
    extra = {"newest": ctx.newest_full_as_of}
    updated = 0
    if not ctx.outdated:
        exprs = [expr for _name, expr in _CURRENT]
        run(
            f"UPDATE participants_participant p SET ({', '.join(columns)}, last_import_id, as_of,"
            f" updated_at) = ({', '.join(exprs)}, %(imp)s, %(as_of)s, now()) "
            f"FROM (SELECT {values} {rows}) AS n ({', '.join(columns)}, card_number) "
            "WHERE p.card_number = n.card_number AND p.regency_id = ANY(%(regs)s) "
            f"AND ({', '.join('p.' + c for c in columns)}) IS DISTINCT FROM ({', '.join(exprs)})",
            extra,
        )
        updated = cur.rowcount
    staging = staging_table_name(ctx.import_id)
    run(f"SELECT count(*), NOT EXISTS (SELECT 1 FROM participants_participant) FROM {staging}")
    total, nobody_yet = cur.fetchone()
    # The new card numbers, set aside first: an INSERT whose anti-join reads the table it
    # writes to would scan its own new rows once the card number index is dropped. The
    # installation's first list skips this (every row is new) unless someone else's rows
    # arrive meanwhile (checked again below, under the lock).
    everyone_is_new = bool(nobody_yet)
    if not everyone_is_new:
        _set_aside_new(run, staging)
        candidates = cur.rowcount
    else:
        candidates = int(total)
    new = 0
    if candidates:
        insert = (
            f"INSERT INTO participants_participant ({', '.join(columns)}, card_number, public_id,"
            f" last_import_id, as_of, created_at, updated_at) "
            f"SELECT {values}, x.public_id, %(imp)s, %(as_of)s, now(), now() {rows} "
        )
        with _rebuilding_indexes(cur, "participants_participant", new_rows=candidates) as rebuilt:
            if rebuilt:
                # Nobody else inserts now (ACCESS EXCLUSIVE): a plain INSERT of the card numbers
                # that are still new (another branch may have committed some before the lock).
                if everyone_is_new:
                    run("SELECT EXISTS (SELECT 1 FROM participants_participant)")
                    if cur.fetchone()[0]:
                        everyone_is_new = False
                        _set_aside_new(run, staging)
                else:
                    run("DELETE FROM imp_new n USING participants_participant p WHERE p.card_number = n.card_number")
                run(insert + ("" if everyone_is_new else "JOIN imp_new n ON n.card_number = x.card_number"), extra)
            else:
                # Another branch may insert the same card number at this moment: the first to
                # commit keeps it, this one skips it (and reports the row afterwards).
                run(
                    insert
                    + ("" if everyone_is_new else "JOIN imp_new n ON n.card_number = x.card_number ")
                    + "ORDER BY x.card_number ON CONFLICT (card_number) DO NOTHING",
                    extra,
                )
            new = cur.rowcount
    if not everyone_is_new:
        run("DROP TABLE imp_new")
    return new, updated
