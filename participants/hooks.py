"""Hooks other apps register into, so that participants never imports them.

Active pledges: the donations app registers the model that holds one row per active
pledge (reserved, pledged or paid), keyed by `participant_id`
(`register_active_pledges(ActivePledge)`, in its AppConfig.ready). A full list asks
before it releases any of them. Any other
counter may be registered with `register_pledge_counter(fn)`: `fn(cursor, table)`
runs on the import's own connection and counts the pledges on the participants
listed in the temporary `table` (one column, `participant_id`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg2 import sql

PledgeCounter = Callable[[Any, str], int]

_pledge_counters: list[PledgeCounter] = []


def register_pledge_counter(fn: PledgeCounter) -> None:
    """Idempotent: registering the same function twice counts it once."""
    if fn not in _pledge_counters:
        _pledge_counters.append(fn)


class _ModelCounter:
    """Counts the rows of a model (a table with `participant_id`) among `table`'s participants."""

    def __init__(self, model: Any) -> None:
        self.db_table = model._meta.db_table

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ModelCounter) and other.db_table == self.db_table

    def __hash__(self) -> int:
        return hash(self.db_table)

    def __call__(self, cursor: Any, table: str) -> int:
        cursor.execute(
            sql.SQL("SELECT count(*) FROM {} a JOIN {} t ON t.participant_id = a.participant_id").format(
                sql.Identifier(self.db_table), sql.Identifier(table))
        )
        return int(cursor.fetchone()[0])


def register_active_pledges(model: Any) -> None:
    """`model`: one row per active pledge, with a `participant_id` column."""
    register_pledge_counter(_ModelCounter(model))


def pledges_held(cursor: Any, table: str) -> int:
    """Active pledges on the participants in `table` (0 when no app registered a counter)."""
    return sum(int(fn(cursor, table)) for fn in _pledge_counters)


# --- monthly tariffs (the 24-month bill) --------------------------------------------------
#
# The donations app registers its effective-dated tariff model (`register_tariffs(Tariff)`,
# in its AppConfig.ready): a table with `care_class`, `amount` (the participant's monthly
# contribution, rupiah) and `effective_from`. The import flags a row billed above 24 months
# at its class's tariff; participant pages show the capped bill.

_tariff_tables: list[str] = []


def register_tariffs(model: Any) -> None:
    """`model`: rows of (care_class, amount, effective_from). Idempotent; the last one registered wins."""
    table = model._meta.db_table
    if table in _tariff_tables:
        _tariff_tables.remove(table)
    _tariff_tables.append(table)


def monthly_tariffs(on: Any) -> dict[int, int]:
    """{care class: monthly contribution in force on day `on`} ({} when no app registered one). One query."""
    if not _tariff_tables:
        return {}
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "SELECT DISTINCT ON (care_class) care_class, amount FROM {} "
                "WHERE effective_from <= %s ORDER BY care_class, effective_from DESC"
            ).format(sql.Identifier(_tariff_tables[-1])),
            [on],
        )
        return {int(care_class): int(amount) for care_class, amount in cursor.fetchall()}


# --- eligibility (derived from assessments) -------------------------------------------------

EligibilityExpression = Callable[..., Any]

_eligibility: list[EligibilityExpression] = []


def register_eligibility(fn: EligibilityExpression) -> None:
    """`fn(today, *, regency)`: an expression giving a Participant row's eligibility, one of
    `participants.selectors.ELIGIBILITY_CHOICES`. Idempotent; the last one registered wins."""
    if fn in _eligibility:
        _eligibility.remove(fn)
    _eligibility.append(fn)


def eligibility_expression(today: Any, *, regency: Any) -> Any:
    """The registered expression; without one, every participant is `unassessed`."""
    if not _eligibility:
        from django.db.models import CharField, Value

        return Value("unassessed", output_field=CharField())
    return _eligibility[-1](today, regency=regency)


EligibilityFilter = Callable[..., Any]

_eligibility_filters: list[EligibilityFilter] = []


def register_eligibility_filter(fn: EligibilityFilter) -> None:
    """`fn(value, today, *, regency)`: a `Q` keeping the Participant rows whose eligibility is
    `value`, written as joins on the assessments (an index each) rather than the per-row CASE of
    the expression; None for a value it does not know. Idempotent; the last one registered wins."""
    if fn in _eligibility_filters:
        _eligibility_filters.remove(fn)
    _eligibility_filters.append(fn)


def eligibility_filter(value: str, today: Any, *, regency: Any) -> Any:
    """The registered filter's `Q` for `value`; None without one (filter on the expression then)."""
    if not _eligibility_filters:
        return None
    return _eligibility_filters[-1](value, today, regency=regency)
