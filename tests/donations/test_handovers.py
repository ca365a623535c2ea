"""Hand-over batches to BPJS (collected route): which family VAs a batch takes and for how much,
the XLSX for the branch (no personal data), marking a batch transferred (the ledger's handed_over
rows, once), refunds of waiting money, permissions and tenancy, the API and the pages."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from python_calamine import CalamineWorkbook
from rest_framework.test import APIClient

from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.models import AuditEvent
from donations.models import (
    Handover,
    HandoverLine,
    HandoverStatus,
    LedgerEntry,
    LedgerKind,
    LedgerSource,
    PaymentRoute,
    PledgeStatus,
)
from donations.money.handovers import (
    handover_create,
    handover_mark_transferred,
    ledger_refund,
    ledger_refundable,
)
from donations.money.ledger import ledger_balance
from donations.services import pledge_release
from participants.models import Relationship
from tests.donations.handover_helpers import (
    bank_pays,
    confirmed,
    donor_pays,
    fresh,
    today_of,
    unmatched_credit,
)
from tests.factories import api_token_for

AMOUNT = 245_000  # 6 months of Rp35.000 arrears + the current month





@pytest.fixture
def world(collected, make_participant, make_family, donor, donor2):
    """Four payers' units in the collected campaign:
    - family 1: head + wife, both paid in full (the wife's by two payments);
    - family 2: head paid in full, wife paid in part (not ready);
    - a participant without a family, paid in full by the bank statement;
    - family 3: the head's pledge confirmed, nothing paid (not ready)."""
    f1, f2, f3 = make_family(), make_family(), make_family()
    people = {
        "f1_head": make_participant(family=f1, card_number="0001111111111"),
        "f1_wife": make_participant(family=f1, card_number="0001111111112", relationship=Relationship.WIFE),
        "f2_head": make_participant(family=f2, card_number="0002222222221"),
        "f2_wife": make_participant(family=f2, card_number="0002222222222", relationship=Relationship.WIFE),
        "alone": make_participant(family=None, card_number="0003333333333", relationship=""),
        "f3_head": make_participant(family=f3, card_number="0004444444441"),
    }
    pledges = {key: confirmed(collected, p, donor if key != "alone" else donor2) for key, p in people.items()}
    donor_pays(pledges["f1_head"], donor, AMOUNT, "TRF-1")
    donor_pays(pledges["f1_wife"], donor, 100_000, "TRF-2")
    donor_pays(pledges["f1_wife"], donor, AMOUNT - 100_000, "TRF-3")
    donor_pays(pledges["f2_head"], donor, AMOUNT, "TRF-4")
    donor_pays(pledges["f2_wife"], donor, 50_000, "TRF-5")
    bank_pays(pledges["alone"], AMOUNT, "BANK-1")
    return {"people": people, "pledges": pledges, "families": (f1, f2, f3)}


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- which families, how much -------------------------------------------------------------------


def test_a_batch_takes_every_family_va_whose_pledges_are_all_paid_in_full(regency_a, collected, world,
                                                                          treasurer_a):
    handover = handover_create(regency=regency_a, campaign=collected, actor=treasurer_a)
    year = today_of(regency_a).year
    assert handover.number == f"SRH/73.22/{year}/0001"
    lines = {line.va_number: line for line in HandoverLine.objects.for_regency(regency_a).filter(handover=handover)}
    # Family 1 on its head's VA (both members), the participant without a family on its own card's VA.
    assert set(lines) == {"8888801111111111", "8888803333333333"}
    assert (lines["8888801111111111"].members, lines["8888801111111111"].amount) == (2, 2 * AMOUNT)
    assert lines["8888801111111111"].family_id == world["families"][0].pk
    assert (lines["8888803333333333"].members, lines["8888803333333333"].amount) == (1, AMOUNT)
    assert (handover.families, handover.total, handover.status) == (2, 3 * AMOUNT, HandoverStatus.DRAFT)
    pledges = world["pledges"]
    assert {key for key, p in pledges.items() if fresh(p).handover_id == handover.pk} == {"f1_head", "f1_wife", "alone"}
    # A draft is not money handed over yet.
    assert ledger_balance(campaign=collected).as_dict() == {
        "received": 4 * AMOUNT + 50_000, "handed_over": 0, "waiting": 4 * AMOUNT + 50_000, "refunded": 0}
    event = AuditEvent.objects.get(verb="handover.created", object_id=str(handover.pk))
    assert event.after["total"] == 3 * AMOUNT and event.actor == treasurer_a


def test_nothing_left_is_a_clear_400_and_the_next_batch_has_the_next_number(regency_a, collected, world,
                                                                             treasurer_a, donor):
    first = handover_create(regency=regency_a, campaign=collected, actor=treasurer_a)
    with pytest.raises(DomainError) as caught:
        handover_create(regency=regency_a, campaign=collected, actor=treasurer_a)
    assert caught.value.code == "nothing_to_hand_over" and caught.value.status_code == 400
    # The partly paid wife pays the rest: family 2 is ready, and only family 2 (family 1 already went).
    donor_pays(world["pledges"]["f2_wife"], donor, AMOUNT - 50_000, "TRF-6")
    second = handover_create(regency=regency_a, campaign=collected, actor=treasurer_a)
    assert second.number == first.number[:-4] + "0002"
    assert [(line.va_number, line.members, line.amount) for line in HandoverLine.objects.for_regency(regency_a)
            .filter(handover=second)] == [("8888802222222221", 2, 2 * AMOUNT)]


def test_a_direct_campaign_has_nothing_to_hand_over(regency_a, public_campaign, make_participant, donor,
                                                    treasurer_a):
    pledge = confirmed(public_campaign, make_participant(), donor)
    donor_pays(pledge, donor, AMOUNT, "TRF-1")  # straight into the family VA
    assert ledger_balance(campaign=public_campaign).as_dict()["waiting"] == 0
    with pytest.raises(DomainError) as caught:
        handover_create(regency=regency_a, campaign=public_campaign, actor=treasurer_a)
    assert caught.value.code == "direct_route" and caught.value.status_code == 400
    assert not Handover.objects.for_regency(regency_a).exists()


def test_an_overpayment_hands_over_the_pledge_amount_and_its_excess_waits_for_a_refund(
        regency_a, collected, make_participant, donor, treasurer_a):
    pledge = confirmed(collected, make_participant(), donor)
    applied = bank_pays(pledge, AMOUNT + 55_000, "BANK-OVER")
    assert applied.overpaid == 55_000
    # The excess may go back now; what BPJS is owed may not.
    assert ledger_refundable(campaign=collected, pledge=fresh(pledge)) == 55_000
    handover = handover_create(regency=regency_a, campaign=collected, actor=treasurer_a)
    assert handover.total == AMOUNT
    handover_mark_transferred(handover=handover, actor=treasurer_a, reference="BPJS-TRF-1",
                              transferred_at=today_of(regency_a))
    assert ledger_balance(campaign=collected).as_dict() == {
        "received": AMOUNT + 55_000, "handed_over": AMOUNT, "waiting": 55_000, "refunded": 0}
    with pytest.raises(DomainError) as caught:
        ledger_refund(regency=regency_a, campaign=collected, actor=treasurer_a, amount=55_001,
                      note="kelebihan bayar", pledge=fresh(pledge))
    assert caught.value.code == "refund_exceeds_waiting" and caught.value.extra["refundable"] == 55_000
    row = ledger_refund(regency=regency_a, campaign=collected, actor=treasurer_a, amount=55_000,
                        note="kelebihan bayar ke rekening donatur", pledge=fresh(pledge))
    assert (row.kind, row.source, row.pledge_id) == (LedgerKind.REFUNDED, LedgerSource.REFUND, pledge.pk)
    assert ledger_balance(campaign=collected).as_dict() == {
        "received": AMOUNT + 55_000, "handed_over": AMOUNT, "waiting": 0, "refunded": 55_000}
    assert AuditEvent.objects.filter(verb="ledger.refunded", object_id=str(row.pk)).exists()


def test_what_a_live_pledge_owes_bpjs_is_not_refundable_but_a_closed_pledges_money_is(
        regency_a, collected, make_participant, donor, treasurer_a):
    pledge = confirmed(collected, make_participant(), donor)
    donor_pays(pledge, donor, 100_000, "TRF-1")
    assert ledger_refundable(campaign=collected, pledge=fresh(pledge)) == 0
    with pytest.raises(DomainError):
        ledger_refund(regency=regency_a, campaign=collected, actor=treasurer_a, amount=1, note="x",
                      pledge=fresh(pledge))
    pledge_release(pledge=fresh(pledge), actor=None, reason="dilunasi pihak lain")
    assert ledger_refundable(campaign=collected, pledge=fresh(pledge)) == 100_000
    ledger_refund(regency=regency_a, campaign=collected, actor=treasurer_a, amount=100_000,
                  note="janji dilepas; kembali ke donatur", pledge=fresh(pledge))
    assert ledger_balance(campaign=collected).waiting == 0


def test_money_that_matched_no_pledge_is_refunded_from_the_campaign(regency_a, collected, treasurer_a):
    credit = unmatched_credit(collected, 80_000)
    with pytest.raises(DomainError) as caught:
        ledger_refund(regency=regency_a, campaign=collected, actor=treasurer_a, amount=80_001, note="salah kirim")
    assert caught.value.code == "refund_exceeds_waiting"
    ledger_refund(regency=regency_a, campaign=collected, actor=treasurer_a, amount=30_000, note="sebagian",
                  settles=credit)
    with pytest.raises(DomainError):  # the credit has 50.000 left
        ledger_refund(regency=regency_a, campaign=collected, actor=treasurer_a, amount=50_001, note="x",
                      settles=credit)
    ledger_refund(regency=regency_a, campaign=collected, actor=treasurer_a, amount=50_000, note="sisanya",
                  settles=credit)
    assert ledger_balance(campaign=collected).as_dict() == {
        "received": 80_000, "handed_over": 0, "waiting": 0, "refunded": 80_000}


# --- transferred ----------------------------------------------------------------------------------


def test_marking_transferred_writes_one_handed_over_row_per_pledge_once(regency_a, collected, world,
                                                                       treasurer_a):
    handover = handover_create(regency=regency_a, campaign=collected, actor=treasurer_a)
    day = today_of(regency_a)
    done = handover_mark_transferred(handover=handover, actor=treasurer_a, reference=" BPJS-TRF-77 ",
                                     transferred_at=day)
    assert (done.status, done.reference, done.transferred_at) == (HandoverStatus.TRANSFERRED, "BPJS-TRF-77", day)
    rows = LedgerEntry.objects.for_regency(regency_a).filter(handover=handover)
    pledges = world["pledges"]
    assert sorted((r.pledge_id, r.amount, r.kind, r.source) for r in rows) == sorted(
        (pledges[k].pk, AMOUNT, LedgerKind.HANDED_OVER, LedgerSource.HANDOVER) for k in ("f1_head", "f1_wife", "alone"))
    # The pledge with one payment points at its received row; the wife's two payments: none.
    settles = {r.pledge_id: r.settles for r in rows}
    assert settles[pledges["f1_head"].pk].pledge_id == pledges["f1_head"].pk
    assert settles[pledges["f1_head"].pk].kind == LedgerKind.RECEIVED
    assert settles[pledges["f1_wife"].pk] is None
    balance = ledger_balance(campaign=collected)
    assert (balance.handed_over, balance.waiting) == (3 * AMOUNT, AMOUNT + 50_000)
    with pytest.raises(Conflict) as caught:
        handover_mark_transferred(handover=handover, actor=treasurer_a, reference="LAGI", transferred_at=day)
    assert caught.value.code == "already_transferred" and caught.value.status_code == 409
    assert LedgerEntry.objects.for_regency(regency_a).filter(handover=handover).count() == 3
    assert AuditEvent.objects.filter(verb="handover.transferred", object_id=str(handover.pk)).count() == 1


@pytest.mark.parametrize(("reference", "days"), [("", 0), ("   ", 0), ("BPJS-1", 1)])
def test_an_empty_reference_or_a_future_date_is_refused(regency_a, collected, world, treasurer_a, reference, days):
    handover = handover_create(regency=regency_a, campaign=collected, actor=treasurer_a)
    with pytest.raises(DomainError) as caught:
        handover_mark_transferred(handover=handover, actor=treasurer_a, reference=reference,
                                  transferred_at=today_of(regency_a) + dt.timedelta(days=days))
    assert caught.value.status_code == 400
    assert fresh_handover(handover).status == HandoverStatus.DRAFT
    assert not LedgerEntry.objects.for_regency(regency_a).filter(handover=handover).exists()


def fresh_handover(handover) -> Handover:
    return Handover.objects.for_regency(handover.regency_id).get(pk=handover.pk)


# --- the file for the branch -------------------------------------------------------------------


def test_the_xlsx_has_one_row_per_family_va_a_total_and_no_personal_data(regency_a, collected, world,
                                                                         treasurer_a):
    handover = handover_create(regency=regency_a, campaign=collected, actor=treasurer_a)
    response = login(treasurer_a).get(f"/r/luwu-utara/money/handovers/{handover.pk}/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    cells = [[int(c) if isinstance(c, float) else (c if c != "" else None) for c in row] for row in sheet]
    flat = [str(c) for row in cells for c in row if c is not None]
    assert handover.number in flat and "Luwu Utara (73.22)" in flat and collected.title in flat
    header = next(i for i, row in enumerate(cells) if row[1] == "Nomor VA")
    assert list(cells[header]) == ["No.", "Nomor VA", "Bank", "Jumlah anggota", "Jumlah (Rp)"]
    assert [tuple(r) for r in cells[header + 1:header + 3]] == [
        (1, "8888801111111111", "BRI/BNI/BTN/BCA", 2, 2 * AMOUNT),
        (2, "8888803333333333", "BRI/BNI/BTN/BCA", 1, AMOUNT)]
    assert tuple(cells[header + 3])[1:] == ("Total", None, 3, 3 * AMOUNT)
    # BPJS needs the VA only: no name, NIK, card or family card number.
    for p in world["people"].values():
        for secret in (p.name, p.nik, p.card_number, p.family.number if p.family else None):
            if secret:
                assert not any(secret in cell for cell in flat), secret
    assert AuditEvent.objects.filter(verb="export.handover", actor=treasurer_a).count() == 1


# --- who may ------------------------------------------------------------------------------------------


def test_only_the_treasurer_and_regency_admin_of_the_regency(regency_a, collected, world, treasurer_a,
                                                            staff_a, admin_a, treasurer_b):
    with pytest.raises(PermissionDenied):
        handover_create(regency=regency_a, campaign=collected, actor=staff_a)
    with pytest.raises(NotFound):
        handover_create(regency=regency_a, campaign=collected, actor=treasurer_b)
    handover = handover_create(regency=regency_a, campaign=collected, actor=admin_a)
    with pytest.raises(NotFound):
        handover_mark_transferred(handover=handover, actor=treasurer_b, reference="X",
                                  transferred_at=today_of(regency_a))
    # The API: another regency's batch is a 404 whatever the method, a member without the right a 403.
    for user, expected in ((treasurer_b, 404), (staff_a, 403)):
        client = api_for(user)
        assert client.get(f"/api/v1/handovers/{handover.pk}/").status_code == expected
        assert client.get(f"/api/v1/handovers/{handover.pk}/export.xlsx").status_code == expected
        assert client.post(f"/api/v1/handovers/{handover.pk}/transferred/",
                           {"reference": "X", "transferred_at": str(today_of(regency_a))},
                           format="json").status_code == expected
        assert client.get(f"/api/v1/campaigns/{collected.slug}/ledger/").status_code == expected
    assert api_for(treasurer_b).post("/api/v1/regencies/luwu-utara/handovers/", {"campaign": collected.slug},
                                     format="json").status_code == 404
    assert api_for(staff_a).post("/api/v1/regencies/luwu-utara/handovers/", {"campaign": collected.slug},
                                 format="json").status_code == 403
    assert APIClient().get(f"/api/v1/handovers/{handover.pk}/").status_code in (401, 403)
    # Pages: 404 outside the regency, 403 inside without the right.
    for path in ("/r/luwu-utara/money/", f"/r/luwu-utara/money/handovers/{handover.pk}/",
                 f"/r/luwu-utara/money/campaigns/{collected.slug}/"):
        assert login(treasurer_b).get(path).status_code == 404
        assert login(staff_a).get(path).status_code == 403
    assert fresh_handover(handover).status == HandoverStatus.DRAFT


# --- the API -------------------------------------------------------------------------------------


def test_the_api_makes_exports_and_transfers_a_batch(regency_a, collected, world, treasurer_a):
    client = api_for(treasurer_a)
    made = client.post("/api/v1/regencies/luwu-utara/handovers/", {"campaign": collected.slug}, format="json")
    assert made.status_code == 201
    body = made.json()
    assert {"id", "families", "total"} <= set(body) and (body["families"], body["total"]) == (2, 3 * AMOUNT)
    again = client.post("/api/v1/regencies/luwu-utara/handovers/", {"campaign": collected.slug}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "nothing_to_hand_over"
    assert client.post("/api/v1/regencies/luwu-utara/handovers/", {"campaign": "tidak-ada"},
                       format="json").status_code == 404
    detail = client.get(f"/api/v1/handovers/{body['id']}/").json()
    assert detail["status"] == "draft" and [line["va_number"] for line in detail["lines"]] == [
        "8888801111111111", "8888803333333333"]
    export = client.get(f"/api/v1/handovers/{body['id']}/export.xlsx")
    assert export.status_code == 200 and export.content[:2] == b"PK"
    url = f"/api/v1/handovers/{body['id']}/transferred/"
    future = str(today_of(regency_a) + dt.timedelta(days=1))
    assert client.post(url, {"reference": "BPJS-9", "transferred_at": future}, format="json").status_code == 400
    assert client.post(url, {"reference": "", "transferred_at": str(today_of(regency_a))},
                       format="json").status_code == 400
    assert client.post(url, {"reference": "BPJS-9"}, format="json").status_code == 400
    done = client.post(url, {"reference": "BPJS-9", "transferred_at": str(today_of(regency_a))}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "transferred"
    twice = client.post(url, {"reference": "BPJS-9", "transferred_at": str(today_of(regency_a))}, format="json")
    assert twice.status_code == 409 and twice.json()["code"] == "already_transferred"
    ledger = client.get(f"/api/v1/campaigns/{collected.slug}/ledger/").json()
    assert ledger == {"received": 4 * AMOUNT + 50_000, "handed_over": 3 * AMOUNT, "waiting": AMOUNT + 50_000,
                      "refunded": 0}
    assert ledger["received"] == ledger["handed_over"] + ledger["waiting"] + ledger["refunded"]


# --- the pages -----------------------------------------------------------------------------------


def test_the_money_pages(regency_a, collected, world, treasurer_a, admin_a):
    client = login(treasurer_a)
    home = client.get("/r/luwu-utara/money/")
    assert home.status_code == 200
    text = home.content.decode()
    assert collected.title in text and "Buat penyerahan" in text and "2 keluarga, Rp735.000" in text
    assert 'href="/r/luwu-utara/money/"' in text  # the nav link of a MANAGE_MONEY user
    made = client.post("/r/luwu-utara/money/handovers/new/", {"campaign": collected.slug})
    handover = Handover.objects.for_regency(regency_a).get()
    assert made.status_code == 302 and made["Location"] == f"/r/luwu-utara/money/handovers/{handover.pk}/"
    again = client.post("/r/luwu-utara/money/handovers/new/", {"campaign": collected.slug}, follow=True)
    assert "Belum ada yang dapat diserahkan" in again.content.decode()
    page = client.get(f"/r/luwu-utara/money/handovers/{handover.pk}/").content.decode()
    assert "8888801111111111" in page and "Rp735.000" in page and "Tandai sudah ditransfer" in page
    url = f"/r/luwu-utara/money/handovers/{handover.pk}/transferred/"
    day = str(today_of(regency_a))
    unconfirmed = client.post(url, {"reference": "BPJS-1", "transferred_at": day})
    assert unconfirmed.status_code == 400 and fresh_handover(handover).status == HandoverStatus.DRAFT
    future = client.post(url, {"reference": "BPJS-1", "transferred_at": str(today_of(regency_a) + dt.timedelta(days=3)),
                               "confirm": "on"})
    assert future.status_code == 400 and "masa depan" in future.content.decode()
    done = client.post(url, {"reference": "BPJS-1", "transferred_at": day, "confirm": "on"})
    assert done.status_code == 302 and fresh_handover(handover).status == HandoverStatus.TRANSFERRED
    ledger_page = client.get(f"/r/luwu-utara/money/campaigns/{collected.slug}/").content.decode()
    assert handover.number in ledger_page and "Rp1.030.000" in ledger_page and "Rp295.000" in ledger_page
    # The campaign admin page shows the balance (regency admin).
    admin_page = login(admin_a).get(f"/r/luwu-utara/campaigns/{collected.slug}/").content.decode()
    assert "Buku kas" in admin_page and "Rp735.000" in admin_page


def test_a_refund_from_the_ledger_page(regency_a, collected, make_participant, donor, treasurer_a):
    pledge = confirmed(collected, make_participant(), donor)
    bank_pays(pledge, AMOUNT + 5_000, "BANK-1")
    client = login(treasurer_a)
    url = f"/r/luwu-utara/money/campaigns/{collected.slug}/refund/"
    too_much = client.post(url, {"amount": 5_001, "note": "kelebihan", "pledge": pledge.payment_code})
    assert too_much.status_code == 400 and "Rp5.000" in too_much.content.decode()
    unknown = client.post(url, {"amount": 1, "note": "x", "pledge": "SUXXXXXXXX"})
    assert unknown.status_code == 400
    done = client.post(url, {"amount": 5_000, "note": "kelebihan ke donatur", "pledge": pledge.payment_code.lower()})
    assert done.status_code == 302
    assert ledger_balance(campaign=collected).refunded == 5_000
    assert fresh(pledge).status == PledgeStatus.PAID


def test_a_batch_costs_the_same_queries_for_one_family_or_many(regency_a, make_campaign, make_participant,
                                                              make_family, donor, treasurer_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def batch_queries(families: int) -> int:
        campaign = make_campaign(payment_route=PaymentRoute.COLLECTED, bank_name="Bank", account_number="1234567")
        for _ in range(families):
            family = make_family()
            for relationship in (Relationship.HEAD, Relationship.WIFE):
                pledge = confirmed(campaign, make_participant(family=family, relationship=relationship), donor)
                bank_pays(pledge, AMOUNT, f"BANK-{pledge.pk}")
        with CaptureQueriesContext(connection) as queries:
            handover = handover_create(regency=regency_a, campaign=campaign, actor=treasurer_a)
        assert handover.families == families
        with CaptureQueriesContext(connection) as transfer_queries:
            handover_mark_transferred(handover=handover, actor=treasurer_a, reference=f"T-{families}",
                                      transferred_at=today_of(regency_a))
        return len(queries) + len(transfer_queries)

    assert batch_queries(1) == batch_queries(4)


@pytest.mark.django_db(transaction=True)
def test_two_treasurers_at_once_make_one_batch_and_transfer_it_once(regency_a, collected, world, treasurer_a,
                                                                    admin_a):
    from tests.donations.test_concurrency import _race

    actors = [treasurer_a, admin_a] * 2
    made = _race(lambda i: handover_create(regency=regency_a, campaign=collected, actor=actors[i]), n=4)
    batches = [o for o in made if isinstance(o, Handover)]
    assert len(batches) == 1, made
    assert {o.code for o in made if not isinstance(o, Handover)} == {"nothing_to_hand_over"}
    handover = batches[0]
    done = _race(lambda i: handover_mark_transferred(handover=handover, actor=actors[i], reference=f"BPJS-{i}",
                                                     transferred_at=today_of(regency_a)), n=4)
    assert len([o for o in done if isinstance(o, Handover)]) == 1, done
    assert {o.code for o in done if not isinstance(o, Handover)} == {"already_transferred"}
    assert LedgerEntry.objects.for_regency(regency_a).filter(handover=handover).count() == 3
    assert ledger_balance(campaign=collected).handed_over == handover.total == 3 * AMOUNT
