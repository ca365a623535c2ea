"""The pledge tallies (`PledgeTally`, `CoverTally`) and the unfinished pledges (`UnfinishedPledge`):
what they must hold, checked and rebuilt.

The database keeps them (the triggers of migrations 0015 and 0017, in the statement that writes
pledges);
this module says what they hold, from the pledges themselves, for three uses: the migration's
first fill, `check_integrity` (tallies that differ from the pledges), and `rebuild` (an operator
repair, `manage.py rebuild_pledge_tallies`). Reads of the tallies are in `donations.selectors`.
"""

from __future__ import annotations

from django.db import connection, transaction

from donations.models import COVERING_STATUSES, UNFINISHED_STATUSES

# Every piece put into the statements below is one of this module's constants (hence the noqa S608).
COVERING_SQL = "(" + ", ".join(f"'{status.value}'" for status in COVERING_STATUSES) + ")"
UNFINISHED_SQL = "(" + ", ".join(f"'{status.value}'" for status in UNFINISHED_STATUSES) + ")"

# (regency_id, campaign_id, status, pledges, rupiah) from the pledges.
EXPECTED_PLEDGE_TALLY = """
SELECT regency_id, campaign_id, status, count(*) AS pledges, sum(amount) AS rupiah
FROM donations_pledge GROUP BY regency_id, campaign_id, status
"""

# (regency_id, scope, campaign_id, district_id, participants) from the pledges.
EXPECTED_COVER_TALLY = f"""
SELECT regency_id, 'r'::varchar AS scope, NULL::bigint AS campaign_id, NULL::bigint AS district_id,
       count(DISTINCT participant_id) AS participants
FROM donations_pledge WHERE status IN {COVERING_SQL} GROUP BY regency_id
UNION ALL
SELECT regency_id, 'c', campaign_id, NULL::bigint, count(DISTINCT participant_id)
FROM donations_pledge WHERE status IN {COVERING_SQL} GROUP BY regency_id, campaign_id
UNION ALL
SELECT regency_id, 'd', NULL::bigint, district_id, count(DISTINCT participant_id)
FROM donations_pledge WHERE status IN {COVERING_SQL} GROUP BY regency_id, district_id
"""  # noqa: S608

REBUILD_SQL = f"""
LOCK TABLE donations_pledge IN SHARE MODE;
DELETE FROM donations_pledgetally;
DELETE FROM donations_covertally;
INSERT INTO donations_pledgetally (regency_id, campaign_id, status, pledges, rupiah) {EXPECTED_PLEDGE_TALLY};
INSERT INTO donations_covertally (regency_id, scope, campaign_id, district_id, participants) {EXPECTED_COVER_TALLY};
"""  # noqa: S608

# Separate from REBUILD_SQL, which migration 0015 runs before this table exists.
REBUILD_UNFINISHED_SQL = f"""
LOCK TABLE donations_pledge IN SHARE MODE;
DELETE FROM donations_unfinishedpledge;
INSERT INTO donations_unfinishedpledge (pledge_id, regency_id)
SELECT id, regency_id FROM donations_pledge WHERE status IN {UNFINISHED_SQL};
"""  # noqa: S608

# Keys whose tally differs from the pledges (a missing row counts as zero).
PLEDGE_TALLY_DIFFERENCES = f"""
SELECT count(*) FROM donations_pledgetally t
FULL JOIN ({EXPECTED_PLEDGE_TALLY}) e
  ON e.regency_id = t.regency_id AND e.campaign_id = t.campaign_id AND e.status = t.status
WHERE coalesce(t.pledges, 0) <> coalesce(e.pledges, 0) OR coalesce(t.rupiah, 0) <> coalesce(e.rupiah, 0)
"""  # noqa: S608

COVER_TALLY_DIFFERENCES = f"""
SELECT count(*) FROM donations_covertally t
FULL JOIN ({EXPECTED_COVER_TALLY}) e
  ON e.regency_id = t.regency_id AND e.scope = t.scope
 AND e.campaign_id IS NOT DISTINCT FROM t.campaign_id AND e.district_id IS NOT DISTINCT FROM t.district_id
WHERE coalesce(t.participants, 0) <> coalesce(e.participants, 0)
"""  # noqa: S608

# Pledges whose row is missing (unfinished) or extra (finished, or another regency's).
UNFINISHED_DIFFERENCES = f"""
SELECT count(*) FROM donations_pledge p FULL JOIN donations_unfinishedpledge u ON u.pledge_id = p.id
WHERE (p.status IN {UNFINISHED_SQL}) IS DISTINCT FROM (u.pledge_id IS NOT NULL) OR u.regency_id <> p.regency_id
"""  # noqa: S608


def differences() -> int:
    """How many tally rows and unfinished-pledge rows differ from the pledges (0 when the
    triggers kept them)."""
    total = 0
    with connection.cursor() as cur:
        for statement in (PLEDGE_TALLY_DIFFERENCES, COVER_TALLY_DIFFERENCES, UNFINISHED_DIFFERENCES):
            cur.execute(statement)
            total += cur.fetchone()[0]
    return total


def rebuild() -> None:
    """Recompute every tally and the unfinished pledges from the pledges, with pledge writes held
    off meanwhile."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(REBUILD_SQL)
        cur.execute(REBUILD_UNFINISHED_SQL)
