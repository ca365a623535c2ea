"""Helpers for the hand-over and ledger tests: pledges made and paid through the real services."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from donations import services
from donations.models import LedgerEntry, LedgerKind, LedgerSource, PaymentSource, Pledge
from donations.money.payments import payment_apply


def today_of(regency) -> dt.date:
    return timezone.localdate(timezone=regency.tzinfo)


def confirmed(campaign, participant, donor, now: dt.datetime | None = None) -> Pledge:
    reserved = services.pledge_reserve(campaign=campaign, participant=participant, donor=donor, now=now)
    return services.pledge_confirm(pledge=reserved, actor=donor, now=now)


def donor_pays(pledge: Pledge, donor, amount: int, reference: str):
    """The donor's own report (refused above what is owed)."""
    return services.payment_record(pledge=pledge, actor=donor, amount=amount, reference=reference,
                                   paid_on=today_of(pledge.campaign.regency))


def bank_pays(pledge: Pledge, amount: int, reference: str, *, source: str = PaymentSource.BANK_STATEMENT):
    """Money a bank statement (or a provider) says arrived: recorded whole, overpayment included,
    the way the statement import and the notification do (locks, then `payment_apply`)."""
    with transaction.atomic():
        regency = services._lock_regency(pledge.regency_id)
        services._lock_participants(regency, [pledge.participant_id])
        locked = services._lock_pledge(pledge)
        return payment_apply(pledge=locked, amount=amount, reference=reference,
                             paid_on=today_of(regency), source=source)


def unmatched_credit(campaign, amount: int, note: str = "tanpa kode") -> LedgerEntry:
    """A statement credit that matched no pledge: received, for no pledge."""
    with transaction.atomic():
        services._lock_regency(campaign.regency_id)
        return LedgerEntry.objects.create(regency_id=campaign.regency_id, campaign=campaign,
                                          kind=LedgerKind.RECEIVED, source=LedgerSource.BANK_STATEMENT,
                                          amount=amount, note=note)


def fresh(pledge: Pledge) -> Pledge:
    return Pledge.objects.for_regency(pledge.regency_id).get(pk=pledge.pk)
