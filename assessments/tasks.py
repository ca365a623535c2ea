"""Celery tasks: thin, idempotent wrappers that take ids (STYLE.md)."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction


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
    """Receiver of `participants.signals.arrears_import_applied`: screen after commit."""
    transaction.on_commit(lambda: screening_run_task.delay(import_id))
