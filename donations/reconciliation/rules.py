"""The reconciliation rules as set-based SQL over one regency, inside the caller's transaction.

A fixed number of statements whatever the number of pledges (no Python loop over rows):

1. `rc_dec`: every unfinished pledge of the regency (reserved, pledged, paid, and disputed,
   which is re-checked; found through `UnfinishedPledge`, not by reading every pledge the
   regency ever had) with its evidence and the decision:
   - the evidence is the participant's newest record in an applied, non-outdated import, or,
     when newer, the participant's absence from a full list (the import pipeline marks those
     `cleared` with `cleared_at` = that list's as-of date and `last_import` = that list);
     a partial import without the participant says nothing (no record, no clearing);
   - `paid`/`disputed` -> `verified` when that evidence is as of the payment date or later and
     shows zero arrears, absence from a full list, or arrears reduced by at least the pledge's
     amount (vs. the newest record before the payment, else the arrears frozen in the pledge):
     a fall smaller than the pledge (someone else's payment, a part payment) proves nothing;
   - `paid` -> `disputed` when the evidence is as of at least `grace` days after the payment
     date and still shows arrears;
     a paid pledge is also verified when that newest record says the arrears were written off
     (`pemutihan`: the money was credited before the write-off) or, for a REHAB pledge
     (`rehab_instalments`), that no instalment is left;
   - `reserved`/`pledged` -> `released` (`written_off`) when the newest record, no older than the
     pledge's data, says the arrears were written off, or the participant's approved, still valid
     assessment routes the household to the write-off (the state pays, not the donor);
   - `reserved`/`pledged` -> `released` (`cleared_by_other`) when the evidence, no older than
     the pledge's data, shows zero arrears or absence from a full list;
     -> `released` (`left_segment`) when the newest record's segment is not PBPU/BP or differs
     from the segment the pledge was made in;
   - otherwise unchanged.
2. ONE statement (data-modifying CTEs, each table written once) updates the changing pledges
   (only if still in the decided-from status; the row locks are taken by that update: every
   other writer of a pledge holds the regency's row lock first, as the run does, or skips
   locked pledges, so no lock order among pledges is needed), gives each change its
   ReconciliationOutcome (the append-only ledger that is the audit trail of these changes: the
   run says who and when, the row from what to what; see the model), resolves the open
   anomalies of verified pledges and records the new ones:
3. anomalies: disputed payments, paid pledges an import as of after the payment contradicts
   (arrears not reduced at all, still within the grace period), families where a member was
   just verified while another is still in arrears without a verified pledge.
Anomalies are unique per (pledge, kind) and, for a family's own, per open (family, kind): a
re-run adds nothing.

Per regency: 4 statements to decide, 2 to apply (write, drop), whatever the number of
pledges. Where the time goes and what was measured: bench/README.md, "Reconciliation".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from psycopg2 import sql

from assessments.models import Assessment, Route
from assessments.models import Status as AssessmentStatus
from donations.models import (
    UNFINISHED_STATUSES,
    Anomaly,
    AnomalyKind,
    AnomalyStatus,
    Outcome,
    Payment,
    Pledge,
    PledgeStatus,
    ReconciliationOutcome,
    ReleaseReason,
    UnfinishedPledge,
)
from participants.models import (
    ArrearsImport,
    ArrearsRecord,
    ClearingHistory,
    ImportStatus,
    Participant,
    ParticipantStatus,
    Segment,
)

# A decision that changes nothing (not an Outcome: no outcome row is written for it).
UNCHANGED = "unchanged"
OUTCOMES = (*Outcome.values, UNCHANGED)

# The tables, from the models (the statements name them through sql.Identifier).
_TABLES = {
    "assessment": Assessment, "pledge": Pledge, "payment": Payment, "anomaly": Anomaly,
    "outcome_t": ReconciliationOutcome, "import_t": ArrearsImport, "record": ArrearsRecord,
    "participant": Participant, "clearing": ClearingHistory, "unfinished_t": UnfinishedPledge,
}


def _compose(template: str, **parts: sql.Composable) -> sql.Composed:
    """`template` with {pledge}, {record}, ... (see _TABLES), {record_ok} and `parts` filled in."""
    tables = {name: sql.Identifier(model._meta.db_table) for name, model in _TABLES.items()}
    return sql.SQL(template).format(record_ok=sql.SQL(_RECORD_OK).format(**tables), **tables, **parts)


# The status, outcome, kind, ... values the statements compare with or write: parameters, from the enums.
_VALUES: dict[str, str | tuple[str, ...]] = {
    "reserved": PledgeStatus.RESERVED.value, "pledged": PledgeStatus.PLEDGED.value,
    "paid": PledgeStatus.PAID.value, "disputed": PledgeStatus.DISPUTED.value,
    "verified": PledgeStatus.VERIFIED.value, "released": PledgeStatus.RELEASED.value,
    "not_paid": (PledgeStatus.RESERVED.value, PledgeStatus.PLEDGED.value),
    "paid_or_disputed": (PledgeStatus.PAID.value, PledgeStatus.DISPUTED.value),
    "unfinished": tuple(status.value for status in UNFINISHED_STATUSES),
    "o_verified": Outcome.VERIFIED.value, "o_disputed": Outcome.DISPUTED.value,
    "o_cleared": Outcome.RELEASED_CLEARED.value, "o_segment": Outcome.RELEASED_SEGMENT.value,
    "o_written_off": Outcome.RELEASED_WRITTEN_OFF.value, "o_unchanged": UNCHANGED,
    "o_released": (Outcome.RELEASED_CLEARED.value, Outcome.RELEASED_SEGMENT.value,
                   Outcome.RELEASED_WRITTEN_OFF.value),
    "r_cleared": ReleaseReason.CLEARED_BY_OTHER.value, "r_segment": ReleaseReason.LEFT_SEGMENT.value,
    "r_written_off": ReleaseReason.WRITTEN_OFF.value,
    # not a ReleaseReason choice: the reason a disputed pledge carries (kept as it was)
    "r_disputed": "still_in_arrears_after_grace",
    "a_approved": AssessmentStatus.APPROVED.value, "a_writeoff": Route.WRITEOFF.value,
    "imp_applied": ImportStatus.APPLIED.value, "part_cleared": ParticipantStatus.CLEARED.value,
    "segments": (Segment.PBPU.value, Segment.BP.value),
    "k_disputed": AnomalyKind.DISPUTED_PAYMENT.value, "k_contradicts": AnomalyKind.IMPORT_CONTRADICTS.value,
    "k_family": AnomalyKind.FAMILY_PARTLY_VERIFIED.value,
    "an_open": AnomalyStatus.OPEN.value, "an_resolved": AnomalyStatus.RESOLVED.value,
}

_RECORD_OK = (
    "JOIN {import_t} i ON i.id = r.arrears_import_id"
    " AND i.status = %(imp_applied)s AND NOT i.is_outdated"
)

# Settings of the run's transaction: JIT compiling these few big statements costs more than it
# saves (~0.1 s each); the hash tables of a regency fit in memory with 64 MB; no parallel plan:
# the regencies already run on one connection per core (`services.reconcile`), and once the
# pledge table is big enough for the planner to read a regency's pledges with parallel workers
# (`min_parallel_table_scan_size`; by month 8 of the year benchmark at the size),
# starting those workers cost more than the few thousand pledges they share (the decision of a
# regency 20 ms serial, 35 ms parallel: bench/README.md, session 20).
SETUP = ("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'; SET LOCAL max_parallel_workers_per_gather = 0; "
         "DROP TABLE IF EXISTS rc_dec")

# "The newest record of the participant" (in an applied list that is not outdated) as one row
# value of the history's type. The history is partitioned by month and has a DEFAULT partition,
# so PostgreSQL 15 cannot read the months newest first and stop at the first it finds: it probes
# every month's index (a Merge Append), once a pledge, and that grew with each month kept. The
# lookups in DECIDE therefore look first among the months from a date the newest record is almost
# always on or after: only those months' partitions are probed (pruned while the statement runs,
# as the date comes from the row). Whatever the date, the result is the same: a record found
# there is the newest (any newer one is in those months too), and when none is, the lookup over
# every month runs (`coalesce` evaluates it only then).
_NEWEST = {
    "newest_from": "SELECT r FROM {record} r {record_ok} WHERE r.participant_id = c.participant_id",
    "newest_from_before": "SELECT r FROM {record} r {record_ok} "
                          "WHERE r.participant_id = ev1.participant_id AND r.as_of < ev1.pay_date",
    "newest_order": "ORDER BY r.as_of DESC, r.arrears_import_id DESC LIMIT 1",
}


def _newest_parts() -> dict[str, sql.Composable]:
    return {name: _compose(text) for name, text in _NEWEST.items()}


# One row per unfinished pledge. The newest record is usually one index lookup (the record in
# the regency's newest list); the record the pledge was made from and the newest record before
# the payment are looked up only for the rows whose decision depends on them (`ev2` is
# materialised so that each lookup runs once per row).
DECIDE = _compose("""
CREATE TEMP TABLE rc_dec AS
WITH cand AS (
    SELECT p.id, p.status, p.participant_id, p.arrears_import_id AS pledge_import, p.as_of AS pledge_as_of,
           p.arrears_amount AS pledge_arrears, p.amount AS pledge_amount, p.paid_at,
           nullif(p.segment, '') AS stored_segment, p.rehab_instalments AS pledge_rehab,
           -- covered by the write-off through the assessment: approved, still valid, routed to it
           -- (assessments.routes.route_for); looked up for the pledges not yet paid only
           (p.status IN %(not_paid)s AND EXISTS (
                SELECT 1 FROM {assessment} a
                WHERE a.participant_id = p.participant_id AND a.regency_id = %(reg)s AND a.status = %(a_approved)s
                  AND a.valid_until >= %(today)s AND a.route = %(a_writeoff)s)) AS routed_written_off
    -- the regency's unfinished pledges (kept by triggers: the pledge table has no status index)
    FROM {unfinished_t} u JOIN {pledge} p ON p.id = u.pledge_id
    WHERE u.regency_id = %(reg)s AND p.regency_id = %(reg)s AND p.status IN %(unfinished)s
), ev AS (
    SELECT c.*, part.family_id, part.cleared_at, part.last_import_id,
           coalesce(pay.paid_on, (c.paid_at AT TIME ZONE %(tz)s)::date) AS pay_date,
           coalesce(pay.paid_amount, 0) AS paid_amount,
           (part.status = %(part_cleared)s AND part.cleared_at IS NOT NULL
            AND (coalesce(s.as_of, r.as_of) IS NULL OR part.cleared_at >= coalesce(s.as_of, r.as_of))) AS absent,
           coalesce(s.as_of, r.as_of) AS rec_as_of, coalesce(s.arrears_amount, r.arrears_amount) AS rec_arrears,
           coalesce(s.segment, r.segment) AS rec_segment,
           coalesce(s.written_off, r.written_off, false) AS rec_written_off,
           coalesce(s.rehab_instalments_left, r.rehab_instalments_left) AS rec_rehab_left,
           coalesce(s.arrears_import_id, r.arrears_import_id) AS rec_import
    FROM cand c
    JOIN {participant} part ON part.id = c.participant_id AND part.regency_id = %(reg)s
    LEFT JOIN LATERAL (
        SELECT sum(y.amount)::bigint AS paid_amount, max(y.paid_on) AS paid_on
        FROM {payment} y
        WHERE c.status IN %(paid_or_disputed)s AND y.pledge_id = c.id AND y.regency_id = %(reg)s
    ) pay ON true
    -- the newest record: the one in the regency's newest list when no later list has one (one
    -- index lookup, the usual case), else the newest of the participant's records (a record's
    -- as_of is its list's: the pipeline writes it so; `latest_as_of`, that list's, keeps the
    -- lookup in one month's partition of the history)
    LEFT JOIN {record} s
        ON s.participant_id = c.participant_id AND s.arrears_import_id = %(latest)s AND s.regency_id = %(reg)s
       AND s.as_of = %(latest_as_of)s
       AND (cardinality(%(later_ids)s::bigint[]) = 0 OR NOT EXISTS (
            SELECT 1 FROM {record} x
            WHERE x.participant_id = c.participant_id AND x.as_of = ANY(%(later_as_ofs)s::date[])
              AND x.arrears_import_id = ANY(%(later_ids)s::bigint[])))
    -- else the newest of the participant's records: first among the months from the
    -- participant's newest record in this regency (its clearing row says which), one or two
    -- months' partitions; every month only when none is there (see _NEWEST)
    LEFT JOIN LATERAL (
        SELECT CASE WHEN s.arrears_import_id IS NULL THEN coalesce(
            ({newest_from} AND r.as_of >= coalesce(
                (SELECT h.last_as_of FROM {clearing} h
                 WHERE h.participant_id = c.participant_id AND h.regency_id = %(reg)s),
                c.pledge_as_of) {newest_order}),
            ({newest_from} {newest_order})) END AS rec
        OFFSET 0  -- kept a subquery: its columns below must not each run the lookups again
    ) n ON true
    LEFT JOIN LATERAL (SELECT (n.rec).*) r ON true
), ev1 AS (
    SELECT ev.*,
           CASE WHEN absent THEN cleared_at ELSE rec_as_of END AS ev_as_of,
           CASE WHEN absent THEN 0 ELSE rec_arrears END AS ev_arrears,
           CASE WHEN absent THEN last_import_id ELSE rec_import END AS ev_import
    FROM ev
), ev2 AS MATERIALIZED (
    SELECT ev1.*,
           -- arrears before the payment: needed only when the evidence still shows arrears
           -- (the newest record before the payment: first among the months from the list the
           -- pledge was made from, every month only when none is there)
           CASE WHEN status IN %(paid_or_disputed)s AND pay_date IS NOT NULL AND ev_as_of >= pay_date
                     AND ev_arrears > 0 THEN coalesce((coalesce(
                ({newest_from_before} AND r.as_of >= ev1.pledge_as_of {newest_order}),
                ({newest_from_before} {newest_order}))).arrears_amount, pledge_arrears)
           END AS before_arrears,
           -- the segment the pledge was made in, when that is not the newest record: kept on the
           -- pledge since it was made; looked up in the list it was made from for an older pledge
           CASE WHEN status IN %(not_paid)s AND NOT absent AND rec_as_of IS NOT NULL
                     AND rec_segment IN %(segments)s AND pledge_import IS DISTINCT FROM rec_import
                THEN coalesce(stored_segment, (
                    SELECT pr.segment FROM {record} pr
                    WHERE pr.participant_id = ev1.participant_id AND pr.arrears_import_id = ev1.pledge_import))
           END AS pledge_segment
    FROM ev1
), decided AS (
    SELECT ev2.*,
        CASE
          WHEN status IN %(paid_or_disputed)s AND pay_date IS NOT NULL AND ev_as_of >= pay_date
               AND (absent OR ev_arrears = 0 OR (paid_amount >= pledge_amount
                                                 AND before_arrears - ev_arrears >= pledge_amount)
                    OR (NOT absent AND rec_written_off)
                    OR (NOT absent AND pledge_rehab IS NOT NULL AND rec_rehab_left = 0))
            THEN %(o_verified)s
          WHEN status = %(paid)s AND pay_date IS NOT NULL AND ev_as_of >= pay_date + %(grace)s AND ev_arrears > 0
            THEN %(o_disputed)s
          WHEN status IN %(not_paid)s AND (routed_written_off OR (
               NOT absent AND rec_as_of IS NOT NULL AND rec_written_off
               AND rec_as_of >= coalesce(pledge_as_of, rec_as_of)))
            THEN %(o_written_off)s
          WHEN status IN %(not_paid)s AND ev_as_of IS NOT NULL
               AND ev_as_of >= coalesce(pledge_as_of, ev_as_of) AND (absent OR ev_arrears = 0)
            THEN %(o_cleared)s
          WHEN status IN %(not_paid)s AND NOT absent AND rec_as_of IS NOT NULL
               AND (rec_segment NOT IN %(segments)s OR rec_segment <> coalesce(pledge_segment, rec_segment))
            THEN %(o_segment)s
          ELSE %(o_unchanged)s
        END AS outcome
    FROM ev2
)
SELECT id AS pledge_id, status AS from_status, participant_id, family_id, outcome, ev_import, ev_as_of,
       ev_arrears, absent, pay_date, paid_amount, before_arrears,
       (outcome = %(o_unchanged)s AND status = %(paid)s AND pay_date IS NOT NULL AND ev_as_of >= pay_date
        AND ev_arrears > 0 AND ev_arrears >= before_arrears) AS contradicts
FROM decided
""", **_newest_parts())

# Applied lists after the regency's newest one (of other branches, applied since), and their
# dates. Read before `DECIDE` and written into it as constants: a list's records carry its
# as_of, so the planner then reads only those months' partitions of the history for them
# instead of every month's index once per pledge (the lookup grew with each month kept).
LATER = _compose("""
SELECT coalesce(array_agg(j.id), '{{}}'), coalesce(array_agg(DISTINCT j.as_of), '{{}}')
FROM {import_t} j JOIN {import_t} g ON g.id = %(latest)s
WHERE j.status = %(imp_applied)s AND NOT j.is_outdated AND (j.as_of, j.id) > (g.as_of, g.id)
""")

COUNTS = """
SELECT outcome, count(*) FROM rc_dec GROUP BY outcome
"""

# The anomalies a run without changes can still find (a payment the newest import contradicts).
_CONTRADICTS = sql.SQL("""
    SELECT %(reg)s, %(k_contradicts)s, %(an_open)s, pledge_id, family_id, %(run)s::bigint, ev_import,
           %(d_contradicts)s, '', %(now)s
    FROM rc_dec WHERE contradicts
""")

# Everything a run writes, in one statement: the pledges (only if still in the decided-from
# status), one outcome per changed pledge, anomalies resolved and found. Every part reads the
# statement's snapshot: a member verified by this run is looked up in `upd`. The changes are not
# repeated in core_auditevent: their outcome rows are their audit trail (see the model; a copy in
# both tables cost 18 % of a 200k-pledge run, bench/README.md); the run's own audit event is
# written by the service.
APPLY = _compose("""
WITH upd AS (
    UPDATE {pledge} p SET
        status = CASE d.outcome WHEN %(o_verified)s THEN %(verified)s WHEN %(o_disputed)s THEN %(disputed)s
                 ELSE %(released)s END,
        release_reason = CASE d.outcome
            WHEN %(o_cleared)s THEN %(r_cleared)s
            WHEN %(o_segment)s THEN %(r_segment)s
            WHEN %(o_written_off)s THEN %(r_written_off)s
            WHEN %(o_disputed)s THEN %(r_disputed)s
            ELSE p.release_reason END,
        verified_at = CASE WHEN d.outcome = %(o_verified)s THEN %(now)s ELSE p.verified_at END,
        closed_at = CASE WHEN d.outcome IN %(o_released)s THEN %(now)s ELSE p.closed_at END,
        updated_at = %(now)s
    FROM rc_dec d
    WHERE p.regency_id = %(reg)s AND d.pledge_id = p.id AND d.outcome <> %(o_unchanged)s AND p.status = d.from_status
    RETURNING p.id AS pledge_id, d.from_status, p.status AS to_status, d.outcome,
              CASE WHEN p.status = %(verified)s THEN '' ELSE p.release_reason END AS reason,
              d.ev_import, d.ev_as_of, d.ev_arrears, d.family_id, d.participant_id
), outcomes AS (
    INSERT INTO {outcome_t} (regency_id, run_id, pledge_id, outcome, from_status, to_status,
        reason, arrears_import_id, evidence_as_of, evidence_arrears, created_at)
    SELECT %(reg)s, %(run)s, pledge_id, outcome, from_status, to_status, reason, ev_import, ev_as_of, ev_arrears,
           %(now)s
    FROM upd
), resolved AS (
    UPDATE {anomaly} a SET status = %(an_resolved)s, resolved_at = %(now)s, note = %(note)s
    FROM (SELECT pledge_id FROM upd WHERE to_status = %(verified)s) v
    WHERE a.pledge_id = v.pledge_id AND a.pledge_id IS NOT NULL AND a.regency_id = %(reg)s AND a.status = %(an_open)s
), found AS (
    INSERT INTO {anomaly} (regency_id, kind, status, pledge_id, family_id, run_id, arrears_import_id,
                                   detail, note, created_at)
    SELECT %(reg)s, %(k_disputed)s, %(an_open)s, pledge_id, family_id, %(run)s::bigint, ev_import,
           %(d_disputed)s, '', %(now)s
    FROM upd WHERE to_status = %(disputed)s
    UNION ALL {contradicts}
    UNION ALL
    SELECT %(reg)s, %(k_family)s, %(an_open)s, NULL::bigint, f.family_id, %(run)s::bigint, f.ev_import,
           %(d_family)s, '', %(now)s
    FROM (SELECT DISTINCT ON (family_id) family_id, ev_import FROM upd
          WHERE to_status = %(verified)s AND family_id IS NOT NULL) f
    WHERE EXISTS (
        SELECT 1 FROM {participant} m
        WHERE m.family_id = f.family_id AND m.status <> %(part_cleared)s AND m.arrears_amount > 0
          AND NOT EXISTS (SELECT 1 FROM {pledge} q WHERE q.participant_id = m.id AND q.status = %(verified)s)
          AND m.id NOT IN (SELECT participant_id FROM upd WHERE to_status = %(verified)s))
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM upd), (SELECT count(*) FROM found)
""", contradicts=_CONTRADICTS)

# A run that changes nothing records only the contradicting payments it finds (nothing on a re-run).
APPLY_NOTHING = _compose("""
WITH found AS (
    INSERT INTO {anomaly} (regency_id, kind, status, pledge_id, family_id, run_id, arrears_import_id,
                                   detail, note, created_at)
    {contradicts}
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT 0, (SELECT count(*) FROM found)
""", contradicts=_CONTRADICTS)


@dataclass
class RuleResult:
    counts: dict[str, int] = field(default_factory=dict)
    changed: int = 0
    anomalies: int = 0


def decide(*, regency_id: int, latest_import_id: int, tz: str, grace_days: int,
           today: dt.date | None = None) -> dict[str, int]:
    """Statement 1 (and the counts): builds `rc_dec` in the current transaction. `latest_import_id`
    is the regency's newest applied, non-outdated list (`services.newest_import`); `today` the
    regency's date of the run (an assessment's validity), by default the database's."""
    with connection.cursor() as cur:
        cur.execute(SETUP)
        # The newest list's as_of: the history is partitioned on it, so the lookup of a record of
        # that list reads one month's partition, not every month's index.
        cur.execute(sql.SQL("SELECT as_of FROM {} WHERE id = %s").format(
            sql.Identifier(ArrearsImport._meta.db_table)), [latest_import_id])
        row = cur.fetchone()
        latest_as_of = row[0] if row is not None else None
        if today is None:
            cur.execute("SELECT (now() AT TIME ZONE %s)::date", [tz])
            today = cur.fetchone()[0]
        params: dict[str, Any] = {**_VALUES, "reg": regency_id, "latest": latest_import_id,
                                  "latest_as_of": latest_as_of, "tz": tz, "grace": grace_days, "today": today}
        cur.execute(LATER, params)
        later_ids, later_as_ofs = cur.fetchone()
        params.update(later_ids=list(later_ids), later_as_ofs=list(later_as_ofs))
        cur.execute(DECIDE, params)
        cur.execute(COUNTS)
        counts = dict.fromkeys(OUTCOMES, 0)
        for outcome, n in cur.fetchall():
            counts[outcome] = int(n)
    return counts


def apply(*, regency_id: int, run_id: int | None, now: dt.datetime, texts: dict[str, str]) -> RuleResult:
    """Update, record outcomes and anomalies. `run_id` is None when nothing changes."""
    result = RuleResult()
    params: dict[str, Any] = {**_VALUES, "reg": regency_id, "run": run_id, "now": now, **texts}
    with connection.cursor() as cur:
        cur.execute(APPLY if run_id is not None else APPLY_NOTHING, params)
        changed, anomalies = cur.fetchone()
        result.changed, result.anomalies = int(changed), int(anomalies)
        cur.execute("DROP TABLE rc_dec")
    return result

