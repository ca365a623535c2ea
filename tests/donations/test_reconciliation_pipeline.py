"""Three successive imports through the real pipeline; reconciliation chained by the
`arrears_import_applied` signal (Celery eager, on-commit callbacks executed)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from donations.models import (
    Anomaly,
    AnomalyKind,
    LedgerKind,
    LedgerSource,
    Payment,
    Pledge,
    PledgeStatus,
    ReconciliationOutcome,
    ReconciliationRun,
)
from donations.money.ledger import ledger_record
from donations.money.receipts import receipt_number_next
from participants.models import Participant
from tests.participants.importing import card, line, run_import

pytestmark = pytest.mark.django_db

I1, I2, I3 = dt.date(2026, 9, 1), dt.date(2026, 9, 20), dt.date(2026, 10, 10)
PAY = dt.date(2026, 9, 5)


def _import(branch, tmp_path, rows, as_of, capture, mode="full"):
    with capture(execute=True):
        result = run_import(branch, tmp_path, rows, as_of=as_of, mode=mode)
    assert result.status == "applied", result.message
    return result


def _pledge(n, imp, campaign, donor, status, paid_on=None):
    p = Participant.all_regencies.get(card_number=card(n))
    pledge = Pledge.objects.create(
        regency_id=p.regency_id, campaign=campaign, participant=p, donor=donor, status=status,
        amount=p.arrears_amount + 35_000, arrears_amount=p.arrears_amount, months_in_arrears=p.months_in_arrears,
        monthly_tariff=35_000, arrears_import=imp, as_of=imp.as_of, pledged_at=imp.finished_at,
        expires_at=imp.finished_at + dt.timedelta(days=365) if status == "reserved" else None,
    )
    if paid_on:
        _pay(pledge, donor, paid_on)
    return pledge


def _pay(pledge, donor, paid_on):
    """A payment as the money services write it (receipt number, `received` ledger row, paid
    amount), so the integrity checks after each import find the ledger whole."""
    payment = Payment.objects.create(regency_id=pledge.regency_id, pledge=pledge, amount=pledge.amount,
                                     reference=f"VA-{pledge.pk}", paid_on=paid_on, recorded_by=donor,
                                     receipt_number=receipt_number_next(regency=pledge.regency, on=paid_on))
    ledger_record(campaign=pledge.campaign, kind=LedgerKind.RECEIVED, source=LedgerSource.DONOR,
                  amount=pledge.amount, pledge=pledge, payment=payment)
    Pledge.objects.for_regency(pledge.regency_id).filter(pk=pledge.pk).update(status="paid",
                                                                              paid_amount=pledge.amount)


def _seg(row, segment):
    row["segmen"] = segment
    return row


def test_three_imports_cover_every_rule(regency_a, branch_a, make_campaign, donor, admin_a, tmp_path,
                                        django_capture_on_commit_callbacks):
    campaign = make_campaign()
    first = _import(branch_a, tmp_path, [line(n, months=6) for n in range(1, 11)], I1,
                    django_capture_on_commit_callbacks)
    paid_cleared = _pledge(1, first, campaign, donor, "paid", PAY)
    paid_late = _pledge(2, first, campaign, donor, "paid", PAY)
    pledged_gone = _pledge(3, first, campaign, donor, "pledged")
    pledged_bp = _pledge(4, first, campaign, donor, "pledged")
    reserved_zero = _pledge(5, first, campaign, donor, "reserved")
    paid_slow = _pledge(6, first, campaign, donor, "paid", PAY)
    pledged_then_paid = _pledge(7, first, campaign, donor, "pledged")
    paid_after_i2 = _pledge(8, first, campaign, donor, "paid", dt.date(2026, 9, 25))
    untouched = _pledge(9, first, campaign, donor, "pledged")

    # Second list: 1 and 5 paid off, 3 gone (full list), 4 moved to BP; 8 zero but as of before its payment.
    rows2 = [line(1, months=0, status="AKTIF"), line(2, months=6), _seg(line(4, months=6), "BP"),
             line(5, months=0, status="AKTIF"), line(6, months=6), line(7, months=6),
             line(8, months=0, status="AKTIF"), line(9, months=6), line(10, months=6)]
    mail.outbox.clear()
    second = _import(branch_a, tmp_path, rows2, I2, django_capture_on_commit_callbacks)
    for pledge, expected in ((paid_cleared, "verified"), (paid_late, "paid"), (pledged_gone, "released"),
                             (pledged_bp, "released"), (reserved_zero, "released"), (paid_slow, "paid"),
                             (pledged_then_paid, "pledged"), (paid_after_i2, "paid"), (untouched, "pledged")):
        pledge.refresh_from_db()
        assert pledge.status == expected, (pledge.participant.card_number, pledge.status, expected)
    assert pledged_gone.release_reason == "cleared_by_other"
    assert pledged_bp.release_reason == "left_segment"
    assert reserved_zero.release_reason == "cleared_by_other"
    run2 = ReconciliationRun.objects.for_regency(regency_a).get(arrears_import=second)
    assert (run2.trigger, run2.verified, run2.released_cleared_by_other, run2.released_left_segment) == (
        "import", 1, 2, 1)
    # Donors hear about it: thanks for the verified one, a note for each released one.
    subjects = sorted(m.subject for m in mail.outbox)
    assert sum("dilepas" in s for s in subjects) == 3 and len(subjects) == 4

    # A payment between the second and the third list.
    _pay(pledged_then_paid, donor, dt.date(2026, 9, 28))
    rows3 = [line(2, months=6), line(4, months=6), line(6, months=0, status="AKTIF"),
             line(7, months=0, status="AKTIF"), line(8, months=0, status="AKTIF"), line(9, months=6),
             line(10, months=6)]
    third = _import(branch_a, tmp_path, rows3, I3, django_capture_on_commit_callbacks)
    expected3 = {paid_late: "disputed", paid_slow: "verified", pledged_then_paid: "verified",
                 paid_after_i2: "verified", untouched: "pledged"}
    for pledge, expected in expected3.items():
        pledge.refresh_from_db()
        assert pledge.status == expected, (pledge.participant.card_number, pledge.status, expected)
    outcomes = ReconciliationOutcome.objects.for_regency(regency_a).filter(arrears_import=third)
    assert sorted(outcomes.values_list("outcome", flat=True)) == ["disputed", "verified", "verified", "verified"]
    assert Anomaly.objects.for_regency(regency_a).filter(kind=AnomalyKind.DISPUTED_PAYMENT,
                                                         pledge=paid_late).exists()

    # A partial list without 9: absence means nothing.
    _import(branch_a, tmp_path, [line(10, months=7)], dt.date(2026, 10, 20), django_capture_on_commit_callbacks,
            mode="partial")
    untouched.refresh_from_db()
    assert untouched.status == "pledged"
    assert PledgeStatus.RELEASED not in set(
        ReconciliationOutcome.objects.for_regency(regency_a).filter(pledge=untouched).values_list("to_status",
                                                                                                  flat=True))
