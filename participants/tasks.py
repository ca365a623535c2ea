"""Celery tasks of the participants app: thin, idempotent wrappers that take ids."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from participants import partitions, services


@shared_task(acks_late=True, reject_on_worker_lost=True, name="participants.import_run")
def import_run_task(import_id: int) -> str:
    """Run one arrears import; safe to run twice or after a worker crash (a third run of the
    same import is refused: it is then `failed`, see services.MAX_ATTEMPTS)."""
    return services.import_run(import_id=import_id).status


@shared_task(name="participants.import_sweep", ignore_result=True)
def import_sweep_task() -> dict:
    """Beat, every minute: imports whose worker stopped beating are queued again or failed."""
    return services.import_sweep()


@shared_task(name="participants.ensure_history_partitions", ignore_result=True)
def ensure_history_partitions(months: int | None = None) -> list[str]:
    """Beat, monthly: the arrears history's partitions for this month and the next `months`
    (default HISTORY_PARTITION_MONTHS_AHEAD) exist, and so does one for each month found in the
    DEFAULT partition; made only where missing, so running it again, or after a crash, changes
    nothing. Returns the months made (`YYYY-MM`)."""
    ahead = settings.HISTORY_PARTITION_MONTHS_AHEAD if months is None else months
    made = partitions.history_partitions_ensure_ahead(months=ahead) + partitions.history_partitions_from_default()
    return [month.strftime("%Y-%m") for month in sorted(made)]
