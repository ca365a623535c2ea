"""Reads of reconciliation for the regency's page and export (tenant-scoped)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, QuerySet

from donations.models import (
    Anomaly,
    AnomalyStatus,
    Outcome,
    ReconciliationOutcome,
    ReconciliationRun,
    ReconciliationSettings,
)
from donations.reconciliation.services import DEFAULT_GRACE_DAYS, DEFAULT_REMINDER_DAYS
from participants.models import ArrearsImport
from regencies.models import Regency

OUTCOME_KEYS = [o.value for o in Outcome]


def runs(*, regency: Regency, limit: int = 20) -> list[ReconciliationRun]:
    return list(ReconciliationRun.objects.for_regency(regency).select_related("arrears_import", "started_by")
                .order_by("-started_at", "-id")[:limit])


def counts_per_import(*, regency: Regency, limit: int = 10) -> list[dict]:
    """Per import that caused decisions: `{"import": ArrearsImport, "counts": {outcome: n}, "total": n}`,
    newest first."""
    rows = (ReconciliationOutcome.objects.for_regency(regency).values("arrears_import_id", "outcome")
            .annotate(n=Count("id")).order_by())
    per: dict[int | None, dict[str, int]] = defaultdict(lambda: dict.fromkeys(OUTCOME_KEYS, 0))
    for row in rows:
        per[row["arrears_import_id"]][row["outcome"]] = row["n"]
    imports = {i.pk: i for i in ArrearsImport.objects.filter(pk__in=[k for k in per if k])}
    found = [(imports.get(k) if k is not None else None, v) for k, v in per.items()]
    found.sort(key=lambda p: (p[0].as_of, p[0].pk) if p[0] else (dt.date.min, 0), reverse=True)
    return [{"import": i, "counts": v, "total": sum(v.values())} for i, v in found[:limit]]


def totals(*, regency: Regency) -> dict[str, int]:
    rows = (ReconciliationOutcome.objects.for_regency(regency).values("outcome").annotate(n=Count("id"))
            .order_by())
    result = dict.fromkeys(OUTCOME_KEYS, 0)
    for row in rows:
        result[row["outcome"]] = row["n"]
    return result


def outcomes(*, regency: Regency, outcome: str | None = None) -> QuerySet[ReconciliationOutcome]:
    qs = (ReconciliationOutcome.objects.for_regency(regency)
          .select_related("pledge", "pledge__participant", "pledge__campaign", "pledge__donor", "arrears_import",
                          "run")
          .order_by("-created_at", "-id"))
    if outcome in OUTCOME_KEYS:
        qs = qs.filter(outcome=outcome)
    return qs


def anomalies(*, regency: Regency, status: str = AnomalyStatus.OPEN) -> QuerySet[Anomaly]:
    qs = (Anomaly.objects.for_regency(regency)
          .select_related("pledge", "pledge__participant", "pledge__campaign", "pledge__donor", "family",
                          "arrears_import", "resolved_by")
          .order_by("-created_at", "-id"))
    if status in AnomalyStatus.values:
        qs = qs.filter(status=status)
    return qs


def anomaly_get(*, regency: Regency, anomaly_id: int) -> Anomaly | None:
    return (Anomaly.objects.for_regency(regency).select_related("pledge", "pledge__donor", "regency")
            .filter(pk=anomaly_id).first())


def open_anomaly_count(*, regency: Regency) -> int:
    return Anomaly.objects.for_regency(regency).filter(status=AnomalyStatus.OPEN).count()


def settings_get(*, regency: Regency) -> dict[str, int]:
    from donations.selectors import MoneySettings

    row = ReconciliationSettings.objects.for_regency(regency).first()
    if row is None:
        money = MoneySettings()
        return {"grace_days": DEFAULT_GRACE_DAYS, "reminder_days": DEFAULT_REMINDER_DAYS,
                "payment_window_days": money.payment_window_days,
                "reservations_per_day": money.reservations_per_day}
    return {"grace_days": row.grace_days, "reminder_days": row.reminder_days,
            "payment_window_days": row.payment_window_days, "reservations_per_day": row.reservations_per_day}
