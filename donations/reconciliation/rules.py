# ruff: noqa: S608  (SQL is built from constants only; every value is a parameter)
"""The reconciliation rules as set-based SQL over one regency, inside the caller's transaction.

A fixed number of statements whatever the number of pledges (no Python loop over rows):

1. `rc_dec`: every unfinished pledge of the regency (reserved, pledged, paid, and disputed,
   which is re-checked) with its evidence and the decision:
   - the evidence is the participant's newest record in an applied, non-outdated import, or,
     when newer, the participant's absence from a full list (the import pipeline marks those
     `cleared` with `cleared_at` = that list's as-of date and `last_import` = that list);
     a partial import without the participant says nothing (no record, no clearing);
   - `paid`/`disputed` -> `verified` when that evidence is as of the payment date or later and
     shows zero arrears, absence from a full list, or arrears reduced by at least the amount
     paid (vs. the newest record before the payment, else the arrears frozen in the pledge);
   - `paid` -> `disputed` when the evidence is as of at least `grace` days after the payment
     date and still shows arrears;
   - `reserved`/`pledged` -> `released` (`cleared_by_other`) when the evidence, no older than
     the pledge's data, shows zero arrears or absence from a full list;
     -> `released` (`left_segment`) when the newest record's segment is not PBPU/BP or differs
     from the segment in the import the pledge was made from;
   - otherwise unchanged.
2. the changing pledges are locked (id order), updated (only if still in the decided-from
   status), and each change gets a ReconciliationOutcome and an AuditEvent (actor null =
   the system), inserted by one statement each;
3. anomalies: disputed payments, paid pledges an import as of after the payment contradicts
   (arrears not reduced at all, still within the grace period), families where a member was
   just verified while another is still in arrears without a verified pledge.
Anomalies are unique per (pledge, kind) and per open (family, kind): a re-run adds nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection

OUTCOMES = ("verified", "disputed", "released_cleared_by_other", "released_left_segment", "unchanged")

_RECORD_OK = (
    "JOIN participants_arrearsimport i ON i.id = r.arrears_import_id"
    " AND i.status = 'applied' AND NOT i.is_outdated"
)

DECIDE = f"""
CREATE TEMP TABLE rc_dec AS
WITH cand AS (
    SELECT p.id, p.status, p.participant_id, p.arrears_import_id AS pledge_import, p.as_of AS pledge_as_of,
           p.arrears_amount AS pledge_arrears, p.paid_at
    FROM donations_pledge p
    WHERE p.regency_id = %(reg)s AND p.status IN ('reserved', 'pledged', 'paid', 'disputed')
), pay AS (
    SELECT y.pledge_id, sum(y.amount)::bigint AS paid_amount, max(y.paid_on) AS paid_on
    FROM donations_payment y
    WHERE y.regency_id = %(reg)s
      AND y.pledge_id IN (SELECT id FROM cand WHERE status IN ('paid', 'disputed'))
    GROUP BY y.pledge_id
), ev AS (
    SELECT c.*, part.family_id, part.cleared_at, part.last_import_id,
           coalesce(pay.paid_on, (c.paid_at AT TIME ZONE %(tz)s)::date) AS pay_date,
           coalesce(pay.paid_amount, 0) AS paid_amount,
           (part.status = 'cleared' AND part.cleared_at IS NOT NULL
            AND (r.as_of IS NULL OR part.cleared_at >= r.as_of)) AS absent,
           r.as_of AS rec_as_of, r.arrears_amount AS rec_arrears, r.segment AS rec_segment,
           r.arrears_import_id AS rec_import, pr.segment AS pledge_segment
    FROM cand c
    JOIN participants_participant part ON part.id = c.participant_id
    LEFT JOIN pay ON pay.pledge_id = c.id
    LEFT JOIN LATERAL (
        SELECT r.as_of, r.arrears_amount, r.segment, r.arrears_import_id
        FROM participants_arrearsrecord r {_RECORD_OK}
        WHERE r.participant_id = c.participant_id
        ORDER BY r.as_of DESC, r.arrears_import_id DESC LIMIT 1
    ) r ON true
    LEFT JOIN participants_arrearsrecord pr
        ON pr.participant_id = c.participant_id AND pr.arrears_import_id = c.pledge_import
), ev2 AS (
    SELECT ev.*,
           CASE WHEN absent THEN cleared_at ELSE rec_as_of END AS ev_as_of,
           CASE WHEN absent THEN 0 ELSE rec_arrears END AS ev_arrears,
           CASE WHEN absent THEN last_import_id ELSE rec_import END AS ev_import,
           coalesce(b.arrears_amount, pledge_arrears) AS before_arrears
    FROM ev
    LEFT JOIN LATERAL (
        SELECT r.arrears_amount
        FROM participants_arrearsrecord r {_RECORD_OK}
        WHERE ev.status IN ('paid', 'disputed') AND r.participant_id = ev.participant_id
          AND r.as_of < ev.pay_date
        ORDER BY r.as_of DESC, r.arrears_import_id DESC LIMIT 1
    ) b ON true
), decided AS (
    SELECT ev2.*,
        CASE
          WHEN status IN ('paid', 'disputed') AND pay_date IS NOT NULL AND ev_as_of >= pay_date
               AND (absent OR ev_arrears = 0 OR (paid_amount > 0 AND before_arrears - ev_arrears >= paid_amount))
            THEN 'verified'
          WHEN status = 'paid' AND pay_date IS NOT NULL AND ev_as_of >= pay_date + %(grace)s AND ev_arrears > 0
            THEN 'disputed'
          WHEN status IN ('reserved', 'pledged') AND ev_as_of IS NOT NULL
               AND ev_as_of >= coalesce(pledge_as_of, ev_as_of) AND (absent OR ev_arrears = 0)
            THEN 'released_cleared_by_other'
          WHEN status IN ('reserved', 'pledged') AND NOT absent AND rec_as_of IS NOT NULL
               AND (rec_segment NOT IN ('PBPU', 'BP') OR rec_segment <> coalesce(pledge_segment, rec_segment))
            THEN 'released_left_segment'
          ELSE 'unchanged'
        END AS outcome
    FROM ev2
)
SELECT id AS pledge_id, status AS from_status, participant_id, family_id, outcome, ev_import, ev_as_of,
       ev_arrears, absent, pay_date, paid_amount, before_arrears,
       (outcome = 'unchanged' AND status = 'paid' AND pay_date IS NOT NULL AND ev_as_of >= pay_date
        AND ev_arrears > 0 AND ev_arrears >= before_arrears) AS contradicts
FROM decided
"""

COUNTS = """
SELECT outcome, count(*) FROM rc_dec GROUP BY outcome
"""

LOCK = """
SELECT count(*) FROM (
    SELECT p.id FROM donations_pledge p JOIN rc_dec d ON d.pledge_id = p.id
    WHERE d.outcome <> 'unchanged' ORDER BY p.id FOR UPDATE OF p
) locked
"""

DONE_TABLE = """
CREATE TEMP TABLE rc_done (
    pledge_id bigint, from_status varchar(10), to_status varchar(10), outcome varchar(30),
    reason varchar(200), ev_import bigint, ev_as_of date, ev_arrears bigint, family_id bigint
)
"""

UPDATE = """
WITH upd AS (
    UPDATE donations_pledge p SET
        status = CASE d.outcome WHEN 'verified' THEN 'verified' WHEN 'disputed' THEN 'disputed'
                 ELSE 'released' END,
        release_reason = CASE d.outcome
            WHEN 'released_cleared_by_other' THEN 'cleared_by_other'
            WHEN 'released_left_segment' THEN 'left_segment'
            WHEN 'disputed' THEN 'still_in_arrears_after_grace'
            ELSE p.release_reason END,
        verified_at = CASE WHEN d.outcome = 'verified' THEN %(now)s ELSE p.verified_at END,
        closed_at = CASE WHEN d.outcome LIKE 'released%%' THEN %(now)s ELSE p.closed_at END,
        updated_at = %(now)s
    FROM rc_dec d
    WHERE d.pledge_id = p.id AND d.outcome <> 'unchanged' AND p.status = d.from_status
    RETURNING p.id, d.from_status, p.status, d.outcome, p.release_reason, d.ev_import, d.ev_as_of,
              d.ev_arrears, d.family_id
)
INSERT INTO rc_done SELECT * FROM upd
"""

OUTCOME_ROWS = """
INSERT INTO donations_reconciliationoutcome (regency_id, run_id, pledge_id, outcome, from_status, to_status,
    reason, arrears_import_id, evidence_as_of, evidence_arrears, created_at)
SELECT %(reg)s, %(run)s, pledge_id, outcome, from_status, to_status,
       CASE WHEN to_status = 'verified' THEN '' ELSE reason END, ev_import, ev_as_of, ev_arrears, %(now)s
FROM rc_done ORDER BY pledge_id
"""

AUDIT_ROWS = """
INSERT INTO core_auditevent (actor_id, regency_id, verb, object_type, object_id, before, after, created_at)
SELECT NULL, %(reg)s, 'pledge.' || to_status, 'donations.pledge', pledge_id::text,
       jsonb_build_object('status', from_status),
       jsonb_build_object('status', to_status, 'outcome', outcome, 'reason',
                          CASE WHEN to_status = 'verified' THEN '' ELSE reason END,
                          'arrears_import', ev_import, 'as_of', ev_as_of, 'run', %(run)s),
       %(now)s
FROM rc_done ORDER BY pledge_id
"""

RESOLVE_VERIFIED = """
UPDATE donations_anomaly a SET status = 'resolved', resolved_at = %(now)s, note = %(note)s
WHERE a.regency_id = %(reg)s AND a.status = 'open' AND a.pledge_id IN
    (SELECT pledge_id FROM rc_done WHERE to_status = 'verified')
"""

ANOMALIES = """
WITH ins AS (
    INSERT INTO donations_anomaly (regency_id, kind, status, pledge_id, family_id, run_id, arrears_import_id,
                                   detail, note, created_at)
    SELECT %(reg)s, 'disputed_payment', 'open', pledge_id, family_id, %(run)s::bigint, ev_import,
           %(d_disputed)s, '', %(now)s
    FROM rc_done WHERE to_status = 'disputed'
    UNION ALL
    SELECT %(reg)s, 'import_contradicts_payment', 'open', pledge_id, family_id, %(run)s::bigint, ev_import,
           %(d_contradicts)s, '', %(now)s
    FROM rc_dec WHERE contradicts
    UNION ALL
    SELECT DISTINCT ON (d.family_id) %(reg)s, 'family_partly_verified', 'open', NULL::bigint, d.family_id,
           %(run)s::bigint, d.ev_import, %(d_family)s, '', %(now)s
    FROM rc_done d
    WHERE d.to_status = 'verified' AND d.family_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM participants_participant m
        WHERE m.family_id = d.family_id AND m.status <> 'cleared' AND m.arrears_amount > 0
          -- `status || ''`: look the member's pledges up by participant, never by the status
          -- index (just-verified rows make its statistics stale; a per-row scan of it is slow).
          AND NOT EXISTS (SELECT 1 FROM donations_pledge q
                          WHERE q.participant_id = m.id AND q.status || '' = 'verified'))
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM ins
"""


@dataclass
class RuleResult:
    counts: dict[str, int] = field(default_factory=dict)
    changed: int = 0
    anomalies: int = 0


def decide(*, regency_id: int, tz: str, grace_days: int) -> dict[str, int]:
    """Statement 1 (and the counts): builds `rc_dec` in the current transaction."""
    with connection.cursor() as cur:
        # JIT compiling these few big statements costs more than it saves (~0.1 s each).
        cur.execute("SET LOCAL jit = off; DROP TABLE IF EXISTS rc_dec; DROP TABLE IF EXISTS rc_done")
        cur.execute(DECIDE, {"reg": regency_id, "tz": tz, "grace": grace_days})
        cur.execute("ANALYZE rc_dec")
        cur.execute(COUNTS)
        counts = dict.fromkeys(OUTCOMES, 0)
        for outcome, n in cur.fetchall():
            counts[outcome] = int(n)
    return counts


def apply(*, regency_id: int, run_id: int | None, now: dt.datetime, texts: dict[str, str]) -> RuleResult:
    """Lock, update, record outcomes, audit and anomalies. `run_id` is None when nothing changes."""
    result = RuleResult()
    params = {"reg": regency_id, "run": run_id, "now": now, **texts}
    with connection.cursor() as cur:
        if run_id is not None:
            cur.execute(LOCK)
            cur.execute(DONE_TABLE)
            cur.execute(UPDATE, params)
            result.changed = cur.rowcount
            cur.execute("ANALYZE rc_done")
            cur.execute(OUTCOME_ROWS, params)
            cur.execute(AUDIT_ROWS, params)
            cur.execute(RESOLVE_VERIFIED, params)
        else:
            cur.execute(DONE_TABLE)
        cur.execute(ANOMALIES, params)
        result.anomalies = int(cur.fetchone()[0])
        cur.execute("DROP TABLE rc_dec; DROP TABLE rc_done")
    return result
