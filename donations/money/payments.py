"""The one place a payment is written, whoever reports it (donor, staff, bank statement, provider).

`payment_apply` runs inside the caller's transaction, on a pledge the caller has locked (regency ->
participant -> pledge, `donations.services`). It stores the payment with its receipt number, adds
it to the pledge's `paid_amount`, writes the ledger, and moves the pledge:
- `reserved` -> `pledged` first when the money arrives before the donor confirmed (bank, provider);
- `pledged` -> `paid` only when `paid_amount` reaches the pledge's `amount`.
A person's report that would overpay is refused by the caller before this is called; money that a
bank or a provider says arrived is recorded whole, and an overpayment becomes an anomaly for a
person to decide (refund or keep)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import audit_record
from core.errors import Conflict
from core.formatting import format_rupiah
from core.time import regency_today
from donations.models import (
    Anomaly,
    AnomalyKind,
    LedgerKind,
    LedgerSource,
    Payment,
    PaymentSource,
    Pledge,
    PledgeStatus,
    StatementLine,
)
from donations.money.ledger import ledger_record
from donations.money.receipts import receipt_number_next

# Money that arrives on its own (not a person's report) may be recorded on a pledge in these.
OPEN_FOR_MONEY = (PledgeStatus.RESERVED, PledgeStatus.PLEDGED, PledgeStatus.PAID)


class DuplicatePayment(Conflict):
    default_code = "duplicate_payment"


@dataclass(frozen=True)
class Applied:
    payment: Payment
    overpaid: int  # rupiah above the pledge's amount (0 normally)


def _paid_directly_into_va(pledge: Pledge, source: str) -> bool:
    """A donor's (or staff's) report on a direct-route campaign: the money went into the family VA,
    so it reached BPJS at once; money a bank or provider reports sits in the Pemda's account."""
    return (not pledge.campaign.is_collected) and source in (PaymentSource.DONOR, PaymentSource.STAFF)


def payment_apply(*, pledge: Pledge, amount: int, reference: str, paid_on: dt.date, source: str,
                  actor: User | None = None, now: dt.datetime | None = None, receipt: File | None = None,
                  receipt_content_type: str = "",
                  statement_line: StatementLine | None = None) -> Applied:
    """Record `amount` on the locked `pledge` (see the module). Raises `DuplicatePayment` when the
    pledge already has a payment with this reference."""
    moment = now or timezone.now()
    regency = pledge.campaign.regency
    if pledge.status not in OPEN_FOR_MONEY:
        raise ValueError(f"pledge {pledge.pk} is {pledge.status}: no payment may be recorded")
    if Payment.objects.for_regency(pledge.regency_id).filter(pledge=pledge, reference=reference).exists():
        raise DuplicatePayment(_("Pembayaran dengan nomor referensi %(r)s sudah tercatat untuk janji ini.")
                               % {"r": reference})
    today = regency_today(regency, moment)
    payment = Payment(regency_id=pledge.regency_id, pledge=pledge, amount=amount, reference=reference,
                      paid_on=paid_on, source=source, recorded_by=actor, receipt_content_type=receipt_content_type,
                      receipt_number=receipt_number_next(regency=regency, on=today))
    if receipt is not None:
        payment.receipt.save(receipt.name or "bukti", receipt, save=False)
    try:
        with transaction.atomic():
            payment.save()
    except IntegrityError as exc:
        raise DuplicatePayment(_("Pembayaran dengan nomor referensi %(r)s sudah tercatat untuk janji ini.")
                               % {"r": reference}) from exc
    before_paid = pledge.paid_amount
    pledge.paid_amount = before_paid + amount
    overpaid = max(pledge.paid_amount - pledge.amount, 0) - max(before_paid - pledge.amount, 0)
    audit_record(actor=actor, verb="payment.recorded", obj=payment, regency=regency,
                 after={"pledge": str(pledge.public_id), "amount": amount, "reference": reference,
                        "paid_on": paid_on.isoformat(), "source": source, "receipt_number": payment.receipt_number,
                        "receipt": bool(receipt_content_type), "paid_amount": pledge.paid_amount,
                        "outstanding": pledge.outstanding})
    received = ledger_record(campaign=pledge.campaign, kind=LedgerKind.RECEIVED, source=source, amount=amount,
                             actor=actor, pledge=pledge, payment=payment, statement_line=statement_line)
    if _paid_directly_into_va(pledge, source):
        ledger_record(campaign=pledge.campaign, kind=LedgerKind.HANDED_OVER, source=LedgerSource.DIRECT_VA,
                      amount=amount, actor=actor, pledge=pledge, payment=payment, settles=received)
    _move(pledge, actor=actor, moment=moment, payment=payment)
    if overpaid:
        _overpayment_anomaly(pledge, payment=payment, overpaid=overpaid)
    return Applied(payment=payment, overpaid=overpaid)


def _move(pledge: Pledge, *, actor: User | None, moment: dt.datetime, payment: Payment) -> None:
    fields = ["paid_amount", "updated_at"]
    events = []
    if pledge.status == PledgeStatus.RESERVED:
        pledge.status, pledge.pledged_at = PledgeStatus.PLEDGED, moment
        fields += ["status", "pledged_at"]
        events.append((PledgeStatus.RESERVED, PledgeStatus.PLEDGED))
    if pledge.status == PledgeStatus.PLEDGED and pledge.paid_amount >= pledge.amount:
        pledge.status, pledge.paid_at = PledgeStatus.PAID, moment
        fields += ["status", "paid_at"]
        events.append((PledgeStatus.PLEDGED, PledgeStatus.PAID))
    pledge.save(update_fields=list(dict.fromkeys(fields)))
    for before, after in events:
        audit_record(actor=actor, verb=f"pledge.{after}", obj=pledge, regency=pledge.campaign.regency,
                     before={"status": before},
                     after={"status": after, "payment": payment.pk, "paid_amount": pledge.paid_amount})


def _overpayment_anomaly(pledge: Pledge, *, payment: Payment, overpaid: int) -> None:
    detail = (_("Pembayaran %(ref)s membuat janji terbayar %(over)s lebih dari jumlahnya; "
                "putuskan: kembalikan ke donatur atau serahkan ke BPJS.")
              % {"ref": payment.reference, "over": format_rupiah(overpaid)})
    anomaly, created = Anomaly.objects.for_regency(pledge.regency_id).get_or_create(
        pledge=pledge, kind=AnomalyKind.OVERPAYMENT,
        defaults={"regency_id": pledge.regency_id, "family_id": pledge.participant.family_id,
                  "detail": str(detail)[:300]},
    )
    if not created:
        anomaly.detail = str(detail)[:300]
        anomaly.status = "open"
        anomaly.save(update_fields=["detail", "status"])
