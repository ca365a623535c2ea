"""`participants_standing`, kept by the database: statement triggers on the participant table
copy each written participant's status, months and amount there (see `Standing`).

Statement triggers with transition tables: one set-based statement per statement on the
participant table, whatever its number of rows (an import's UPDATE of 50,000 participants costs
one join, not 50,000 function calls). An insert that skips a conflict (`ON CONFLICT DO
NOTHING`) lists only the rows it inserted; an update copies only what differs, so an update of
a participant's name or address writes nothing here.

The planner knows nothing of a transition table's size: left to itself, it hashes the whole
standing table to join a statement's rows (58 ms at 276,000 participants, growing with every
participant ever listed). The functions allow only a nested loop, which reads the standing by
its primary key, one probe per row the statement wrote.
"""

from __future__ import annotations

PARTICIPANT = "participants_participant"
STANDING = "participants_standing"

# event -> (REFERENCING clause, the statement that follows the participants' rows)
_EVENTS = {
    "insert": (
        "NEW TABLE AS new_rows",
        "INSERT INTO participants_standing (participant_id, regency_id, status, months_in_arrears, arrears_amount) "
        "SELECT n.id, n.regency_id, n.status, n.months_in_arrears, n.arrears_amount FROM new_rows n",
    ),
    "update": (
        "NEW TABLE AS new_rows",
        "UPDATE participants_standing s SET regency_id = n.regency_id, status = n.status, "
        "months_in_arrears = n.months_in_arrears, arrears_amount = n.arrears_amount "
        "FROM new_rows n WHERE s.participant_id = n.id "
        "AND (s.regency_id, s.status, s.months_in_arrears, s.arrears_amount) "
        "IS DISTINCT FROM (n.regency_id, n.status, n.months_in_arrears, n.arrears_amount)",
    ),
    "delete": (
        "OLD TABLE AS old_rows",
        "DELETE FROM participants_standing s USING old_rows o WHERE s.participant_id = o.id",
    ),
}

# The participants there are when the table is made.
FILL_SQL = (
    "INSERT INTO participants_standing (participant_id, regency_id, status, months_in_arrears, arrears_amount) "
    "SELECT id, regency_id, status, months_in_arrears, arrears_amount FROM participants_participant"
)


def standing_sql() -> str:
    """The functions and triggers that keep `participants_standing` (the migration's names only)."""
    parts = []
    for event, (referencing, statement) in _EVENTS.items():
        parts.append(f"""
CREATE FUNCTION {STANDING}_{event}() RETURNS trigger LANGUAGE plpgsql
    SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
    {statement};
    RETURN NULL;
END $$;
CREATE TRIGGER {STANDING}_{event} AFTER {event.upper()} ON {PARTICIPANT}
    REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {STANDING}_{event}();
""")
    return "".join(parts)


def standing_reverse_sql() -> str:
    return "".join(
        f"DROP TRIGGER {STANDING}_{event} ON {PARTICIPANT};\nDROP FUNCTION {STANDING}_{event}();\n"
        for event in _EVENTS
    )
