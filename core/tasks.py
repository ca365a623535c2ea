"""Celery tasks of the core app: thin wrappers."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="core.outbox_relay", ignore_result=True)
def outbox_relay_task() -> dict:
    """Beat: send the outbox rows the after-commit send could not (the broker was away)."""
    from core.outbox import relay

    return relay()


@shared_task(name="core.check_integrity", ignore_result=True)
def check_integrity_task() -> dict:
    """Beat, nightly: run the integrity checks; failures go to the audit trail and the error log."""
    from core.integrity import run_and_record

    return run_and_record()
