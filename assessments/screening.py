"""Screening: flags from each participant's import history, computed set-based in SQL.

A record of at least N months in arrears "cleared" when the next list of the regency showed
0 months, or a full-mode list of the regency dated before the next record did not name the
participant; a relapse is the first record in arrears after the clearing, within M months.
The import keeps those clearings per participant and regency as it applies each list
(`participants.models.ClearingHistory`, maintained by `participants.imports.apply`), so the
one statement per regency reads the participants in arrears and their clearings, never the
months of history: its cost follows the current list, not the months kept. It upserts one
`Screening` row per participant in arrears. No Python loop walks participants.

Each entry keeps a hash of what its result was computed from (`Screening.inputs_hash`: the
participant's fields the rules read, the family's counts, the clearings, the donors' payments, the
thresholds, the rules' version `FORMULA`, and the months in arrears as the result reads them). The
statement hashes every participant in arrears and computes only those whose hash changed: a list
that leaves most of the queue one month further in arrears and nothing else costs a read of the
queue, not its clearings, flags and upserts again; the entries flagged from their history, which
grow through the year, are computed when their history changes. An entry past the months billed
whose inputs are otherwise the same has its rank alone updated (it falls behind every month).

Flags only recommend (`assess`, `low_priority`, `likely_ineligible`, and `written_off`
when the newest list says the state wrote the arrears off); the decision is the
assessment's, made by two people. The list's REHAB column shows as the `in_rehab` flag. A flag
is stored as its code and the numbers and dates behind it; its sentence is written when shown
(`assessments.flags`), in the reader's language.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import django.dispatch
from django.db import connection, models, transaction
from django.utils import timezone
from psycopg2 import sql

from assessments.models import (
    PRIORITY_MONTHS_CAP,
    PRIORITY_PER_MONTH,
    Flag,
    Recommendation,
    Screening,
    ScreeningSettings,
)
from core.audit import audit_record
from core.time import regency_today
from participants.imports.apply import (
    clearing_history_matches_imports,
    clearing_row_behind,
    rebuild_clearing_history,
)
from regencies.models import Regency

# Sent inside `screening_run`'s transaction (kwargs `regency_id`, `import_id`): a higher app
# refreshes what it keeps about the regency (the queue's size) in the same transaction.
screening_done = django.dispatch.Signal()


@dataclass(frozen=True)
class Thresholds:
    cleared_min_months: int = 3  # N
    relapse_within_months: int = 6  # M
    short_arrears_months: int = 3  # K
    validity_months: int = 12


def thresholds_for(*, regency: Regency) -> Thresholds:
    row = ScreeningSettings.objects.for_regency(regency).first()
    if row is None:
        return Thresholds()
    return Thresholds(
        cleared_min_months=row.cleared_min_months,
        relapse_within_months=row.relapse_within_months,
        short_arrears_months=row.short_arrears_months,
        validity_months=row.validity_months,
    )


# The donations app registers its pledges and payments here (in its AppConfig.ready;
# assessments never imports donations): (pledge table, payment table, pledge statuses whose
# payments count). The last one registered wins.
_paid_pledges: list[tuple[str, str, tuple[str, ...]]] = []


def register_paid_pledges(*, pledge_model, payment_model, statuses) -> None:
    """`pledge_model`: rows with `participant_id`, `status`; `payment_model`: rows with
    `pledge_id`, `paid_on`; `statuses`: the pledge statuses whose payments cleared arrears."""
    _paid_pledges[:] = [(pledge_model._meta.db_table, payment_model._meta.db_table,
                         tuple(str(status) for status in statuses))]


def _paid_payments(select: str, *, participant: str, condition: str = "") -> sql.Composable | None:
    """`SELECT <select>` over the payments on the pledges of `participant` (a column) whose
    statuses count (parameter `paid_statuses`), and `condition`; None when no app registered its
    pledges. `select`, `participant` and `condition` are constant SQL of this module."""
    if not _paid_pledges:
        return None
    pledge, payment, _statuses = _paid_pledges[-1]
    return sql.SQL(
        "SELECT {select} FROM {pledge} dp JOIN {payment} pay ON pay.pledge_id = dp.id "
        "WHERE dp.participant_id = {participant} AND dp.status IN %(paid_statuses)s{condition}"
    ).format(select=sql.SQL(select), pledge=sql.Identifier(pledge), payment=sql.Identifier(payment),
             participant=sql.SQL(participant), condition=sql.SQL(condition))


def _covered_by_pledge_sql() -> sql.Composable:
    """SQL that is TRUE when a clearing was paid by a pledge of ours (then it is no
    sign the participant can pay). It may use `c.participant_id`, `c.from_date`
    (the record with arrears) and `c.cleared_date` (the first observation at zero),
    and the parameter `paid_statuses`.

    A payment recorded on a paid or verified pledge of that participant, dated between
    the two observations, means our donor cleared it. FALSE when no app registered its
    pledges.
    """
    paid = _paid_payments("1", participant="c.participant_id",
                          condition=" AND pay.paid_on >= c.from_date AND pay.paid_on <= c.cleared_date")
    return sql.SQL("FALSE") if paid is None else sql.SQL("EXISTS ({})").format(paid)


def _months_between(a: str, b: str) -> sql.Composable:
    return sql.SQL(
        "((extract(year from {b})::int * 12 + extract(month from {b})::int) - "
        "(extract(year from {a})::int * 12 + extract(month from {a})::int))"
    ).format(a=sql.Identifier(a), b=sql.Identifier(b))


# Composed from constant fragments and the models' tables (no user input); values, the enums'
# included, go in as parameters (_screen_values).
_SCREEN_SQL = """
WITH
-- The regency's queue entries (its index), read once: joined to the participants in arrears (`cur`).
-- An entry of another regency, where the participant was until now, is as good as none (computed,
-- and moved here by the upsert).
entries AS (
    SELECT s.id, s.participant_id, s.inputs_hash, s.flag_bits, s.recommendation, s.priority_base, s.queue_rank
    FROM {screening} s WHERE s.regency_id = %(regency)s
),
fam AS (
    SELECT f.family_id, count(*) AS size,
           count(*) FILTER (WHERE f.months_in_arrears = 0 OR f.status IN %(not_in_arrears)s) AS not_in_arrears
    FROM {participant} f
    WHERE f.regency_id = %(regency)s AND f.family_id IS NOT NULL
    GROUP BY f.family_id
),
-- Every participant in arrears with what the rules read, the hash of it, and the queue entry's hash;
-- and, in the same join, the entries of nobody in arrears here (`participant_id` NULL), which
-- `pruned` removes (read by several parts below: materialised once). The hash takes the months as
-- the result does: below the short-arrears threshold as they are; below the months billed, against
-- the list's month (one more month on the next month's list leaves it as it was); past them, only
-- that they are past (the entry's rank still moves each month: `reranked`).
cur AS (
    SELECT p.id AS participant_id, p.months_in_arrears AS months, p.care_class,
           p.written_off, p.in_rehab, p.rehab_instalments_left,
           COALESCE(fam.size, 1) AS family_size, COALESCE(fam.not_in_arrears, 0) AS family_not_in_arrears,
           h.clearings,
           hash_record_extended(ROW(
               %(formula)s, %(n)s, %(m)s, %(k)s,
               CASE WHEN p.months_in_arrears < %(k)s THEN p.months_in_arrears END,
               CASE WHEN p.months_in_arrears < %(months_cap)s THEN p.months_in_arrears - %(list_month)s END,
               p.care_class, p.written_off, p.in_rehab, p.rehab_instalments_left,
               COALESCE(fam.size, 1), COALESCE(fam.not_in_arrears, 0),
               h.clearings,
               CASE WHEN h.clearings <> '[]'::jsonb THEN ({paid_payments}) END
           ), 0) AS inputs_hash,
           s.inputs_hash AS stored_hash, s.flag_bits AS stored_bits, s.recommendation AS stored_recommendation,
           s.id AS entry_id, s.queue_rank AS stored_rank,
           -- The rank the entry's stored priority has on this list (that of `upserted`).
           s.priority_base + LEAST(p.months_in_arrears, %(months_cap)s) * %(per_month)s
               - %(per_month)s * %(list_month)s AS rank_now,
           (p.id IS NOT NULL AND {clearing_behind}) AS clearing_behind
    FROM (SELECT * FROM {participant}
          WHERE regency_id = %(regency)s AND status <> %(cleared)s AND months_in_arrears > 0) p
    LEFT JOIN fam ON fam.family_id = p.family_id
    LEFT JOIN {clearing} h ON h.participant_id = p.id AND h.regency_id = %(regency)s
    FULL JOIN entries s ON s.participant_id = p.id
),
-- Whether the import kept the clearing rows of every participant in arrears (`check_clearings`):
-- when not, nothing is written and the caller makes them again from the history, then runs again.
ready AS (
    SELECT NOT %(check_clearings)s OR NOT EXISTS (SELECT 1 FROM cur WHERE clearing_behind) AS ok
),
-- Their clearings, as the import keeps them (ClearingHistory: no month of the history is read),
-- with the thresholds applied: a record of at least N months cleared, and the first record in
-- arrears after it, a relapse when within M months.
clr0 AS (
    SELECT t.participant_id, e.months AS cleared_months, e."from" AS from_date,
           e.cleared AS cleared_date, e.next AS next_as_of, e.next_months
    FROM cur t
    CROSS JOIN LATERAL jsonb_to_recordset(t.clearings)
        AS e("from" date, months int, cleared date, next date, next_months int)
    WHERE t.participant_id IS NOT NULL AND t.stored_hash IS DISTINCT FROM t.inputs_hash
      AND t.clearings <> '[]'::jsonb AND e.months >= %(n)s AND e.cleared > e."from"
),
clr1 AS (
    -- Whether a donor of ours paid it: in the select list, a subquery run once per clearing
    -- through the pledges' participant index (in WHERE the planner may make it an anti join
    -- against every paid pledge of the installation, which grows with every month's pledges).
    SELECT c.*, ({covered_by_pledge}) AS covered FROM clr0 c
),
clr AS (
    SELECT c.participant_id, c.cleared_months, c.from_date, c.cleared_date,
           CASE WHEN c.next_as_of <= c.cleared_date + make_interval(months => %(m)s)
                THEN c.next_as_of END AS relapse_as_of,
           CASE WHEN c.next_as_of <= c.cleared_date + make_interval(months => %(m)s)
                THEN c.next_months END AS relapse_months
    FROM clr1 c
    WHERE NOT c.covered
),
last_clear AS (
    SELECT DISTINCT ON (participant_id) participant_id, cleared_months, from_date, cleared_date
    FROM clr ORDER BY participant_id, cleared_date DESC, from_date DESC
),
last_relapse AS (
    SELECT DISTINCT ON (participant_id) participant_id, cleared_months, from_date, cleared_date,
           relapse_as_of, relapse_months
    FROM clr WHERE relapse_as_of IS NOT NULL
    ORDER BY participant_id, cleared_date DESC, from_date DESC
),
base AS (
    SELECT t.participant_id, t.months, t.care_class, t.written_off, t.in_rehab, t.rehab_instalments_left,
           t.family_size, t.family_not_in_arrears, t.inputs_hash,
           lc.cleared_months AS c_months, lc.from_date AS c_from, lc.cleared_date AS c_date,
           lr.cleared_months AS r_months, lr.from_date AS r_from, lr.cleared_date AS r_date,
           lr.relapse_as_of, lr.relapse_months
    FROM cur t
    LEFT JOIN last_clear lc ON lc.participant_id = t.participant_id
    LEFT JOIN last_relapse lr ON lr.participant_id = t.participant_id
    -- The entries to compute: new here, or whose inputs changed.
    WHERE t.participant_id IS NOT NULL AND t.stored_hash IS DISTINCT FROM t.inputs_hash
      AND (SELECT ok FROM ready)
),
flagged AS (
    SELECT base.*,
           (c_date IS NOT NULL) AS f_cleared,
           (relapse_as_of IS NOT NULL) AS f_sick,
           (months < %(k)s) AS f_short,
           (care_class IN (1, 2)) AS f_class,
           (family_size > 1 AND family_not_in_arrears > 0) AS f_family,
           (written_off IS TRUE) AS f_written_off,
           (in_rehab IS TRUE AND written_off IS NOT TRUE) AS f_rehab
    FROM base
),
result AS (
    SELECT participant_id, family_size, inputs_hash, {flag_bits} AS flag_bits,
        -- The flags that apply, in this order; no subquery: run once a row, a subquery's
        -- aggregate cost ~20 us a participant, most of whom have no flag at all.
        to_jsonb(array_remove(ARRAY[
            (CASE WHEN f_written_off THEN jsonb_build_object('code', %(flag_written_off)s) END),
            (CASE WHEN f_rehab THEN jsonb_build_object(
                'code', %(flag_in_rehab)s, 'instalments_left', rehab_instalments_left) END),
            (CASE WHEN f_sick THEN jsonb_build_object(
                'code', %(flag_pays_when_sick)s,
                'months_cleared', r_months, 'from', r_from, 'cleared', r_date,
                'relapse', relapse_as_of, 'relapse_months', relapse_months,
                'months_later', {relapse_gap}) END),
            (CASE WHEN f_cleared THEN jsonb_build_object(
                'code', %(flag_self_cleared_before)s,
                'months_cleared', c_months, 'from', c_from, 'cleared', c_date) END),
            (CASE WHEN f_short THEN jsonb_build_object(
                'code', %(flag_short_arrears)s,
                'months', months, 'threshold', %(k)s) END),
            (CASE WHEN f_class THEN jsonb_build_object(
                'code', %(flag_higher_class)s,
                'care_class', care_class) END),
            (CASE WHEN f_family THEN jsonb_build_object(
                'code', %(flag_family_partly_covered)s,
                'not_in_arrears', family_not_in_arrears, 'family_size', family_size) END)
        ], NULL)) AS flags,
        CASE
            WHEN f_written_off THEN %(rec_written_off)s
            WHEN f_sick THEN %(rec_likely_ineligible)s
            WHEN f_cleared OR f_short OR f_class THEN %(rec_low_priority)s
            ELSE %(rec_assess)s
        END AS recommendation,
        (LEAST(family_size, 10) * 5
         + CASE WHEN f_family THEN 30 ELSE 0 END
         - CASE WHEN f_short THEN 50 ELSE 0 END
         - CASE WHEN f_class THEN 40 ELSE 0 END
         - CASE WHEN f_cleared THEN 60 ELSE 0 END
         - CASE WHEN f_sick THEN 120 ELSE 0 END
         - CASE WHEN f_written_off THEN 400 ELSE 0 END) AS priority_base,
        -- The months in arrears, up to those billed, count in the priority (Screening.priority).
        LEAST(months, %(months_cap)s) * %(per_month)s AS months_priority
    FROM flagged
),
upserted AS (
INSERT INTO {screening} AS q
    (regency_id, participant_id, flags, recommendation, priority_base, queue_rank, family_size,
     arrears_import_id, computed_at, queued_on, inputs_hash, flag_bits)
SELECT %(regency)s, participant_id, flags, recommendation, priority_base,
       -- The priority less 10 a month of the list (Screening.queue_rank): the same for every entry
       -- of this run, so the order is the priority's.
       priority_base + months_priority - %(per_month)s * %(list_month)s, family_size,
       %(import_id)s, %(now)s, %(today)s, inputs_hash, flag_bits
FROM result
ON CONFLICT (participant_id) DO UPDATE SET
    regency_id = EXCLUDED.regency_id,
    flags = EXCLUDED.flags,
    recommendation = EXCLUDED.recommendation,
    priority_base = EXCLUDED.priority_base,
    queue_rank = EXCLUDED.queue_rank,
    family_size = EXCLUDED.family_size,
    inputs_hash = EXCLUDED.inputs_hash,
    flag_bits = EXCLUDED.flag_bits,
    -- When and from which list the result was computed: kept while the result is the same (the
    -- inputs changed in a way the rules do not show, or the entry was computed before its hash was).
    arrears_import_id = CASE WHEN {result_changed} THEN EXCLUDED.arrears_import_id ELSE q.arrears_import_id END,
    computed_at = CASE WHEN {result_changed} THEN EXCLUDED.computed_at ELSE q.computed_at END
-- New, or its result changed: computed now.
RETURNING q.computed_at = %(now)s AS changed
),
-- The entries whose inputs are as they were but whose rank moved: those past the months billed, 10 a
-- month behind the arrears still growing. Their result is the same but for the rank, so the rank is
-- all that is written (as `upserted` writes a changed result: with this list and this time), with
-- no clearing, payment or flag read again.
reranked AS (
    UPDATE {screening} q
    SET queue_rank = t.rank_now, arrears_import_id = %(import_id)s, computed_at = %(now)s
    FROM cur t
    WHERE q.id = t.entry_id AND t.participant_id IS NOT NULL AND t.stored_hash = t.inputs_hash
      AND t.stored_rank <> t.rank_now AND (SELECT ok FROM ready)
    RETURNING 1
),
-- Participants who left the queue (paid, cleared, moved to another regency) lose their entry: the
-- regency's entries whose participant is not among those in arrears here, which `cur` found in its
-- join (an anti join of its own read the entries and those in arrears again).
pruned AS (
    DELETE FROM {screening} s
    WHERE s.id IN (SELECT entry_id FROM cur WHERE participant_id IS NULL) AND (SELECT ok FROM ready)
    RETURNING 1
),
-- What the queue holds after the run (every participant in arrears has an entry, the prune removes
-- the others): the entries just computed, and those left as they were, by their stored bits.
tally AS (
    SELECT flag_bits AS bits, recommendation FROM result
    UNION ALL
    SELECT stored_bits, stored_recommendation FROM cur
    WHERE participant_id IS NOT NULL AND stored_hash = inputs_hash
)
-- Whether it ran (ready), the entries whose result changed (their rank alone included), the entries
-- computed (and written), the entries removed, and the counts.
SELECT (SELECT ok FROM ready),
       (SELECT count(*) FILTER (WHERE changed) FROM upserted) + (SELECT count(*) FROM reranked),
       (SELECT count(*) FROM upserted), (SELECT count(*) FROM pruned), {counts}
FROM tally
"""

# An entry's result changed: what a reader of the queue sees (regency, flags, recommendation,
# priority, rank, family size) differs from what the entry held.
_RESULT_CHANGED = """
(q.regency_id, q.flags, q.recommendation, q.priority_base, q.queue_rank, q.family_size)
    IS DISTINCT FROM (EXCLUDED.regency_id, EXCLUDED.flags, EXCLUDED.recommendation, EXCLUDED.priority_base,
                      EXCLUDED.queue_rank, EXCLUDED.family_size)
"""

# The version of the rules above: part of every entry's hash. Change it with any change to what the
# statement computes from the same inputs, so that the next screening computes every entry again.
FORMULA = 1

# (flag, the column of `flagged` that is TRUE when the entry carries it)
_FLAG_COLUMNS = (
    (Flag.WRITTEN_OFF, "f_written_off"), (Flag.IN_REHAB, "f_rehab"), (Flag.PAYS_WHEN_SICK, "f_sick"),
    (Flag.SELF_CLEARED_BEFORE, "f_cleared"), (Flag.SHORT_ARREARS, "f_short"),
    (Flag.HIGHER_CLASS, "f_class"), (Flag.FAMILY_PARTLY_COVERED, "f_family"),
)


# An entry's `flag_bits`: the bit of each flag (its place in _FLAG_COLUMNS).
FLAG_BITS = {flag: 1 << place for place, (flag, _column) in enumerate(_FLAG_COLUMNS)}


def _flag_bits_sql() -> sql.Composable:
    """The sum of the bits of the flags a row of `flagged` carries."""
    return sql.SQL(" + ").join(
        sql.SQL("CASE WHEN {} THEN {} ELSE 0 END").format(sql.Identifier(column), sql.Literal(FLAG_BITS[flag]))
        for flag, column in _FLAG_COLUMNS)


def _paid_payments_sql() -> sql.Composable:
    """The payments on the participant's (`p.id`) pledges whose payments count, as text: what
    `_covered_by_pledge_sql` reads, for the entry's hash. NULL when no app registered its pledges."""
    paid = _paid_payments("string_agg(pay.id::text || '@' || pay.paid_on::text, ',' ORDER BY pay.id)",
                          participant="p.id")
    return sql.SQL("NULL::text") if paid is None else paid


def _counts_sql() -> sql.Composable:
    """count(*) FILTER (...) of each flag (_FLAG_COLUMNS order, from the entry's bits), then of
    each recommendation."""
    flags = [sql.SQL("count(*) FILTER (WHERE bits & {} <> 0)").format(sql.Literal(FLAG_BITS[flag]))
             for flag, _column in _FLAG_COLUMNS]
    recs = [sql.SQL("count(*) FILTER (WHERE recommendation = {})").format(sql.Placeholder(f"rec_{rec.value}"))
            for rec in Recommendation]
    return sql.SQL(", ").join(flags + recs)


def _tables() -> dict[str, sql.Identifier]:
    from participants.models import ClearingHistory, Participant

    tables: dict[str, type[models.Model]] = {
        "clearing": ClearingHistory, "participant": Participant, "screening": Screening}
    return {name: sql.Identifier(model._meta.db_table) for name, model in tables.items()}


def _screen_sql() -> sql.Composed:
    """The screening statement (composed on each run: the donations app registers its pledges
    after this module is imported)."""
    return sql.SQL(_SCREEN_SQL).format(
        covered_by_pledge=_covered_by_pledge_sql(),
        paid_payments=_paid_payments_sql(),
        flag_bits=_flag_bits_sql(),
        result_changed=sql.SQL(_RESULT_CHANGED),
        counts=_counts_sql(),
        relapse_gap=_months_between("r_date", "relapse_as_of"),
        clearing_behind=clearing_row_behind("p", "h"),
        **_tables(),
    )


def _screen_values() -> dict:
    """The status, mode, flag and recommendation values the statements use, from the enums."""
    from participants.models import ImportMode, ImportStatus, ParticipantStatus

    return {
        "imp_applied": ImportStatus.APPLIED.value, "mode_full": ImportMode.FULL.value,
        "cleared": ParticipantStatus.CLEARED.value,
        "not_in_arrears": (ParticipantStatus.ACTIVE.value, ParticipantStatus.CLEARED.value),
        "paid_statuses": _paid_pledges[-1][2] if _paid_pledges else (),
        **{f"flag_{flag.value}": flag.value for flag in Flag},
        **{f"rec_{rec.value}": rec.value for rec in Recommendation},
    }


def _latest_import(regency: Regency) -> tuple[int, dt.date] | None:
    """The id and date of the regency's newest applied list."""
    from participants.models import ArrearsImport

    return (
        ArrearsImport.objects.filter(status="applied", branch__regencies=regency)
        .order_by("-as_of", "-id").values_list("id", "as_of").first()
    )


def list_month_index(day: dt.date) -> int:
    """The month of `day` counted from year 0 (consecutive months, consecutive numbers)."""
    return day.year * 12 + day.month - 1


def screening_run(*, regency: Regency, arrears_import_id: int | None = None, actor=None) -> dict:
    """Screen every participant in arrears of `regency` and upsert their queue entries.

    Computes the entries whose inputs changed since their result was computed (the summary's
    `computed`), and counts the others from what they hold. Idempotent: running it twice gives the
    same rows. An entry keeps its `computed_at` and `arrears_import` while its result (flags,
    recommendation, priority base, rank, family size) stays the same: they say when and from which
    list that result was first computed (one more month in arrears on the next month's list changes
    none of them).
    """
    started = time.monotonic()
    t = thresholds_for(regency=regency)
    today = regency_today(regency)
    latest = _latest_import(regency)
    if arrears_import_id is None and latest is not None:
        arrears_import_id = latest[0]
    params = {
        "regency": regency.pk,
        "n": t.cleared_min_months,
        "m": t.relapse_within_months,
        "k": t.short_arrears_months,
        "import_id": arrears_import_id,
        # The month of the regency's newest list (whichever list this run follows), so that every
        # entry's rank counts from the same month.
        "list_month": list_month_index(latest[1] if latest is not None else today),
        "per_month": PRIORITY_PER_MONTH,
        "months_cap": PRIORITY_MONTHS_CAP,
        "formula": FORMULA,
        "now": timezone.now(),
        "today": today,
        **_screen_values(),
    }
    with transaction.atomic():
        with connection.cursor() as cursor:
            # The lateral joins make the planner's cost estimate huge, and JIT compiling this
            # one statement took ~1.4 s a regency: more than running it.
            cursor.execute("SET LOCAL jit = off")
            # Records the import did not write (imports it did not see, or participants it did not
            # keep rows for): the clearing rows are made once from the whole history, then the
            # imports keep them current again. The statement checks the second case itself and
            # writes nothing then.
            rebuilt = not clearing_history_matches_imports(cursor, regency.pk)
            if rebuilt:
                rebuild_clearing_history(cursor, [regency.pk])
            cursor.execute(_screen_sql(), {**params, "check_clearings": not rebuilt})
            ready, changed, computed, pruned, *counts = cursor.fetchone()
            if not ready:
                rebuild_clearing_history(cursor, [regency.pk])
                cursor.execute(_screen_sql(), {**params, "check_clearings": False})
                ready, changed, computed, pruned, *counts = cursor.fetchone()
        by_flag = dict(zip((flag for flag, _column in _FLAG_COLUMNS), counts, strict=False))
        flags = {flag.value: by_flag[flag] for flag in Flag}
        recommendations = {rec.value: n for rec, n in zip(Recommendation, counts[len(_FLAG_COLUMNS):], strict=True)}
        summary = {
            "regency": regency.code,
            # Every participant in arrears screened just now has an entry, and no one else.
            "screened": sum(recommendations.values()),
            # The entries whose result changed (new ones included), and those computed: the
            # others' inputs were what their result was computed from.
            "changed": changed,
            "computed": computed,
            "removed": pruned,
            "flags": flags,
            "recommendations": recommendations,
            "thresholds": {"N": t.cleared_min_months, "M": t.relapse_within_months, "K": t.short_arrears_months},
            "seconds": round(time.monotonic() - started, 3),
        }
        audit_record(
            actor=actor, verb="screening.run", object_type="assessments.screening",
            object_id=arrears_import_id or "", regency=regency, after=summary,
        )
        screening_done.send(sender=Screening, regency_id=regency.pk, import_id=arrears_import_id)
    return summary


def flag_counts(*, regency: Regency) -> dict:
    """How many queue entries carry each flag and each recommendation (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT f->>'code', count(*) FROM assessments_screening s,
                   jsonb_array_elements(s.flags) f
            WHERE s.regency_id = %s GROUP BY 1
            UNION ALL
            SELECT 'rec:' || recommendation, count(*) FROM assessments_screening
            WHERE regency_id = %s GROUP BY 1
            """,
            [regency.pk, regency.pk],
        )
        rows = cursor.fetchall()
    flags = dict.fromkeys(Flag.values, 0)
    recs = dict.fromkeys(Recommendation.values, 0)
    for key, n in rows:
        if key.startswith("rec:"):
            recs[key[4:]] = n
        else:
            flags[key] = n
    return {"flags": flags, "recommendations": recs}


def screening_run_for_import(*, import_id: int) -> dict:
    """After an applied import: screen every regency of its branch."""
    from participants.models import ArrearsImport

    arrears_import = ArrearsImport.objects.filter(pk=import_id, status="applied").select_related("branch").first()
    if arrears_import is None:
        return {"import_id": import_id, "regencies": {}}
    results = {}
    for regency in arrears_import.branch.regencies.order_by("code"):
        results[regency.code] = screening_run(regency=regency, arrears_import_id=import_id)
    return {"import_id": import_id, "regencies": results}


__all__ = [
    "Screening",
    "Thresholds",
    "flag_counts",
    "screening_run",
    "screening_run_for_import",
    "thresholds_for",
]
