"""The reconciliation demo, end to end: demo pledges, then the branch's follow-up import; the
regency admin sees what was verified, released or disputed and why; each donor sees theirs."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from donations.models import Pledge, PledgeStatus, ReconciliationOutcome
from regencies.models import Regency
from reporting.demo import demo_seed

pytestmark = pytest.mark.django_db


def test_demo_second_import_reconciles(client, settings):
    settings.ENABLE_DEMO_DATA = True
    summary = demo_seed(participants=16)
    assert summary["campaigns"]["pledges"] == {"lutra-peduli": 4, "lutra-asn": 2}
    assert demo_seed(participants=16)["campaigns"]["pledges"] == {"lutra-peduli": 0, "lutra-asn": 0}
    lutra = Regency.objects.get(code="73.22")
    pledges = Pledge.objects.for_regency(lutra)
    assert pledges.filter(status=PledgeStatus.PAID).count() == 4
    # The demo's payments went through the real services: each has its receipt number and ledger
    # rows; lutra-asn (collected) waits for the treasurer's hand-over, lutra-peduli (direct) does not.
    from donations.models import Campaign, LedgerEntry, Payment, PaymentRoute
    from donations.money.ledger import ledger_balance

    payments = Payment.objects.for_regency(lutra)
    assert payments.count() == 4 and all(payments.values_list("receipt_number", flat=True))
    assert LedgerEntry.objects.for_regency(lutra).filter(kind="received").count() == 4
    asn, peduli = (Campaign.objects.for_regency(lutra).get(slug=s) for s in ("lutra-asn", "lutra-peduli"))
    assert (asn.payment_route, peduli.payment_route) == (PaymentRoute.COLLECTED, PaymentRoute.DIRECT)
    paid_asn = sum(payments.filter(pledge__campaign=asn).values_list("amount", flat=True))
    assert ledger_balance(campaign=asn).received == paid_asn > 0 and ledger_balance(campaign=asn).handed_over == 0
    assert ledger_balance(campaign=peduli).waiting == 0

    out = io.StringIO()
    call_command("demo_second_import", "--branch", "palopo", stdout=out, stderr=io.StringIO())
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["status"] == "applied"
    statuses = sorted(pledges.values_list("status", flat=True))
    assert statuses == ["disputed", "pledged", "released", "verified", "verified", "verified"]
    released = pledges.get(status=PledgeStatus.RELEASED)
    assert released.release_reason == "cleared_by_other"
    assert ReconciliationOutcome.objects.for_regency(lutra).filter(arrears_import_id=result["import_id"]).count() == 5

    again = io.StringIO()
    call_command("demo_second_import", "--branch", "palopo", stdout=again, stderr=io.StringIO())
    assert json.loads(again.getvalue().strip().splitlines()[-1])["duplicate"] is True
    assert sorted(pledges.values_list("status", flat=True)) == statuses

    from accounts.models import User

    client.force_login(User.objects.get(email="admin.lutra@demo.test"))
    page = client.get(reverse("reconciliation", kwargs={"regency_slug": "luwu-utara"})).content.decode()
    assert "Pembayaran dipersoalkan" in page and "Tunggakan sudah lunas oleh pihak lain" in page
    client.force_login(User.objects.get(email="donatur@demo.test"))
    me = client.get(reverse("donor_home")).content.decode()
    assert "Terverifikasi" in me and "Dipersoalkan" in me
