"""One transfer seen from both sides (a payment provider's notification and the collecting
account's statement line for the same pledge and amount) is one payment, whichever comes first
and also when both arrive at the same moment."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from donations.models import (
    Anomaly,
    LedgerEntry,
    LedgerKind,
    LineOutcome,
    Payment,
    PledgeStatus,
    ProviderNotification,
    StatementLine,
)
from donations.money.providers import midtrans
from tests.donations.test_statements import _csv, _fresh, _lines, _run

URL = "/api/v1/payments/midtrans/notification/"
KEY = "SB-Mid-server-dua-sisi"


@pytest.fixture(autouse=True)
def _server_key(settings):
    settings.MIDTRANS_SERVER_KEY = KEY


def _notify(pledge, *, amount: int, tx: str = "tx-1"):
    gross = f"{amount}.00"
    body = {"transaction_time": "2026-11-22 09:15:00", "transaction_status": "settlement", "transaction_id": tx,
            "status_code": "200", "order_id": pledge.payment_code, "gross_amount": gross,
            "signature_key": midtrans.signature(order_id=pledge.payment_code, status_code="200",
                                                gross_amount=gross, server_key=KEY)}
    return Client().post(URL, data=json.dumps(body), content_type="application/json")


def _statement(tmp_path, campaign, pledge, *, amount: int, name: str = "mutasi.csv"):
    from core.time import regency_today

    day = regency_today(campaign.regency).strftime("%d-%m-%Y")
    return _run(campaign, _csv(tmp_path, _lines((day, f"TRF {pledge.payment_code} ASN", amount, "BANK-1")), name))


def _one_payment(pledge):
    assert Payment.all_regencies.filter(pledge=pledge).count() == 1
    fresh = _fresh(pledge)
    assert (fresh.status, fresh.paid_amount) == (PledgeStatus.PAID, pledge.amount)
    assert not Anomaly.all_regencies.filter(pledge=pledge).exists()  # no overpayment
    received = LedgerEntry.all_regencies.filter(pledge=pledge, kind=LedgerKind.RECEIVED)
    assert sum(received.values_list("amount", flat=True)) == pledge.amount


def test_notification_first_then_the_statement_line_confirms_it(tmp_path, collected, make_pledge):
    pledge = make_pledge(collected)
    assert _notify(pledge, amount=pledge.amount).status_code == 200
    statement = _statement(tmp_path, collected, pledge, amount=pledge.amount)
    assert (statement.matched, statement.duplicates) == (0, 1)
    line = StatementLine.all_regencies.get(statement=statement)
    payment = Payment.all_regencies.get(pledge=pledge)
    assert (line.outcome, line.payment_id) == (LineOutcome.DUPLICATE, payment.pk)
    _one_payment(pledge)


def test_statement_first_then_the_notification_is_linked_to_it(tmp_path, collected, make_pledge):
    pledge = make_pledge(collected)
    _statement(tmp_path, collected, pledge, amount=pledge.amount)
    response = _notify(pledge, amount=pledge.amount)
    assert response.status_code == 200
    row = ProviderNotification.objects.get()
    assert (row.outcome, row.payment_id) == ("duplicate", Payment.all_regencies.get(pledge=pledge).pk)
    _one_payment(pledge)


def test_a_different_amount_is_different_money(tmp_path, collected, make_pledge):
    pledge = make_pledge(collected)
    _notify(pledge, amount=100_000)
    _statement(tmp_path, collected, pledge, amount=pledge.amount - 100_000)
    assert Payment.all_regencies.filter(pledge=pledge).count() == 2
    assert _fresh(pledge).status == PledgeStatus.PAID


@pytest.mark.django_db(transaction=True)
def test_both_at_the_same_moment_record_one_payment(tmp_path, collected, make_pledge):
    pledge = make_pledge(collected)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(work):
        try:
            barrier.wait(timeout=10)
            work()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(lambda: _notify(pledge, amount=pledge.amount),)),
               threading.Thread(target=run, args=(lambda: _statement(tmp_path, collected, pledge,
                                                                     amount=pledge.amount),))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    _one_payment(pledge)
