"""Celery tasks: thin, idempotent wrappers that take ids (STYLE.md)."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def pledges_expiry_task() -> dict:
    """Beat: warn donors 24 h before their reservation lapses (once), expire lapsed ones."""
    from donations.services import pledges_expire_lapsed, pledges_warn_expiring

    return {"warned": pledges_warn_expiring(), "expired": pledges_expire_lapsed()}


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
