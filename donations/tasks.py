"""Celery tasks: thin, idempotent wrappers that take ids."""

from __future__ import annotations

from celery import shared_task
from django.db.models import Subquery

from core.outbox import enqueue_on_commit


@shared_task(acks_late=True)
def pledges_expiry_task() -> dict:
    """Beat: warn donors 24 h before their reservation lapses (once), expire lapsed ones; warn
    donors of confirmed, unpaid pledges 3 days and 1 day before the payment window ends, then
    lapse them (partly paid ones go to the anomaly queue)."""
    from donations.services import (
        pledges_expire_lapsed,
        pledges_lapse_unpaid,
        pledges_warn_expiring,
    )

    return {"warned": pledges_warn_expiring(), "expired": pledges_expire_lapsed(),
            **{f"unpaid_{k}": v for k, v in pledges_lapse_unpaid().items()}}


@shared_task(acks_late=True)
def pool_allocate_task(campaign_id: int | None = None) -> dict:
    """On demand (one campaign) or nightly (every active pooled campaign)."""
    from donations.models import Campaign
    from donations.pool import pool_allocate, pool_allocate_all

    if campaign_id is None:
        return pool_allocate_all()
    campaign = Campaign.all_regencies.filter(pk=campaign_id).first()
    if campaign is None:
        return {}
    result = pool_allocate(campaign=campaign)
    return {"pledges": result.pledges, "amount": result.amount}


@shared_task(acks_late=True)
def pledge_email_task(pledge_id: int, kind: str) -> bool:
    from donations.emails import pledge_email_send

    return pledge_email_send(pledge_id=pledge_id, kind=kind)


# --- reconciliation (donations.reconciliation) -------------------------------------------------


@shared_task(acks_late=True)
def reconcile_import_task(import_id: int) -> dict:
    """Chained after an applied import: reconcile every regency of the import's branch."""
    from donations.reconciliation.services import reconcile_after_import

    return reconcile_after_import(import_id=import_id)


@shared_task(acks_late=True)
def reconcile_nightly_task() -> dict:
    """Beat: reconcile every regency (each in its own transaction); idempotent."""
    from donations.models import ReconciliationTrigger
    from donations.reconciliation.services import reconcile

    return reconcile(trigger=ReconciliationTrigger.NIGHTLY)


@shared_task(acks_late=True)
def reconciliation_notify_task(run_id: int) -> dict:
    """After a run commits: thank verified donors, tell donors of released pledges."""
    from donations.models import Outcome, ReconciliationOutcome, ReconciliationRun

    # With the run's regency (tenant data is read with its regency); the run's rows are found
    # through the BRIN on run.
    regency_id = ReconciliationRun.all_regencies.filter(pk=run_id).values("regency_id")
    rows = list(ReconciliationOutcome.all_regencies.filter(regency_id=Subquery(regency_id), run_id=run_id,
                                                           pledge__donor__isnull=False)
                .order_by().values_list("pledge_id", "outcome"))
    sent = {"verified": 0, "released": 0}
    for pledge_id, outcome in rows:
        if outcome == Outcome.VERIFIED:
            enqueue_on_commit(pledge_email_task, pledge_id, "verified")
            sent["verified"] += 1
        elif outcome in (Outcome.RELEASED_CLEARED, Outcome.RELEASED_SEGMENT, Outcome.RELEASED_WRITTEN_OFF):
            enqueue_on_commit(pledge_email_task, pledge_id, "released")
            sent["released"] += 1
    return sent


@shared_task(acks_late=True)
def reconciliation_reminders_task() -> dict:
    """Beat: remind donors of pledges unpaid for more than N days (once); tell regency admins
    about new anomalies (once)."""
    from donations.reconciliation.services import disputed_notify_mark, unpaid_reminders_mark

    return {"reminded": len(unpaid_reminders_mark()),
            "anomalies": sum(len(v) for v in disputed_notify_mark().values())}


@shared_task(acks_late=True)
def anomaly_email_task(regency_id: int, anomaly_ids: list[int]) -> int:
    from donations.emails import anomalies_email_send

    return anomalies_email_send(regency_id=regency_id, anomaly_ids=anomaly_ids)


# --- money (donations.money) --------------------------------------------------------------------


@shared_task(acks_late=True)
def statement_process_task(statement_id: int) -> str:
    """Match and record one uploaded bank statement; a finished one is left as it is."""
    from donations.money.statements.services import statement_process

    return statement_process(statement_id=statement_id).status


def on_import_applied(sender, import_id: int, **kwargs) -> None:
    """Receiver of `arrears_import_applied` (inside the apply transaction): reconcile after the
    commit, through the outbox (core.outbox)."""
    enqueue_on_commit(reconcile_import_task, import_id)


# --- personal data (donations.privacy, UU 27/2022) ------------------------------------------------


@shared_task(acks_late=True)
def privacy_purge_task() -> dict:
    """Nightly: anonymise participants past their regency's retention period; delete old uploads."""
    from donations.privacy.retention import personal_data_purge

    return personal_data_purge(dry_run=False).as_dict()


@shared_task(acks_late=True)
def privacy_delete_files_task(names: list[str]) -> int:
    """Delete the stored files of an anonymised participant (idempotent: a missing file is fine)."""
    from donations.privacy.subject import files_delete

    return files_delete(names)


@shared_task(acks_late=True)
def reconcile_regency_task(regency_id: int, trigger: str) -> dict:
    """One regency's reconciliation (e.g. after an assessment routed a household to the write-off)."""
    from donations.reconciliation.services import reconcile

    return reconcile(regency_ids=[regency_id], trigger=trigger)


def on_assessment_approved(sender, regency_id: int, route: str, **kwargs) -> None:
    """A household routed to the write-off must not keep donor money waiting for the next list:
    reconcile its regency after the decision commits (the rule releases its unpaid pledge,
    reason `written_off`; a paid one is kept)."""
    from assessments.models import Route
    from core.outbox import enqueue_on_commit
    from donations.models import ReconciliationTrigger

    if route == Route.WRITEOFF:
        enqueue_on_commit(reconcile_regency_task, regency_id, ReconciliationTrigger.ASSESSMENT.value)
