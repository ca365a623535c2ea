"""Celery tasks: thin, idempotent wrappers that take ids."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def screening_run_task(import_id: int) -> dict:
    """Screen every regency of an applied import's branch. Safe to run twice (upsert)."""
    from assessments.screening import screening_run_for_import

    return screening_run_for_import(import_id=import_id)


@shared_task(acks_late=True)
def screening_regency_task(regency_id: int) -> dict:
    """Re-screen one regency (after its thresholds changed)."""
    from assessments.screening import screening_run
    from regencies.models import Regency

    regency = Regency.objects.filter(pk=regency_id).first()
    if regency is None:
        return {}
    return screening_run(regency=regency)


def on_import_applied(sender, import_id: int, **kwargs) -> None:
    """Receiver of `arrears_import_applied` (inside the apply transaction): screen after commit,
    through the outbox so that a broker outage delays screening but never drops it."""
    from core.outbox import enqueue_on_commit

    enqueue_on_commit(screening_run_task, import_id)
