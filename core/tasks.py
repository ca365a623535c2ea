"""Celery tasks of the core app: thin wrappers (STYLE.md)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="core.outbox_relay", ignore_result=True)
def outbox_relay_task() -> dict:
    """Beat: send the outbox rows the after-commit send could not (the broker was away)."""
    from core.outbox import relay

    return relay()
