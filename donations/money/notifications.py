"""What a verified payment provider notification does, whichever provider sent it.

Kept once per (provider, transaction id) in `ProviderNotification`, whose outcome says what
became of it:
- `paid`: the money arrived for an open pledge: one payment (`payment_apply`, source `provider`,
  reference = the transaction id), with its receipt number and ledger row; an overpayment is
  recorded whole and raised as an anomaly by `payment_apply`;
- `closed_pledge`: the money arrived for a pledge that no longer takes money (expired,
  cancelled, released, verified, disputed): a `received` ledger row without a payment and an
  anomaly `payment_on_closed_pledge`, for a person to refund it or hand it over;
- `unmatched`: the order is no pledge's payment code: kept without a regency, for the national
  operator (Django admin); the provider gets 200 (it would retry for days otherwise);
- `ignored`: not (yet) money (pending, expire, cancel, deny, a challenged capture). A later
  notification of the same transaction that says the money arrived (pending -> settlement)
  turns the row into `paid`;
- `duplicate`: the pledge already has a payment with this reference, or the same money was
  already read from the collecting account's statement (a `bank_statement` payment of the same
  amount on the pledge that no notification claimed yet): the notification is linked to that
  payment and nothing new is recorded. The statement matcher applies the same rule the other
  way round (`statements.match`), so one transfer seen from both sides is one payment.
Anything else for a transaction already kept is a replay: 200, nothing new.

Locks: regency -> participant -> pledge (as every money write), then the notification row. Two
deliveries of one transaction at once record one payment: the second waits on the regency lock
and then finds the row; without a pledge to lock, the unique (provider, transaction id) decides."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.formatting import format_rupiah
from core.time import regency_today
from donations.models import (
    Anomaly,
    AnomalyKind,
    AnomalyStatus,
    LedgerKind,
    LedgerSource,
    Payment,
    PaymentSource,
    Pledge,
    PledgeStatus,
    ProviderNotification,
)
from donations.money.ledger import ledger_record
from donations.money.payments import OPEN_FOR_MONEY, DuplicatePayment, payment_apply
from donations.money.providers.base import Notification
from donations.services import _lock_participants, _lock_pledge, _lock_regency, _requote

PAID = "paid"
IGNORED = "ignored"
UNMATCHED = "unmatched"
CLOSED_PLEDGE = "closed_pledge"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Recorded:
    outcome: str
    replay: bool  # the transaction was already kept: nothing new was recorded
    notification: ProviderNotification
    payment: Payment | None = None


def _find_pledge(order_id: str) -> Mapping[str, Any] | None:
    # The order id is all a provider knows: the one intended cross-regency lookup (by a unique code).
    return (Pledge.all_regencies.filter(payment_code=order_id.strip().upper())
            .values("pk", "regency_id", "participant_id").first())


def _lock(found: Mapping[str, Any]) -> Pledge:
    regency = _lock_regency(found["regency_id"])
    _lock_participants(regency, [found["participant_id"]])
    return _lock_pledge(Pledge(pk=found["pk"], regency_id=found["regency_id"]))


def _claim(notification: Notification, *, regency_id: int | None) -> tuple[ProviderNotification, bool]:
    """The transaction's row, locked, and whether this notification may act on it (a new row, or
    an `ignored` one that now says more). Inside the caller's transaction."""
    rows = ProviderNotification.objects.select_for_update()
    key = {"provider": notification.provider, "transaction_id": notification.transaction_id}
    row = rows.filter(**key).first()
    if row is None:
        row = ProviderNotification(**key, order_id=notification.order_id,
                                   transaction_status=notification.transaction_status,
                                   gross_amount=notification.amount, outcome=IGNORED, regency_id=regency_id,
                                   body=notification.body)
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            row = rows.get(**key)  # another delivery of it committed meanwhile
        else:
            return row, True
    if row.outcome != IGNORED:
        return row, False
    row.order_id, row.transaction_status = notification.order_id, notification.transaction_status
    row.gross_amount, row.body, row.regency_id = notification.amount, notification.body, regency_id
    return row, True


def _paid_on(notification: Notification, pledge: Pledge, moment: dt.datetime) -> dt.date:
    regency = pledge.campaign.regency
    today = regency_today(regency, moment)
    if notification.occurred_at is None:
        return today
    return min(regency_today(regency, notification.occurred_at), today)


def _closed_pledge(pledge: Pledge, notification: Notification) -> None:
    ledger_record(campaign=pledge.campaign, kind=LedgerKind.RECEIVED, source=LedgerSource.PROVIDER,
                  amount=notification.amount, pledge=pledge,
                  note=f"{notification.provider} {notification.transaction_id}")
    detail = str(_("%(provider)s melaporkan %(amount)s masuk (transaksi %(ref)s) untuk janji berstatus "
                   "%(status)s; putuskan: kembalikan ke donatur atau serahkan ke BPJS.")
                 % {"provider": notification.provider, "amount": format_rupiah(notification.amount),
                    "ref": notification.transaction_id, "status": PledgeStatus(pledge.status).label})[:300]
    anomaly, created = Anomaly.objects.for_regency(pledge.regency_id).get_or_create(
        pledge=pledge, kind=AnomalyKind.PAYMENT_ON_CLOSED_PLEDGE,
        defaults={"regency_id": pledge.regency_id, "family_id": pledge.participant.family_id, "detail": detail},
    )
    if not created:
        anomaly.detail, anomaly.status = detail, AnomalyStatus.OPEN
        anomaly.save(update_fields=["detail", "status"])


def _seen_on_statement(pledge: Pledge, amount: int) -> Payment | None:
    """The pledge's payment read from the bank statement with this amount that no provider
    notification claimed yet (see the module), if any."""
    claimed = ProviderNotification.objects.filter(payment__pledge_id=pledge.pk).values("payment_id")
    return (Payment.objects.for_regency(pledge.regency_id)
            .filter(pledge=pledge, source=PaymentSource.BANK_STATEMENT, amount=amount)
            .exclude(pk__in=claimed).order_by("id").first())


def notification_record(*, notification: Notification, now: dt.datetime | None = None) -> Recorded:
    """Record a verified notification (see the module); idempotent per transaction id."""
    moment = now or timezone.now()
    found = _find_pledge(notification.order_id)
    with transaction.atomic():
        pledge = _lock(found) if found else None
        row, acts = _claim(notification, regency_id=pledge.regency_id if pledge else None)
        if not acts:
            return Recorded(outcome=row.outcome, replay=True, notification=row)
        payment = None
        if not notification.paid:
            row.outcome = IGNORED
        elif pledge is None:
            row.outcome = UNMATCHED
        elif pledge.status not in OPEN_FOR_MONEY:
            row.outcome = CLOSED_PLEDGE
            _closed_pledge(pledge, notification)
        elif (seen := _seen_on_statement(pledge, notification.amount)) is not None:
            row.outcome, payment = DUPLICATE, seen
        else:
            try:
                with transaction.atomic():  # a refused payment gives its receipt number back
                    # Paid in a later month than quoted: the months now due first, so that
                    # the amount the donor was shown is not taken for an overpayment.
                    _requote(pledge, actor=None, moment=moment)
                    payment = payment_apply(pledge=pledge, amount=notification.amount,
                                            reference=notification.transaction_id,
                                            paid_on=_paid_on(notification, pledge, moment),
                                            source=PaymentSource.PROVIDER, now=moment).payment
            except DuplicatePayment:
                row.outcome = DUPLICATE
            else:
                row.outcome = PAID
        row.payment = payment
        row.save()
        audit_record(actor=None, verb=f"provider_notification.{row.outcome}", obj=row,
                     regency=pledge.campaign.regency if pledge else None,
                     after={"provider": row.provider, "transaction_id": row.transaction_id,
                            "order_id": row.order_id, "transaction_status": row.transaction_status,
                            "amount": notification.amount,
                            "pledge": str(pledge.public_id) if pledge else None,
                            "payment": payment.pk if payment else None})
    return Recorded(outcome=row.outcome, replay=False, notification=row, payment=payment)
