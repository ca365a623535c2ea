# ruff: noqa: S608  (SQL is built from constants and an integer table suffix; values are parameters)
"""Apply a loaded staging table: set-based SQL only, inside the caller's ONE transaction.

Steps (each one statement over the whole import, no per-row Python):
  a. rows of a regency outside the branch and card numbers repeated within the
     file (the first row counts) become row errors and leave staging;
  b. a card number already registered in a regency outside the branch: row error;
  c. districts and villages are matched (by code where given, else by name
     within the regency/district, case- and space-insensitive) or created;
  d. families are upserted by (regency, number);
  e. participants are upserted by card number, updating only rows that changed;
  f. one ArrearsRecord per valid row (the history);
  g. `full` mode: the branch's participants absent from the file are cleared.
An import older than the newest applied one of its branch writes the history
(and participants never seen before) but changes no current values.

The caller (services.import_run) holds the transaction and the branch lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection
from django.utils.translation import gettext as _

from participants.imports.staging import held_table_name, staging_table_name

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


def apply_staging(ctx: ApplyContext, *, progress: Callable[[int], None] | None = None) -> ApplyResult:
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

        run(
            "CREATE TEMP TABLE imp_reg ON COMMIT DROP AS "
            "SELECT id, code, name FROM regencies_regency WHERE id = ANY(%(regs)s)"
        )
        run(f"ANALYZE {s}")
        result.removed += _remove_foreign_regency_rows(run, cur, s)
        result.removed += _remove_repeats(run, cur, s)
        result.removed += _remove_foreign_cards(run, cur, s)
        report(74)
        _districts(run, s)
        _villages(run, s)
        report(78)
        _resolve_rows(run, s)
        _families(run, outdated=ctx.outdated)
        report(82)
        result.new, result.updated = _participants(run, cur, ctx)
        report(90)
        run(
            "INSERT INTO participants_arrearsrecord (regency_id, arrears_import_id, participant_id, as_of,"
            " row_number, months_in_arrears, arrears_amount, bpjs_status, last_paid_date, care_class,"
            " segment) "
            "SELECT x.regency_id, %(imp)s, p.id, %(as_of)s, x.row_number, x.months_in_arrears,"
            " x.arrears_amount, x.bpjs_status, x.last_paid_date, x.care_class, x.segment "
            "FROM imp_rows x JOIN participants_participant p ON p.card_number = x.card_number "
            "WHERE p.regency_id = ANY(%(regs)s)"
        )
        result.valid = cur.rowcount
        report(95)
        if ctx.full_mode and not ctx.outdated:
            if ctx.may_clear:
                run(
                    "UPDATE participants_participant p SET status = 'cleared', cleared_at = %(as_of)s,"
                    " last_import_id = %(imp)s, updated_at = now() "
                    "WHERE p.regency_id = ANY(%(regs)s) AND p.status <> 'cleared' "
                    "AND NOT EXISTS (SELECT 1 FROM imp_rows x WHERE x.card_number = p.card_number) "
                    f"AND NOT EXISTS (SELECT 1 FROM {held_table_name(ctx.import_id)} h"
                    " WHERE h.card_number = p.card_number)"
                )
                result.cleared = cur.rowcount
            else:
                result.notes.append(
                    _(
                        "Berkas ini berisi baris tidak valid yang nomor kartunya tidak terbaca, "
                        "jadi peserta yang tidak ada di berkas TIDAK ditandai keluar dari daftar. "
                        "Perbaiki baris tersebut lalu unggah ulang daftar lengkapnya."
                    )
                )
        result.unchanged = max(result.valid - result.new - result.updated, 0)
        run("SELECT regency_code, count(*) FROM imp_rows GROUP BY regency_code ORDER BY regency_code")
        result.regency_counts = {code: int(n) for code, n in cur.fetchall()}
        run(f"DROP TABLE {s}")
        run(f"DROP TABLE {held_table_name(ctx.import_id)}")
        run("DROP TABLE imp_rows; DROP TABLE imp_d; DROP TABLE imp_v; DROP TABLE imp_place; DROP TABLE imp_reg")
    report(99)
    return result


_ERROR_INSERT = (
    'INSERT INTO participants_importrowerror (arrears_import_id, "row", "column", message, value) '
)


def _remove_foreign_regency_rows(run, cur, s: str) -> int:
    """Defensive: the parser already routes by the branch's codes."""
    before, after = _split(_("Kode wilayah {} bukan wilayah cabang ini."))
    run(
        f"WITH bad AS (DELETE FROM {s} t WHERE NOT EXISTS "
        f"(SELECT 1 FROM imp_reg r WHERE r.code = t.regency_code) "
        f"RETURNING t.row_number, t.regency_code) "
        + _ERROR_INSERT
        + "SELECT %(imp)s, row_number, 'kode_wilayah', %(b)s || regency_code || %(a)s, regency_code "
        "FROM bad",
        {"b": before, "a": after},
    )
    return cur.rowcount


def _remove_repeats(run, cur, s: str) -> int:
    before, after = _split(
        _("Nomor kartu ini sudah ada di baris {}; hanya baris pertama yang dipakai.")
    )
    run(
        f"WITH firsts AS (SELECT card_number, min(row_number) AS first_row FROM {s} "
        f"GROUP BY card_number HAVING count(*) > 1), "
        f"dup AS (DELETE FROM {s} t USING firsts f WHERE t.card_number = f.card_number "
        f"AND t.row_number > f.first_row RETURNING t.row_number, t.card_number, f.first_row) "
        + _ERROR_INSERT
        + "SELECT %(imp)s, row_number, 'no_kartu', %(b)s || first_row::text || %(a)s, card_number "
        "FROM dup",
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


def _places(run, s: str) -> None:
    """The distinct place spellings of the file (a few thousand at most), with their
    normalised names: names are normalised once per spelling, not once per row."""
    run(
        "CREATE TEMP TABLE imp_place ON COMMIT DROP AS "
        "SELECT r.id AS regency_id, t.regency_code, t.district_code, t.district_name, "
        f"t.village_code, t.village_name, {_norm('t.district_name')} AS dkey, "
        f"{_norm('t.village_name')} AS vkey, NULL::bigint AS district_id, NULL::bigint AS village_id "
        "FROM (SELECT DISTINCT regency_code, district_code, district_name, village_code, village_name "
        f"FROM {s}) t JOIN imp_reg r ON r.code = t.regency_code"
    )


def _districts(run, s: str) -> None:
    _places(run, s)
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


def _villages(run, s: str) -> None:
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
    """One row per valid staging row with its regency, district and village ids."""
    run(
        "CREATE TEMP TABLE imp_rows ON COMMIT DROP AS "
        "SELECT t.*, p.regency_id, p.district_id, p.village_id "
        f"FROM {s} t JOIN imp_place p ON p.regency_code = t.regency_code "
        "AND p.district_code = t.district_code AND p.district_name = t.district_name "
        "AND p.village_code = t.village_code AND p.village_name = t.village_name"
    )
    run("ANALYZE imp_rows")


def _families(run, *, outdated: bool) -> None:
    conflict = (
        "DO NOTHING"
        if outdated
        else "DO UPDATE SET village_id = EXCLUDED.village_id, updated_at = EXCLUDED.updated_at "
        "WHERE EXCLUDED.village_id IS NOT NULL "
        "AND participants_family.village_id IS DISTINCT FROM EXCLUDED.village_id"
    )
    run(
        "INSERT INTO participants_family (regency_id, number, village_id, created_at, updated_at) "
        "SELECT DISTINCT ON (x.regency_id, x.family_number) x.regency_id, x.family_number, "
        "x.village_id, now(), now() FROM imp_rows x WHERE x.family_number <> '' "
        "ORDER BY x.regency_id, x.family_number, x.row_number "
        f"ON CONFLICT (regency_id, number) {conflict}"
    )


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
    # A file without family/district/village columns keeps what is known.
    ("family_id", "coalesce(n.family_id, p.family_id)"),
    ("district_id", "coalesce(n.district_id, p.district_id)"),
    ("village_id", "coalesce(n.village_id, p.village_id)"),
    ("address", "n.address"),
    ("months_in_arrears", "n.months_in_arrears"),
    ("arrears_amount", "n.arrears_amount"),
    ("last_paid_date", "n.last_paid_date"),
    ("bpjs_status", "n.bpjs_status"),
    ("status", "n.status"),
    ("cleared_at", "n.cleared_at"),
)


def _participants(run, cur, ctx: ApplyContext) -> tuple[int, int]:
    """Upsert; returns (new, updated)."""
    if ctx.outdated and ctx.newest_full_as_of is not None:
        # Not on the newer full list: known only from this older file.
        status, cleared_at = "'cleared'", "%(newest)s::date"
    else:
        status = "CASE WHEN x.bpjs_status = 'active' THEN 'active' ELSE 'inactive' END"
        cleared_at = "NULL::date"
    columns = [name for name, _expr in _CURRENT]
    select = (
        "SELECT x.regency_id, x.nik, x.name, x.birth_date, x.sex, x.relationship, x.care_class,"
        " x.segment, f.id, x.district_id, x.village_id, x.address, x.months_in_arrears,"
        f" x.arrears_amount, x.last_paid_date, x.bpjs_status, {status}, {cleared_at},"
        " x.card_number, gen_random_uuid(), %(imp)s, %(as_of)s, now(), now() "
        "FROM imp_rows x LEFT JOIN participants_family f "
        "ON f.regency_id = x.regency_id AND f.number = x.family_number AND x.family_number <> ''"
    )
    insert = (
        f"INSERT INTO participants_participant AS p ({', '.join(columns)}, card_number, public_id,"
        " last_import_id, as_of, created_at, updated_at) " + select
    )
    if ctx.outdated:
        conflict = "ON CONFLICT (card_number) DO NOTHING"
    else:
        exprs = [expr.replace("n.", "EXCLUDED.") for _name, expr in _CURRENT]
        sets = ", ".join(f"{name} = {expr}" for name, expr in zip(columns, exprs, strict=True))
        conflict = (
            f"ON CONFLICT (card_number) DO UPDATE SET {sets}, last_import_id = EXCLUDED.last_import_id,"
            " as_of = EXCLUDED.as_of, updated_at = EXCLUDED.updated_at "
            f"WHERE p.regency_id = ANY(%(regs)s) AND ({', '.join('p.' + c for c in columns)}) "
            f"IS DISTINCT FROM ({', '.join(exprs)})"
        )
    run(
        f"WITH up AS ({insert} {conflict} RETURNING (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up",
        {"newest": ctx.newest_full_as_of},
    )
    new, updated = cur.fetchone()
    return int(new), int(updated)
