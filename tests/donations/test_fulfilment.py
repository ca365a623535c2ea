"""Exact fulfilment: several payments add up to the pledge; `paid` only when they reach it; no
overpayment from a person; receipts numbered without gaps; the ledger of a direct-route payment;
unpaid pledges lapse after the regency's payment window (with notices), partly paid ones go to a
person; and `verified` means the arrears fell by at least the pledge's amount."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from core.errors import Conflict, DomainError
from core.models import AuditEvent
from donations import services
from donations.models import (
    ActivePledge,
    Anomaly,
    AnomalyKind,
    LedgerEntry,
    Payment,
    PaymentSource,
    Pledge,
    PledgeStatus,
    ReconciliationSettings,
)
from donations.money.ledger import ledger_balance
from donations.reconciliation.services import reconcile_regency
from tests.donations.reconciliation_world import imp, person, pledge, rec

NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)  # 10:00 WITA
DAY = dt.date(2026, 11, 22)


def _confirmed(campaign, participant, donor, now=NOW) -> Pledge:
    reserved = services.pledge_reserve(campaign=campaign, participant=participant, donor=donor, now=now)
    return services.pledge_confirm(pledge=reserved, actor=donor, now=now)


def _pay(pledge_, donor, amount, reference):
    return services.payment_record(pledge=pledge_, actor=donor, amount=amount, reference=reference,
                                   paid_on=DAY, now=NOW)


def _fresh(p: Pledge) -> Pledge:
    return Pledge.objects.for_regency(p.regency_id).get(pk=p.pk)


# --- several payments, one amount ------------------------------------------------------------------


def test_a_part_payment_leaves_the_pledge_pledged_with_what_is_still_owed(public_campaign, make_participant,
                                                                          donor):
    pledge_ = _confirmed(public_campaign, make_participant(months=6, amount=840_000), donor)
    assert pledge_.amount == 875_000
    _pay(pledge_, donor, 500_000, "BRI-1")
    pledge_ = _fresh(pledge_)
    assert (pledge_.status, pledge_.paid_amount, pledge_.outstanding) == (PledgeStatus.PLEDGED, 500_000, 375_000)
    assert pledge_.lapses_at is None  # something was paid: it no longer lapses by itself
    _pay(pledge_, donor, 375_000, "BRI-2")
    pledge_ = _fresh(pledge_)
    assert (pledge_.status, pledge_.paid_amount, pledge_.outstanding) == (PledgeStatus.PAID, 875_000, 0)
    # pledged -> paid happened once, on the payment that completed it
    changes = AuditEvent.objects.filter(object_type="donations.pledge", object_id=str(pledge_.pk),
                                        verb="pledge.paid")
    assert changes.count() == 1 and changes.get().after["payment"] == Payment.all_regencies.get(
        reference="BRI-2").pk


def test_a_report_above_what_is_owed_is_refused_naming_the_outstanding_amount(public_campaign, make_participant,
                                                                              donor):
    pledge_ = _confirmed(public_campaign, make_participant(months=6, amount=210_000), donor)
    _pay(pledge_, donor, 100_000, "BRI-1")
    with pytest.raises(DomainError) as caught:
        _pay(pledge_, donor, 145_001, "BRI-2")
    assert caught.value.code == "overpayment" and caught.value.status_code == 400
    assert "Rp145.000" in str(caught.value.detail)
    assert caught.value.extra["outstanding"] == 145_000
    assert Payment.all_regencies.filter(pledge=pledge_).count() == 1
    assert _fresh(pledge_).paid_amount == 100_000


def test_a_pledge_paid_in_full_takes_no_more(public_campaign, make_participant, donor):
    pledge_ = _confirmed(public_campaign, make_participant(), donor)
    _pay(pledge_, donor, pledge_.amount, "BRI-1")
    with pytest.raises(Conflict) as caught:
        _pay(pledge_, donor, 1_000, "BRI-2")
    assert caught.value.code == "already_paid" and caught.value.status_code == 409


def test_payments_are_integer_rupiah(public_campaign, make_participant, donor):
    pledge_ = _confirmed(public_campaign, make_participant(), donor)
    for bad in (1000.5, "1000", True, 0, -5):
        with pytest.raises(DomainError) as caught:
            _pay(pledge_, donor, bad, "BRI-X")
        assert caught.value.code == "invalid"
    assert not Payment.all_regencies.exists()


def test_every_payment_has_the_next_receipt_number_of_its_regency_and_year(public_campaign, make_participant,
                                                                          donor):
    first = _confirmed(public_campaign, make_participant(), donor)
    second = _confirmed(public_campaign, make_participant(), donor)
    _pay(first, donor, 100_000, "A-1")
    with pytest.raises(DomainError):
        _pay(first, donor, 10**9, "A-2")  # refused: takes no number
    _pay(second, donor, second.amount, "B-1")
    _pay(first, donor, first.amount - 100_000, "A-3")
    code = public_campaign.regency.code
    numbers = list(Payment.all_regencies.order_by("id").values_list("receipt_number", flat=True))
    assert numbers == [f"KW/{code}/2026/000001", f"KW/{code}/2026/000002", f"KW/{code}/2026/000003"]


def test_a_donor_payment_on_a_direct_campaign_reaches_bpjs_at_once_in_the_ledger(public_campaign,
                                                                                 make_participant, donor):
    pledge_ = _confirmed(public_campaign, make_participant(), donor)
    payment = _pay(pledge_, donor, pledge_.amount, "BRI-1")
    assert payment.source == PaymentSource.DONOR
    rows = list(LedgerEntry.objects.for_regency(pledge_.regency_id).order_by("id")
                .values_list("kind", "source", "amount", "payment_id"))
    assert rows == [("received", "donor", pledge_.amount, payment.pk),
                    ("handed_over", "direct_va", pledge_.amount, payment.pk)]
    balance = ledger_balance(campaign=public_campaign)
    assert (balance.received, balance.handed_over, balance.waiting, balance.refunded) == (
        pledge_.amount, pledge_.amount, 0, 0)


def test_the_ledger_refuses_change(public_campaign, make_participant, donor):
    from django.db import Error, transaction

    pledge_ = _confirmed(public_campaign, make_participant(), donor)
    _pay(pledge_, donor, pledge_.amount, "BRI-1")
    with pytest.raises(Error), transaction.atomic():
        LedgerEntry.objects.for_regency(pledge_.regency_id).update(amount=1)
    with pytest.raises(Error), transaction.atomic():
        LedgerEntry.objects.for_regency(pledge_.regency_id).delete()


# --- lapse -------------------------------------------------------------------------------------------


def test_an_unpaid_pledge_is_warned_3_and_1_days_before_then_lapses(public_campaign, make_participant, donor,
                                                                    django_capture_on_commit_callbacks):
    participant = make_participant()
    pledge_ = _confirmed(public_campaign, participant, donor)
    assert pledge_.lapses_at == NOW + dt.timedelta(days=14)
    mail.outbox.clear()

    def run(at):
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            return services.pledges_lapse_unpaid()

    assert run(NOW + dt.timedelta(days=10)) == {"notified": 0, "lapsed": 0, "partly_paid": 0}
    assert run(NOW + dt.timedelta(days=11, hours=1)) == {"notified": 1, "lapsed": 0, "partly_paid": 0}
    assert run(NOW + dt.timedelta(days=11, hours=2)) == {"notified": 0, "lapsed": 0, "partly_paid": 0}
    assert run(NOW + dt.timedelta(days=13, hours=1)) == {"notified": 1, "lapsed": 0, "partly_paid": 0}
    assert len(mail.outbox) == 2 and all("belum dibayar" in m.subject for m in mail.outbox)
    assert run(NOW + dt.timedelta(days=14, minutes=1)) == {"notified": 0, "lapsed": 1, "partly_paid": 0}
    pledge_ = _fresh(pledge_)
    assert (pledge_.status, pledge_.release_reason) == (PledgeStatus.EXPIRED, "lapsed_unpaid")
    assert "gugur" in mail.outbox[-1].subject
    assert not ActivePledge.objects.for_regency(pledge_.regency_id).filter(participant=participant).exists()
    event = AuditEvent.objects.filter(object_type="donations.pledge", object_id=str(pledge_.pk)).latest("id")
    assert (event.actor, event.before, event.after["status"], event.after["reason"]) == (
        None, {"status": "pledged"}, "expired", "lapsed_unpaid")
    # the participant may be chosen again
    again = services.pledge_reserve(campaign=public_campaign, participant=participant, donor=donor,
                                    now=NOW + dt.timedelta(days=15))
    assert again.status == PledgeStatus.RESERVED
    assert run(NOW + dt.timedelta(days=16)) == {"notified": 0, "lapsed": 0, "partly_paid": 0}


def test_the_window_is_the_regency_setting(public_campaign, make_participant, donor):
    ReconciliationSettings.objects.create(regency=public_campaign.regency, payment_window_days=5)
    pledge_ = _confirmed(public_campaign, make_participant(), donor)
    assert pledge_.lapses_at == NOW + dt.timedelta(days=5)
    with time_machine.travel(NOW + dt.timedelta(days=5, seconds=1), tick=False):
        assert services.pledges_lapse_unpaid()["lapsed"] == 1


def test_a_partly_paid_pledge_does_not_lapse_but_asks_a_person_once(public_campaign, make_participant, donor):
    pledge_ = _confirmed(public_campaign, make_participant(), donor)
    _pay(pledge_, donor, 50_000, "BRI-1")
    for days in (15, 16):
        with time_machine.travel(NOW + dt.timedelta(days=days), tick=False):
            result = services.pledges_lapse_unpaid()
        assert result["partly_paid"] == (1 if days == 15 else 0) and result["lapsed"] == 0
    assert _fresh(pledge_).status == PledgeStatus.PLEDGED
    anomaly = Anomaly.objects.for_regency(pledge_.regency_id).get()
    assert (anomaly.kind, anomaly.pledge_id, anomaly.status) == (AnomalyKind.PARTLY_PAID_OVERDUE, pledge_.pk, "open")


# --- verification means lunas ---------------------------------------------------------------------------


D0 = dt.date(2026, 9, 1)
PAY = dt.date(2026, 9, 5)


@pytest.fixture
def first(branch_a):
    return imp(branch_a, D0)


@pytest.mark.parametrize(("fall", "verified"), [
    (250_000, False),    # arrears fell by someone else's Rp250.000: less than the pledge
    (3_750_000, True),   # exactly the pledge's amount
    (3_750_001, True),   # more than the pledge
])
def test_a_fall_in_arrears_verifies_only_when_it_covers_the_pledge(fall, verified, regency_a, branch_a, first,
                                                                    make_campaign, donor):
    campaign = make_campaign()
    p = person(regency_a, first, amount=5_000_000)
    made = pledge(p, campaign, donor, "paid", made_from=first, amount=3_750_000, paid_on=PAY)
    later = imp(branch_a, dt.date(2026, 9, 20))
    rec(p, later, 5_000_000 - fall)
    reconcile_regency(regency=regency_a)
    made.refresh_from_db()
    assert (made.status == PledgeStatus.VERIFIED) is verified


def test_a_small_payment_never_verifies_a_large_pledge(regency_a, branch_a, first, make_campaign, donor):
    """The 3 % case: Rp100.000 recorded of Rp3.750.000, arrears down by Rp250.000 (someone else)."""
    campaign = make_campaign()
    p = person(regency_a, first, amount=3_675_000)
    made = pledge(p, campaign, donor, "pledged", made_from=first, amount=3_750_000, paid_on=PAY, paid=100_000)
    later = imp(branch_a, dt.date(2026, 9, 20))
    rec(p, later, 3_675_000 - 250_000)
    reconcile_regency(regency=regency_a)
    made.refresh_from_db()
    assert made.status == PledgeStatus.PLEDGED and made.verified_at is None


def test_a_certificate_is_served_only_for_a_verified_pledge(client, public_campaign, make_participant, donor):
    pledge_ = _confirmed(public_campaign, make_participant(), donor)
    _pay(pledge_, donor, pledge_.amount, "BRI-1")
    client.force_login(donor)
    url = f"/me/pledges/{pledge_.public_id}/certificate.pdf"
    assert client.get(url).status_code == 302  # paid, not yet verified: back to the pledge page
    services.pledge_verify(pledge=pledge_, actor=None)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_a_partly_paid_pledge_cannot_be_cancelled(public_campaign, make_participant, donor):
    pledge_ = _confirmed(public_campaign, make_participant(), donor)
    _pay(pledge_, donor, 50_000, "BRI-1")
    with pytest.raises(Conflict) as caught:
        services.pledge_cancel(pledge=pledge_, actor=donor, now=NOW)
    assert caught.value.code == "has_payments"
    assert _fresh(pledge_).status == PledgeStatus.PLEDGED


def test_the_daily_reservation_limit_counts_direct_campaigns_only(public_campaign, make_campaign,
                                                                  make_participant, donor):
    from donations.models import PaymentRoute

    collected = make_campaign(slug="kumpul", payment_route=PaymentRoute.COLLECTED, bank_name="Bank Sulselbar",
                              account_number="1502026000073", account_holder="Pemkab")
    for _ in range(6):  # more than the direct limit (5), on a collected campaign: no card digits to collect
        services.pledge_reserve(campaign=collected, participant=make_participant(), donor=donor, now=NOW)
    for _ in range(5):
        services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor, now=NOW)
    with pytest.raises(Conflict) as caught:
        services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor, now=NOW)
    assert caught.value.code == "reservation_limit"
