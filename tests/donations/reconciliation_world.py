"""Helpers for the reconciliation tests: imports and records written directly (fast), pledges
in any state, and payments. The full pipeline is exercised in test_reconciliation_pipeline.py."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from donations.models import Payment, Pledge, PledgeStatus
from participants.models import ArrearsImport, ArrearsRecord, Participant, ParticipantStatus
from tests.factories import ArrearsImportFactory, ParticipantFactory

_rows = itertools.count(1)


def imp(branch, as_of: dt.date, mode: str = "full") -> ArrearsImport:
    return ArrearsImportFactory(branch=branch, status="applied", as_of=as_of, mode=mode)


def rec(p: Participant, arrears_import: ArrearsImport, amount: int, *, segment: str = "PBPU") -> ArrearsRecord:
    """The participant's line in the import; the participant's current values follow it."""
    months = amount // 35_000
    record = ArrearsRecord.objects.create(
        regency_id=p.regency_id, arrears_import=arrears_import, participant=p, as_of=arrears_import.as_of,
        row_number=next(_rows), months_in_arrears=months, arrears_amount=amount,
        bpjs_status="inactive" if amount else "active", care_class=p.care_class, segment=segment,
    )
    Participant.all_regencies.filter(pk=p.pk).update(
        months_in_arrears=months, arrears_amount=amount, segment=segment, last_import=arrears_import,
        as_of=arrears_import.as_of, status=ParticipantStatus.INACTIVE if amount else ParticipantStatus.ACTIVE,
        cleared_at=None,
    )
    return record


def absent(p: Participant, arrears_import: ArrearsImport) -> None:
    """What a full list without the participant does (participants.imports.apply, step g)."""
    Participant.all_regencies.filter(pk=p.pk).update(
        status=ParticipantStatus.CLEARED, cleared_at=arrears_import.as_of, last_import=arrears_import)


def person(regency, first_import: ArrearsImport, amount: int = 210_000, **kwargs) -> Participant:
    p = ParticipantFactory(regency=regency, **kwargs)
    rec(p, first_import, amount)
    p.refresh_from_db()
    return p


def pledge(p: Participant, campaign, donor, status: str, *, made_from: ArrearsImport, amount: int = 245_000,
           paid_on: dt.date | None = None, paid: int | None = None, pooled: bool = False) -> Pledge:
    now = timezone.now()
    made = Pledge.objects.create(
        regency_id=p.regency_id, campaign=campaign, participant=p, donor=None if pooled else donor,
        is_pooled=pooled, status=status, amount=amount, arrears_amount=p.arrears_amount,
        months_in_arrears=p.months_in_arrears, monthly_tariff=35_000, arrears_import=made_from,
        as_of=made_from.as_of, segment=p.segment,
        expires_at=now + dt.timedelta(hours=72) if status == PledgeStatus.RESERVED else None,
        pledged_at=None if status == PledgeStatus.RESERVED else now,
        paid_at=now if paid_on else None,
    )
    if paid_on is not None:
        Payment.objects.create(regency_id=p.regency_id, pledge=made, amount=paid or amount,
                               reference=f"REF-{made.pk}", paid_on=paid_on, recorded_by=donor,
                               receipt_number=f"T/{made.pk}")
        Pledge.objects.for_regency(p.regency_id).filter(pk=made.pk).update(paid_amount=paid or amount)
        made.paid_amount = paid or amount
    return made
