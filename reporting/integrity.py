"""Integrity checks of the summary tables (run by `manage.py check_integrity`, core.integrity).

The figures only an applied list changes (participants, in arrears, families in arrears, the
arrears, cleared) must equal the live figures (`reporting.figures`): the import refreshes them in
its own transaction, so a difference means a write that went around it. Eligibility, the screening
queue and the pledge-dependent figures follow approvals, screening runs, reconciliation and the
date, and are refreshed after them and nightly: not checked here.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from psycopg2 import sql

from core.integrity import Statement, register
from participants.models import Participant, ParticipantStatus
from participants.selectors import in_arrears_q
from reporting.models import RegencySummary


def _live(**aggregate: Any) -> Coalesce:
    """One live figure of the summary row's regency, as a correlated subquery."""
    ((name, expression),) = aggregate.items()
    rows = (
        Participant.all_regencies.filter(regency_id=OuterRef("regency_id"))
        .order_by().values("regency_id").annotate(**{name: expression}).values(name)
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


@register("reporting:summary_list_figures", "regency summaries whose list figures differ from the live ones")
def _summary_list_figures() -> Statement:
    arrears = in_arrears_q()
    live = {
        "participants": _live(n=Count("id")),
        "in_arrears": _live(n=Count("id", filter=arrears)),
        "families_in_arrears": _live(n=Count("family_id", filter=arrears, distinct=True)),
        "arrears_total": _live(n=Sum("arrears_amount", filter=arrears)),
        "cleared": _live(n=Count("id", filter=Q(status=ParticipantStatus.CLEARED))),
    }
    differs = Q()
    for field in live:
        differs |= ~Q(**{field: F(f"live_{field}")})
    bad = (
        RegencySummary.all_regencies.annotate(**{f"live_{field}": value for field, value in live.items()})
        .filter(differs)
        .values("id")
    )
    query, params = bad.query.sql_with_params()
    return sql.SQL("SELECT count(*) FROM ({}) AS bad").format(sql.SQL(query)), params  # type: ignore[return-value]
