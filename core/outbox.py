"""The transactional outbox: work that must happen after a commit is never lost to a broker outage.

`enqueue_on_commit(task, *args, **kwargs)` writes an `OutboxMessage` row in the caller's
transaction (so the work exists exactly when the change that needs it does) and, once that
transaction commits, tries to send it to Celery at once. When the broker (Redis) is away the row
simply waits: `relay()` (the `core.outbox_relay` beat job every OUTBOX_RELAY_SECONDS, and
`manage.py relay_outbox`) sends unsent rows oldest first, taking them with
`SELECT ... FOR UPDATE SKIP LOCKED` so that relays never send the same row at the same moment, and
marks a row sent only after the broker accepted it.

Tasks are idempotent: a row sent twice (the process died between the broker's
acceptance and the mark) is harmless; a row never sent would not be.

Where the relay runs when Redis comes back: beat keeps its schedule through an outage (a tick
that cannot be published is logged and skipped), so the first tick after Redis returns sends the
relay, which sends the backlog; `make run` relies on that (no extra process). An operator can
also run `manage.py relay_outbox` by hand at any time (it does not need a worker).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import logging
import socket
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from core.models import OutboxMessage

logger = logging.getLogger(__name__)

# Publishing gives up quickly: the row waits in the outbox, so there is nothing to gain from
# holding a request (or the relay's row locks) while the broker is away.
_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
_BATCH = 200


def broker_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "the broker did not take the message" (not "the task failed")."""
    import kombu.exceptions
    import redis.exceptions

    return (
        kombu.exceptions.OperationalError,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        ConnectionError,
        TimeoutError,
        socket.error,
    )


def _app():
    from config.celery_app import app

    return app


def _task_name(task: Any) -> str:
    return task if isinstance(task, str) else task.name


def _queue_for(name: str, args: list, kwargs: dict) -> str:
    """The queue CELERY_TASK_ROUTES gives the task (kept on the row for the operator's view)."""
    try:
        route = _app().amqp.router.route({}, name, args, kwargs)
    except Exception:  # routing is informative here; Celery routes again when sending
        return ""
    queue = route.get("queue")
    return getattr(queue, "name", queue) or ""


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> OutboxMessage:
    """Queue `task(*args, **kwargs)` once the current transaction commits; never lost.

    `task` is a Celery task or its registered name. Arguments must be JSON (ids, not objects).
    Outside a transaction the row is written (autocommit) and sent at once.
    """
    name = _task_name(task)
    args_list = list(args)
    message = OutboxMessage.objects.create(
        task=name, args=args_list, kwargs=kwargs, queue=_queue_for(name, args_list, kwargs)
    )
    pk = message.pk
    transaction.on_commit(lambda: send(pk))
    return message


outbox_enqueue = enqueue_on_commit


def _mark_sent(pk: int, *, error: str = "") -> None:
    OutboxMessage.objects.filter(pk=pk).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=error
    )


def _mark_failed(pk: int, exc: BaseException) -> None:
    OutboxMessage.objects.filter(pk=pk).update(
        attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:1000]
    )


def _task(name: str):
    """The registered task; the web process imports task modules only when one is needed."""
    app = _app()
    if name not in app.tasks:
        with contextlib.suppress(ImportError):
            importlib.import_module(name.rsplit(".", 1)[0])
    if name not in app.tasks:
        for config in apps.get_app_configs():
            with contextlib.suppress(ImportError):
                importlib.import_module(f"{config.name}.tasks")
    return app.tasks[name]


def _publish(message: OutboxMessage) -> None:
    task = _task(message.task)
    options: dict[str, Any] = {"retry": True, "retry_policy": _RETRY_POLICY}
    if message.queue:
        options["queue"] = message.queue
    task.apply_async(args=list(message.args or []), kwargs=dict(message.kwargs or {}), **options)


def _eager() -> bool:
    return bool(_app().conf.task_always_eager)


def send(pk: int) -> bool:
    """Send one row now (called after the commit that wrote it). False: it waits for the relay."""
    message = OutboxMessage.objects.filter(pk=pk, sent_at__isnull=True).first()
    if message is None:
        return True
    if _eager():
        # Tests and CELERY_TASK_ALWAYS_EAGER: the task runs here, in this process; it counts as
        # sent once it started (its own errors are the task's, not the broker's).
        _mark_sent(pk)
        _publish(message)
        return True
    try:
        _publish(message)
    except broker_errors() as exc:
        logger.warning("outbox %s (%s): broker unreachable, left for the relay: %s", pk, message.task, exc)
        _mark_failed(pk, exc)
        return False
    _mark_sent(pk)
    return True


def relay(*, limit: int | None = None, grace_seconds: float | None = None) -> dict:
    """Send unsent rows, oldest first. Returns {"sent", "waiting", "broker": "ok"|"down"}.

    Rows younger than `grace_seconds` that were never tried are left to their own after-commit
    send (sending them here too would be harmless, only wasteful). Stops at the first broker
    error: the rest wait for the next run.
    """
    grace = settings.OUTBOX_RELAY_GRACE_SECONDS if grace_seconds is None else grace_seconds
    sent = 0
    broker = "ok"
    eager = _eager()
    errors = broker_errors()
    while limit is None or sent < limit:
        cutoff = timezone.now() - dt.timedelta(seconds=grace)
        batch = _BATCH if limit is None else min(_BATCH, limit - sent)
        to_run: list[OutboxMessage] = []
        with transaction.atomic():
            rows = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(sent_at__isnull=True)
                .filter(Q(attempts__gt=0) | Q(created_at__lte=cutoff))
                .order_by("id")[:batch]
            )
            if not rows:
                break
            for row in rows:
                if eager:  # run outside this transaction (below): tasks open their own
                    _mark_sent(row.pk)
                    to_run.append(row)
                    continue
                try:
                    _publish(row)
                except errors as exc:
                    logger.warning("outbox relay: broker unreachable (%s); %s waits", exc, row.pk)
                    _mark_failed(row.pk, exc)
                    broker = "down"
                    break
                _mark_sent(row.pk)
                sent += 1
        for row in to_run:
            _publish(row)
            sent += 1
        if broker == "down" or len(rows) < batch:
            break
    _prune()
    return {"sent": sent, "waiting": OutboxMessage.objects.filter(sent_at__isnull=True).count(), "broker": broker}


def _prune() -> int:
    """Sent rows are kept OUTBOX_KEEP_DAYS for the operator, then removed."""
    before = timezone.now() - dt.timedelta(days=settings.OUTBOX_KEEP_DAYS)
    deleted, _ = OutboxMessage.objects.filter(sent_at__isnull=False, sent_at__lt=before).delete()
    return deleted


def backlog() -> dict:
    """`{"unsent": n, "oldest_unsent_seconds": s or None}` for /healthz and the operator."""
    row = OutboxMessage.objects.filter(sent_at__isnull=True).aggregate(oldest=Min("created_at"))
    unsent = OutboxMessage.objects.filter(sent_at__isnull=True).count() if row["oldest"] else 0
    oldest = row["oldest"]
    age = round((timezone.now() - oldest).total_seconds(), 1) if oldest else None
    return {"unsent": unsent, "oldest_unsent_seconds": age}
