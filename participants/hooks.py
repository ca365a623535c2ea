"""Hooks other apps register into, so that participants never imports them.

Active pledges: the donations app registers the model that holds one row per active
pledge (reserved, pledged or paid), keyed by `participant_id`
(`register_active_pledges(ActivePledge)`, in its AppConfig.ready). A full list asks
before it releases any of them (CONTRACT.md "Imports that ask first"). Any other
counter may be registered with `register_pledge_counter(fn)`: `fn(cursor, table)`
runs on the import's own connection and counts the pledges on the participants
listed in the temporary `table` (one column, `participant_id`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
            f'SELECT count(*) FROM "{self.db_table}" a JOIN {table} t ON t.participant_id = a.participant_id'  # noqa: S608
        )
        return int(cursor.fetchone()[0])


def register_active_pledges(model: Any) -> None:
    """`model`: one row per active pledge, with a `participant_id` column."""
    register_pledge_counter(_ModelCounter(model))


def pledges_held(cursor: Any, table: str) -> int:
    """Active pledges on the participants in `table` (0 when no app registered a counter)."""
    return sum(int(fn(cursor, table)) for fn in _pledge_counters)
