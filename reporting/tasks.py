"""Celery tasks of the summaries: thin, idempotent, take ids."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def summary_refresh_task(regency_id: int) -> dict[str, int]:
    """Refresh one regency's summary (after an approval). Safe to run twice."""
    from regencies.models import Regency
    from reporting.summaries import summary_refresh

    regency = Regency.objects.filter(pk=regency_id).first()
    if regency is None:
        return {}
    return {regency.code: summary_refresh(regency=regency).in_arrears}


@shared_task(acks_late=True)
def summaries_refresh_all_task() -> dict[str, int]:
    """Every regency's summary, districts and trend (nightly: eligibility lapses with the date)."""
    from reporting.summaries import summaries_refresh_all

    return summaries_refresh_all()
