"""Celery tasks of the participants app: thin, idempotent wrappers that take ids."""

from __future__ import annotations

from celery import shared_task

from participants import services


@shared_task(acks_late=True, name="participants.import_run")
def import_run_task(import_id: int) -> str:
    """Run one arrears import; safe to run twice or after a worker crash."""
    return services.import_run(import_id=import_id).status
