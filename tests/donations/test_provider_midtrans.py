"""Midtrans HTTP notifications: a signed settlement (or accepted capture) records one payment per
transaction id, with its receipt and ledger row; anything else is kept and answered 200 without a
payment; a bad signature is 401 and a malformed body 400, with nothing recorded."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client

from core.models import AuditEvent
from donations import services
from donations.models import (
    Anomaly,
    AnomalyKind,
    LedgerEntry,
    LedgerKind,
    LedgerSource,
    Payment,
    PaymentSource,
    Pledge,
    PledgeStatus,
    ProviderNotification,
)
from donations.money.providers import midtrans
from tests.donations.test_concurrency import _race
from tests.factories import UserFactory

URL = "/api/v1/payments/midtrans/notification/"
KEY = "SB-Mid-server-uji-coba-123"


NOW = dt.datetime(2026, 11, 22, 6, 0, tzinfo=dt.UTC)  # 14:00 WITA


@pytest.fixture(autouse=True)
def _server_key_and_clock(settings):
    settings.MIDTRANS_SERVER_KEY = KEY
    with time_machine.travel(NOW, tick=True):
        yield


def notification(order_id: str, *, status: str = "settlement", amount: str = "245000.00", tx: str = "tx-1",
                 status_code: str = "200", fraud: str | None = None, key: str = KEY, **extra) -> dict:
    body = {
        "transaction_time": "2026-11-22 09:15:00", "transaction_status": status, "transaction_id": tx,
        "status_message": "midtrans payment notification", "status_code": status_code, "payment_type": "bank_transfer",
        "order_id": order_id, "merchant_id": "G000000001", "gross_amount": amount, "currency": "IDR",
        "signature_key": midtrans.signature(order_id=order_id, status_code=status_code, gross_amount=amount,
                                            server_key=key),
    }
    if fraud is not None:
        body["fraud_status"] = fraud
    return body | extra


def post(body, client: Client | None = None):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return (client or Client()).post(URL, data=data, content_type="application/json")


def _fresh(p: Pledge) -> Pledge:
    return Pledge.objects.for_regency(p.regency_id).get(pk=p.pk)


@pytest.fixture
def pledge(public_campaign, make_participant, donor) -> Pledge:
    """A confirmed pledge of Rp245.000 (6 months' arrears of class III plus the current month)."""
    reserved = services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor)
    confirmed = services.pledge_confirm(pledge=reserved, actor=donor)
    assert confirmed.amount == 245_000
    return confirmed


def _nothing_recorded():
    assert ProviderNotification.objects.count() == 0
    assert Payment.all_regencies.count() == 0
    assert LedgerEntry.all_regencies.count() == 0
    assert not AuditEvent.objects.filter(verb__startswith="provider_notification").exists()


# --- money arrives ----------------------------------------------------------------------------------


def test_a_signed_settlement_records_one_payment_with_receipt_ledger_row_and_status(pledge, regency_a):
    response = post(notification(pledge.payment_code, tx="9f1c-settle"))

    assert response.status_code == 200, response.content
    assert response.json() == {"outcome": "paid", "replay": False}
    payment = Payment.objects.for_regency(regency_a).get(pledge=pledge)
    assert (payment.amount, payment.reference, payment.source) == (245_000, "9f1c-settle", PaymentSource.PROVIDER)
    assert payment.recorded_by is None
    assert payment.receipt_number.startswith("KW/73.22/") and payment.receipt_number.endswith("/000001")
    assert payment.paid_on == dt.date(2026, 11, 22)  # 09:15 WIB is 10:15 WITA, the same day
    ledger = LedgerEntry.objects.for_regency(regency_a).get()
    assert (ledger.kind, ledger.source, ledger.amount, ledger.payment_id) == (
        LedgerKind.RECEIVED, LedgerSource.PROVIDER, 245_000, payment.pk)
    fresh = _fresh(pledge)
    assert (fresh.status, fresh.paid_amount, fresh.outstanding) == (PledgeStatus.PAID, 245_000, 0)
    row = ProviderNotification.objects.get()
    assert (row.provider, row.transaction_id, row.outcome, row.regency_id, row.payment_id, row.gross_amount) == (
        "midtrans", "9f1c-settle", "paid", regency_a.pk, payment.pk, 245_000)
    assert AuditEvent.objects.filter(verb="provider_notification.paid", regency=regency_a).count() == 1


def test_the_transaction_time_in_wib_gives_the_payment_date_in_the_regency_zone(pledge, regency_a):
    # 23:30 WIB on the 21st is 00:30 WITA on the 22nd (Luwu Utara).
    post(notification(pledge.payment_code, transaction_time="2026-11-21 23:30:00"))
    assert Payment.objects.for_regency(regency_a).get().paid_on == dt.date(2026, 11, 22)


def test_a_capture_accepted_is_paid(pledge, regency_a):
    response = post(notification(pledge.payment_code, status="capture", fraud="accept", tx="cc-1"))
    assert response.json() == {"outcome": "paid", "replay": False}
    assert _fresh(pledge).status == PledgeStatus.PAID
    # Midtrans then sends the settlement of the same card transaction: nothing new.
    again = post(notification(pledge.payment_code, status="settlement", tx="cc-1"))
    assert again.status_code == 200 and again.json() == {"outcome": "paid", "replay": True}
    assert Payment.objects.for_regency(regency_a).count() == 1


def test_a_challenged_capture_is_ignored_until_its_settlement(pledge, regency_a):
    response = post(notification(pledge.payment_code, status="capture", fraud="challenge", tx="cc-2"))
    assert response.status_code == 200 and response.json() == {"outcome": "ignored", "replay": False}
    assert Payment.objects.for_regency(regency_a).count() == 0
    assert _fresh(pledge).status == PledgeStatus.PLEDGED

    settled = post(notification(pledge.payment_code, status="settlement", tx="cc-2"))
    assert settled.json() == {"outcome": "paid", "replay": False}
    assert Payment.objects.for_regency(regency_a).get().reference == "cc-2"
    row = ProviderNotification.objects.get()  # one row per transaction, now paid
    assert (row.outcome, row.transaction_status) == ("paid", "settlement")


@pytest.mark.parametrize(("status", "code"), [("pending", "201"), ("expire", "407"), ("cancel", "200"),
                                              ("deny", "202"), ("refund", "200")])
def test_statuses_that_are_not_money_are_kept_as_ignored_without_a_payment(pledge, regency_a, status, code):
    response = post(notification(pledge.payment_code, status=status, status_code=code))
    assert response.status_code == 200
    assert response.json() == {"outcome": "ignored", "replay": False}
    row = ProviderNotification.objects.get()
    assert (row.outcome, row.transaction_status, row.regency_id, row.payment_id) == (
        "ignored", status, regency_a.pk, None)
    assert Payment.all_regencies.count() == 0 and LedgerEntry.all_regencies.count() == 0
    assert _fresh(pledge).status == PledgeStatus.PLEDGED


def test_pending_then_settlement_of_the_same_transaction_records_the_payment(pledge, regency_a):
    assert post(notification(pledge.payment_code, status="pending", status_code="201")).json()["outcome"] == "ignored"
    assert post(notification(pledge.payment_code)).json() == {"outcome": "paid", "replay": False}
    assert Payment.objects.for_regency(regency_a).count() == 1
    assert ProviderNotification.objects.count() == 1


def test_a_replay_records_nothing_new(pledge, regency_a):
    body = notification(pledge.payment_code, tx="replayed")
    first, second, third = post(body), post(body), post(body)
    assert first.json() == {"outcome": "paid", "replay": False}
    assert second.status_code == third.status_code == 200
    assert second.json() == {"outcome": "paid", "replay": True}
    assert Payment.objects.for_regency(regency_a).count() == 1
    assert LedgerEntry.objects.for_regency(regency_a).count() == 1
    assert ProviderNotification.objects.count() == 1
    assert AuditEvent.objects.filter(verb="provider_notification.paid").count() == 1


def test_a_partial_amount_leaves_the_pledge_pledged_with_what_is_still_owed(pledge, regency_a):
    post(notification(pledge.payment_code, amount="100000.00", tx="part-1"))
    fresh = _fresh(pledge)
    assert (fresh.status, fresh.paid_amount, fresh.outstanding) == (PledgeStatus.PLEDGED, 100_000, 145_000)
    post(notification(pledge.payment_code, amount="145000.00", tx="part-2"))
    fresh = _fresh(pledge)
    assert (fresh.status, fresh.paid_amount, fresh.outstanding) == (PledgeStatus.PAID, 245_000, 0)
    numbers = list(Payment.objects.for_regency(regency_a).order_by("id").values_list("receipt_number", flat=True))
    assert [n[-6:] for n in numbers] == ["000001", "000002"]


def test_an_overpayment_is_recorded_whole_and_raised_as_an_anomaly(pledge, regency_a):
    response = post(notification(pledge.payment_code, amount="300000.00"))
    assert response.json() == {"outcome": "paid", "replay": False}
    fresh = _fresh(pledge)
    assert (fresh.status, fresh.paid_amount, fresh.outstanding) == (PledgeStatus.PAID, 300_000, 0)
    anomaly = Anomaly.objects.for_regency(regency_a).get(pledge=pledge)
    assert anomaly.kind == AnomalyKind.OVERPAYMENT and "Rp55.000" in anomaly.detail


def test_more_money_for_a_pledge_already_paid_in_full_is_recorded_as_an_overpayment(pledge, regency_a):
    post(notification(pledge.payment_code, tx="full"))
    response = post(notification(pledge.payment_code, amount="50000.00", tx="extra"))
    assert response.json() == {"outcome": "paid", "replay": False}
    assert _fresh(pledge).paid_amount == 295_000
    assert Anomaly.objects.for_regency(regency_a).get(pledge=pledge).kind == AnomalyKind.OVERPAYMENT
    assert LedgerEntry.objects.for_regency(regency_a).filter(kind=LedgerKind.RECEIVED).count() == 2


def test_money_before_confirmation_confirms_and_pays_the_reservation(public_campaign, make_participant, donor,
                                                                     regency_a):
    reserved = services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor)
    assert post(notification(reserved.payment_code)).json()["outcome"] == "paid"
    assert _fresh(reserved).status == PledgeStatus.PAID


def test_money_for_a_closed_pledge_is_a_ledger_row_and_an_anomaly_without_a_payment(pledge, donor, regency_a):
    services.pledge_cancel(pledge=pledge, actor=donor)
    response = post(notification(pledge.payment_code, tx="late-1"))

    assert response.status_code == 200
    assert response.json() == {"outcome": "closed_pledge", "replay": False}
    assert Payment.all_regencies.count() == 0
    ledger = LedgerEntry.objects.for_regency(regency_a).get()
    assert (ledger.kind, ledger.source, ledger.amount, ledger.pledge_id, ledger.payment_id) == (
        LedgerKind.RECEIVED, LedgerSource.PROVIDER, 245_000, pledge.pk, None)
    anomaly = Anomaly.objects.for_regency(regency_a).get(pledge=pledge)
    assert anomaly.kind == AnomalyKind.PAYMENT_ON_CLOSED_PLEDGE and "late-1" in anomaly.detail
    assert _fresh(pledge).status == PledgeStatus.CANCELLED
    # A second transfer to the same closed pledge: one more ledger row, still one anomaly.
    post(notification(pledge.payment_code, tx="late-2", amount="10000.00"))
    assert LedgerEntry.objects.for_regency(regency_a).count() == 2
    assert Anomaly.objects.for_regency(regency_a).filter(pledge=pledge).count() == 1


def test_an_unknown_order_is_kept_unmatched_for_the_national_operator(db):
    response = post(notification("SUTIDAKADA"))
    assert response.status_code == 200
    assert response.json() == {"outcome": "unmatched", "replay": False}
    row = ProviderNotification.objects.get()
    assert (row.outcome, row.regency_id, row.order_id, row.gross_amount) == ("unmatched", None, "SUTIDAKADA", 245_000)
    assert Payment.all_regencies.count() == 0 and LedgerEntry.all_regencies.count() == 0
    assert post(notification("SUTIDAKADA")).json() == {"outcome": "unmatched", "replay": True}


def test_the_national_operator_sees_notifications_read_only_in_the_admin(db):
    post(notification("SUTIDAKADA", tx="tx-admin"))
    operator = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(operator)
    listing = client.get("/admin/donations/providernotification/")
    assert listing.status_code == 200 and "tx-admin" in listing.content.decode()
    assert client.get("/admin/donations/providernotification/add/").status_code == 403


# --- refused: nothing recorded -------------------------------------------------------------------------


def test_a_bad_signature_is_401_and_records_nothing(pledge):
    response = post(notification(pledge.payment_code, key="kunci-lain"))
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    _nothing_recorded()
    assert _fresh(pledge).status == PledgeStatus.PLEDGED


def test_a_tampered_amount_breaks_the_signature(pledge):
    body = notification(pledge.payment_code, amount="1000.00")
    body["gross_amount"] = "1000000.00"
    assert post(body).status_code == 401
    _nothing_recorded()


def test_without_a_server_key_every_notification_is_refused(pledge, settings):
    settings.MIDTRANS_SERVER_KEY = ""
    response = post(notification(pledge.payment_code, key=""))
    assert response.status_code == 401 and response.json()["code"] == "bad_signature"
    _nothing_recorded()


@pytest.mark.parametrize("field", ["order_id", "status_code", "gross_amount", "signature_key", "transaction_id",
                                   "transaction_status"])
def test_a_missing_field_is_400_and_records_nothing(pledge, field):
    body = notification(pledge.payment_code)
    del body[field]
    response = post(body)
    assert response.status_code == 400
    assert response.json()["code"] == "missing_field" and field in response.json()["detail"]
    _nothing_recorded()


def test_a_field_that_is_not_text_is_400(pledge):
    body = notification(pledge.payment_code)
    body["gross_amount"] = 245000
    assert post(body).status_code == 400
    _nothing_recorded()


@pytest.mark.parametrize("raw", [b"order_id=SU1&status_code=200", b"", b"[1, 2]", b'"settlement"',
                                 b'{"order_id": NaN}', b"\xff\xfe{}", b'{"order_id": "a\\u0000b"}'])
def test_a_body_that_is_not_a_json_object_is_400(db, raw):
    response = post(raw)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json" and response.json()["detail"]
    _nothing_recorded()


@pytest.mark.parametrize("amount", ["abc", "245000.50", "-245000.00", "0.00", "2.45e5", "245.000,00"])
def test_an_amount_that_is_not_whole_rupiah_is_400_even_when_signed(pledge, amount):
    response = post(notification(pledge.payment_code, amount=amount))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_amount"
    _nothing_recorded()


def test_only_post_is_accepted(db):
    assert Client().get(URL).status_code == 405


def test_a_signed_in_browser_session_needs_no_csrf_token_and_changes_nothing(pledge, donor, regency_a):
    """No authentication classes: the endpoint never acts as the session's user."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(donor)
    assert post(notification(pledge.payment_code, key="salah"), client).status_code == 401
    response = post(notification(pledge.payment_code), client)
    assert response.status_code == 200
    assert Payment.objects.for_regency(regency_a).get().recorded_by is None


# --- at the same time -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_same_transaction_delivered_at_once_records_one_payment(public_campaign, make_participant, donor):
    reserved = services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor)
    pledge = services.pledge_confirm(pledge=reserved, actor=donor)
    body = json.dumps(notification(pledge.payment_code, tx="race-1"))

    outcomes = _race(lambda i: post(body).json(), n=6)

    assert sorted(o["replay"] for o in outcomes) == [False] + [True] * 5, outcomes
    assert {o["outcome"] for o in outcomes} == {"paid"}
    assert Payment.all_regencies.filter(pledge=pledge).count() == 1
    assert LedgerEntry.all_regencies.filter(pledge=pledge).count() == 1
    assert ProviderNotification.objects.count() == 1
    assert _fresh(pledge).paid_amount == 245_000


@pytest.mark.django_db(transaction=True)
def test_the_same_unknown_order_delivered_at_once_is_kept_once():
    body = json.dumps(notification("SUTIDAKADA", tx="race-2"))
    outcomes = _race(lambda i: post(body).json(), n=6)
    assert sorted(o["replay"] for o in outcomes) == [False] + [True] * 5, outcomes
    assert ProviderNotification.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_different_transactions_for_one_pledge_at_once_add_up_with_gapless_receipts(public_campaign,
                                                                                    make_participant, donor):
    reserved = services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor)
    pledge = services.pledge_confirm(pledge=reserved, actor=donor)
    bodies = [json.dumps(notification(pledge.payment_code, tx=f"part-{i}", amount="49000.00")) for i in range(5)]

    outcomes = _race(lambda i: post(bodies[i]).json(), n=5)

    assert {o["outcome"] for o in outcomes} == {"paid"}, outcomes
    fresh = _fresh(pledge)
    assert (fresh.paid_amount, fresh.status) == (245_000, PledgeStatus.PAID)
    numbers = sorted(int(n[-6:]) for n in Payment.all_regencies.values_list("receipt_number", flat=True))
    assert numbers == [1, 2, 3, 4, 5]
