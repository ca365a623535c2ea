"""Celery tasks of the participants app: thin, idempotent wrappers that take ids."""

from __future__ import annotations

from celery import shared_task

from participants import services


@shared_task(acks_late=True, reject_on_worker_lost=True, name="participants.import_run")
def import_run_task(import_id: int) -> str:
    """Run one arrears import; safe to run twice or after a worker crash (a third run of the
    same import is refused: it is then `failed`, see services.MAX_ATTEMPTS)."""
    return services.import_run(import_id=import_id).status


@shared_task(name="participants.import_sweep", ignore_result=True)
def import_sweep_task() -> dict:
    """Beat, every minute: imports whose worker stopped beating are queued again or failed."""
    return services.import_sweep()
