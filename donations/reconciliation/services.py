"""Writes of reconciliation: the run (one transaction per regency), anomaly actions, reminders.

`reconcile_regency` locks the regency row FOR UPDATE first (like every pledge write in
`donations.services`, order regency -> participant -> pledge -> payment), so a donor confirming,
paying or cancelling in that regency waits for the run, or the run waits for them; the run then
applies the rules of `rules.py` in a fixed number of statements (its update takes the pledges'
row locks: every other pledge writer holds the regency lock first or skips locked rows). A crash
rolls the regency's transaction back; a re-run completes it. A run that changes nothing stores
nothing (idempotent).
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

import django.dispatch
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import audit_record
from core.errors import DomainError, NotFound, PermissionDenied
from core.outbox import enqueue_on_commit
from core.time import regency_today
from donations.models import (
    Anomaly,
    AnomalyStatus,
    Pledge,
    PledgeStatus,
    ReconciliationRun,
    ReconciliationSettings,
    ReconciliationTrigger,
)
from donations.reconciliation import rules
from donations.services import _lock_regency
from participants.models import ArrearsImport, ImportStatus
from regencies.models import Regency
from regencies.permissions import regency_access_for
from regencies.roles import Perm

# Sent inside `reconcile_regency`'s transaction when a run changed pledges (kwargs `regency_id`,
# `run_id`): a higher app refreshes what it keeps about the regency in the same transaction.
reconciliation_done = django.dispatch.Signal()

DEFAULT_GRACE_DAYS = 30
DEFAULT_REMINDER_DAYS = 7


def settings_for(regency_id: int) -> tuple[int, int]:
    row = (ReconciliationSettings.objects.for_regency(regency_id)
           .values_list("grace_days", "reminder_days").first())
    return row or (DEFAULT_GRACE_DAYS, DEFAULT_REMINDER_DAYS)


def newest_import(regency_id: int) -> ArrearsImport | None:
    """The newest applied, non-outdated import of any branch covering the regency."""
    return (ArrearsImport.objects.filter(branch__regencies__id=regency_id, status=ImportStatus.APPLIED,
                                         is_outdated=False)
            .order_by("-as_of", "-id").first())


def _require_reconciler(actor: User, regency: Regency) -> None:
    access = regency_access_for(user=actor, regency=regency)
    if access is None:
        raise NotFound()
    if not access.can(Perm.RECONCILE):
        raise PermissionDenied()


def _texts() -> dict[str, str]:
    return {
        "d_disputed": str(_("Sudah dibayar, tetapi impor setelah masa tenggang masih menunjukkan tunggakan."))[:300],
        "d_contradicts": str(_("Impor setelah tanggal bayar tidak menunjukkan pengurangan tunggakan."))[:300],
        "d_family": str(_("Sebagian anggota keluarga terverifikasi, anggota lain masih menunggak: "
                          "keluarga belum aktif."))[:300],
        "note": str(_("Selesai otomatis: impor berikutnya menunjukkan tunggakan sudah lunas."))[:300],
    }


def reconcile_regency(*, regency: Regency, trigger: str = ReconciliationTrigger.MANUAL,
                      actor: User | None = None, now: dt.datetime | None = None, notify: bool = True) -> dict:
    """Apply the rules to every unfinished pledge of one regency, in one transaction.

    Returns `{"run": id-or-None, "import": id-or-None, <outcome>: n, ..., "anomalies": n}`."""
    if trigger not in ReconciliationTrigger.values:
        raise DomainError(_("Pemicu rekonsiliasi tidak dikenal."), code="invalid")
    if actor is not None:
        _require_reconciler(actor, regency)
    with transaction.atomic():
        locked = _lock_regency(regency.pk)
        # The run's moment is once it holds the lock: a donor's change it waited for came before.
        moment = now or timezone.now()
        latest = newest_import(locked.pk)
        result: dict = {"run": None, "import": latest.pk if latest else None,
                        **dict.fromkeys(rules.OUTCOMES, 0), "anomalies": 0}
        if latest is None:
            return result  # no list yet: nothing to reconcile against
        grace, _reminder = settings_for(locked.pk)
        counts = rules.decide(regency_id=locked.pk, latest_import_id=latest.pk, tz=locked.timezone,
                              grace_days=grace, today=regency_today(locked, moment))
        result.update(counts)
        changes = sum(n for k, n in counts.items() if k != "unchanged")
        run = None
        if changes:
            run = ReconciliationRun.objects.create(
                regency=locked, trigger=trigger, arrears_import=latest, started_by=actor, started_at=moment,
                **counts,
            )
        applied = rules.apply(regency_id=locked.pk, run_id=run.pk if run else None, now=moment, texts=_texts())
        result["anomalies"] = applied.anomalies
        if run is not None:
            run.finished_at = timezone.now()
            run.anomalies = applied.anomalies
            run.save(update_fields=["finished_at", "anomalies"])
            result["run"] = run.pk
            # The run in the audit trail (the system's when no one started it); the pledges it
            # changed are in its outcome rows, the trail of those changes (ReconciliationOutcome).
            audit_record(actor=actor, verb="reconciliation.run", obj=run, regency=locked,
                         after={"trigger": trigger, "import": latest.pk,
                                **{k: result[k] for k in (*rules.OUTCOMES, "anomalies")}})
            if notify:
                run_id = run.pk
                _notify_later(run_id)
            reconciliation_done.send(sender=ReconciliationRun, regency_id=locked.pk, run_id=run.pk)
        elif actor is not None:
            audit_record(actor=actor, verb="reconciliation.run", object_type="regencies.regency",
                         object_id=locked.pk, regency=locked, after={"changed": 0})
    return result


def _notify_later(run_id: int) -> None:
    from donations.tasks import reconciliation_notify_task

    enqueue_on_commit(reconciliation_notify_task, run_id)


def reconcile(*, regency_code: str | None = None, trigger: str = ReconciliationTrigger.MANUAL,
              regency_ids: list[int] | None = None, notify: bool = True,
              on_progress: Callable[[str], None] | None = None, workers: int | None = None) -> dict:
    """Every regency (or one by code, or the given ids), each in its own transaction.

    Regencies share no pledge, payment or lock, so up to `workers` of them (default: the setting
    `RECONCILIATION_WORKERS`, else min(4, CPU count)) run at the same time, each in its own thread
    and database connection; the run is write-bound, one regency keeps one core busy. Inside a
    caller's open transaction they run one after the other on the caller's connection (another
    connection would not see its uncommitted rows).

    Returns `{"regencies": {code: {...}}, <outcome>: total, ..., "anomalies": n, "seconds": s}`;
    raises NotFound for an unknown regency code."""
    started = time.monotonic()
    regencies = Regency.objects.order_by("code")
    if regency_code is not None:
        regencies = regencies.filter(code=regency_code)
        if not regencies.exists():
            raise NotFound(_("Kabupaten/kota dengan kode %(c)s tidak dikenal.") % {"c": regency_code})
    if regency_ids is not None:
        regencies = regencies.filter(pk__in=regency_ids)
    chosen = list(regencies)

    def one(regency: Regency) -> dict:
        if on_progress:
            on_progress(regency.code)
        return reconcile_regency(regency=regency, trigger=trigger, notify=notify)

    n = _worker_count(workers, len(chosen))
    results = _in_threads(one, chosen, n) if n > 1 else [one(regency) for regency in chosen]
    totals: dict = {"regencies": {}, **dict.fromkeys(rules.OUTCOMES, 0), "anomalies": 0}
    for regency, result in zip(chosen, results, strict=True):
        totals["regencies"][regency.code] = {k: result[k] for k in (*rules.OUTCOMES, "anomalies")}
        for key in (*rules.OUTCOMES, "anomalies"):
            totals[key] += result[key]
    totals["seconds"] = round(time.monotonic() - started, 3)
    return totals


def _worker_count(workers: int | None, regencies: int) -> int:
    if connection.in_atomic_block:
        return 1
    if workers is None:
        workers = getattr(settings, "RECONCILIATION_WORKERS", None) or min(4, os.cpu_count() or 1)
    return max(1, min(workers, regencies))


def _in_threads(work: Callable[[Regency], dict], regencies: list[Regency], workers: int) -> list[dict]:
    """`work` for each regency on `workers` threads; results in the regencies' order; the first
    failure (in that order) is raised after all have finished.

    Each thread takes the next regency from a shared queue and keeps its database connection for
    every regency it takes, closing it when the queue is empty (or after a failure, so that the
    next regency starts on a sound connection). A connection per regency cost each regency a
    connection's setup and cold catalogue caches: planning the decision statement, which names
    every month's partition of the history, from nothing (bench/README.md, session 20)."""
    todo: queue.SimpleQueue[tuple[int, Regency]] = queue.SimpleQueue()
    for position, regency in enumerate(regencies):
        todo.put((position, regency))
    results: list[dict] = [{} for _regency in regencies]
    failures: dict[int, BaseException] = {}

    def drain() -> None:
        try:
            while True:
                try:
                    position, regency = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[position] = work(regency)
                except BaseException as exc:  # kept and raised in the caller's thread
                    failures[position] = exc
                    connections.close_all()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reconcile") as pool:
        wait([pool.submit(drain) for _worker in range(workers)])
    if failures:
        raise failures[min(failures)]
    return results


def reconcile_after_import(*, import_id: int) -> dict:
    """The regencies of the applied import's branch (the chained task)."""
    arrears_import = ArrearsImport.objects.filter(pk=import_id, status=ImportStatus.APPLIED).first()
    if arrears_import is None:
        return {}
    ids = list(arrears_import.branch.regencies.values_list("pk", flat=True))
    return reconcile(regency_ids=ids, trigger=ReconciliationTrigger.IMPORT)


# --- anomaly actions ------------------------------------------------------------------------------


def _locked_anomaly(anomaly: Anomaly) -> Anomaly:
    return (Anomaly.objects.for_regency(anomaly.regency_id).select_for_update(of=("self",))
            .get(pk=anomaly.pk))


def anomaly_resolve(*, anomaly: Anomaly, actor: User, note: str) -> Anomaly:
    """Staff close an anomaly with a note (what was checked, what was agreed)."""
    _require_reconciler(actor, anomaly.regency)
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Tuliskan catatan penyelesaian (apa yang diperiksa dan hasilnya)."), code="invalid",
                          extra={"errors": {"note": _("wajib diisi")}})
    if len(note) > 2000:
        raise DomainError(_("Catatan paling panjang 2000 karakter."), code="invalid",
                          extra={"errors": {"note": _("terlalu panjang")}})
    with transaction.atomic():
        _lock_regency(anomaly.regency_id)
        locked = _locked_anomaly(anomaly)
        if locked.status == AnomalyStatus.RESOLVED:
            raise DomainError(_("Anomali ini sudah diselesaikan."), code="already_resolved")
        locked.status, locked.note = AnomalyStatus.RESOLVED, note
        locked.resolved_by, locked.resolved_at = actor, timezone.now()
        locked.save()
        audit_record(actor=actor, verb="anomaly.resolved", obj=locked, regency=anomaly.regency,
                     before={"status": AnomalyStatus.OPEN}, after={"status": AnomalyStatus.RESOLVED, "note": note})
    return locked


def anomaly_contact_donor(*, anomaly: Anomaly, actor: User) -> dict:
    """Show the donor's contact to staff; every look is an audit event (personal data)."""
    _require_reconciler(actor, anomaly.regency)
    pledge = anomaly.pledge
    if pledge is None or pledge.donor is None:
        raise DomainError(_("Anomali ini tidak terkait dengan donatur perorangan (dana bersama atau keluarga)."),
                          code="no_donor")
    donor = pledge.donor
    profile = getattr(donor, "donor_profile", None)
    contact = {
        "name": (profile.display_name if profile and profile.display_name else donor.get_full_name()) or donor.email,
        "email": donor.email,
        "phone": profile.phone if profile else "",
    }
    with transaction.atomic():
        audit_record(actor=actor, verb="anomaly.donor_contact_shown", obj=anomaly, regency=anomaly.regency,
                     after={"pledge": str(pledge.public_id), "donor": donor.pk})
    return contact


def settings_update(*, regency: Regency, actor: User, grace_days: int, reminder_days: int,
                    payment_window_days: int | None = None,
                    reservations_per_day: int | None = None) -> ReconciliationSettings:
    """The regency's reconciliation and payment settings; `None` keeps a setting as it is."""
    _require_reconciler(actor, regency)
    errors = {}
    if not isinstance(grace_days, int) or not 1 <= grace_days <= 365:
        errors["grace_days"] = _("Masa tenggang 1–365 hari.")
    if not isinstance(reminder_days, int) or not 1 <= reminder_days <= 90:
        errors["reminder_days"] = _("Pengingat 1–90 hari.")
    if payment_window_days is not None and (not isinstance(payment_window_days, int)
                                            or not 3 <= payment_window_days <= 90):
        errors["payment_window_days"] = _("Batas pembayaran 3–90 hari.")
    if reservations_per_day is not None and (not isinstance(reservations_per_day, int)
                                             or not 1 <= reservations_per_day <= 100):
        errors["reservations_per_day"] = _("Pemesanan per donatur per hari 1–100.")
    if errors:
        raise DomainError("; ".join(f"{k}: {v}" for k, v in errors.items()), code="invalid",
                          extra={"errors": errors})
    with transaction.atomic():
        _lock_regency(regency.pk)
        row, _created = ReconciliationSettings.objects.for_regency(regency).get_or_create(regency=regency)
        keys = ("grace_days", "reminder_days", "payment_window_days", "reservations_per_day")
        before = {k: getattr(row, k) for k in keys}
        row.grace_days, row.reminder_days = grace_days, reminder_days
        if payment_window_days is not None:
            row.payment_window_days = payment_window_days
        if reservations_per_day is not None:
            row.reservations_per_day = reservations_per_day
        row.save()
        audit_record(actor=actor, verb="reconciliation.settings", obj=row, regency=regency, before=before,
                     after={k: getattr(row, k) for k in keys})
    return row


# --- reminders (Celery beat) --------------------------------------------------------------------------


def unpaid_reminders_mark(*, now: dt.datetime | None = None) -> list[int]:
    """Pledges `pledged` and unpaid for more than the regency's reminder days whose donor was not
    reminded yet: mark them (`reminder_sent_at`) and return their ids; the e-mails go after commit."""
    moment = now or timezone.now()
    ids: list[int] = []
    with transaction.atomic():
        days = dict(ReconciliationSettings.all_regencies.values_list("regency_id", "reminder_days"))
        rows = list(
            Pledge.all_regencies.select_for_update(skip_locked=True, of=("self",))
            .filter(active__isnull=False, status=PledgeStatus.PLEDGED, reminder_sent_at__isnull=True,
                    donor__isnull=False, pledged_at__isnull=False, pledged_at__lte=moment - dt.timedelta(days=1))
            .only("pk", "regency_id", "pledged_at").order_by("pk")
        )
        due = [p for p in rows
               if p.pledged_at is not None  # the query asks for it; this tells the type checker
               and p.pledged_at <= moment - dt.timedelta(days=days.get(p.regency_id, DEFAULT_REMINDER_DAYS))]
        ids = [p.pk for p in due]
        if ids:
            Pledge.all_regencies.filter(pk__in=ids).update(reminder_sent_at=moment)
            for pledge in due:
                audit_record(actor=None, verb="pledge.unpaid_reminder", object_type="donations.pledge",
                             object_id=pledge.pk, regency=Regency(pk=pledge.regency_id),
                             after={"sent_at": moment.isoformat()})
            chosen = list(ids)
            _send_donor(chosen, "unpaid_reminder")
    return ids


def _send_donor(pledge_ids: list[int], kind: str) -> None:
    from donations.tasks import pledge_email_task

    for pk in pledge_ids:
        enqueue_on_commit(pledge_email_task, pk, kind)


def disputed_notify_mark(*, now: dt.datetime | None = None) -> dict[int, list[int]]:
    """Open anomalies nobody was told about yet, per regency: mark them and e-mail the regency
    admins after commit (one message per regency). Idempotent through `notified_at`."""
    moment = now or timezone.now()
    by_regency: dict[int, list[int]] = {}
    with transaction.atomic():
        rows = list(Anomaly.all_regencies.select_for_update(skip_locked=True)
                    .filter(status=AnomalyStatus.OPEN, notified_at__isnull=True)
                    .values_list("pk", "regency_id").order_by("pk"))
        for pk, regency_id in rows:
            by_regency.setdefault(regency_id, []).append(pk)
        if rows:
            Anomaly.all_regencies.filter(pk__in=[pk for pk, _r in rows]).update(notified_at=moment)
            chosen = dict(by_regency)
            _send_admins(chosen)
    return by_regency


def _send_admins(by_regency: dict[int, list[int]]) -> None:
    from donations.tasks import anomaly_email_task

    for regency_id, ids in by_regency.items():
        enqueue_on_commit(anomaly_email_task, regency_id, ids)
