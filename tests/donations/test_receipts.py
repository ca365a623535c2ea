"""Receipts (kuitansi): numbers per regency and year with no gaps (a rolled-back payment gives its
number back), the PDF for the donor (pseudonym only; 404 to anyone else but the regency's staff),
and the receipt register (XLSX) for the treasurer."""

from __future__ import annotations

import datetime as dt
import io
import re
import zlib

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from python_calamine import CalamineWorkbook

from core.errors import DomainError
from core.models import AuditEvent
from donations import services
from donations.models import Payment, PledgeStatus
from donations.money.kuitansi import terbilang
from tests.donations.reconciliation_world import imp, person
from tests.donations.reconciliation_world import pledge as make_pledge

NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)  # 10:00 WITA
DAY = dt.date(2026, 11, 22)
NEXT_YEAR = dt.datetime(2027, 1, 2, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=True):
        yield


def _confirmed(campaign, participant, donor):
    reserved = services.pledge_reserve(campaign=campaign, participant=participant, donor=donor)
    return services.pledge_confirm(pledge=reserved, actor=donor)


def _pay(pledge, donor, amount: int, reference: str, day: dt.date = DAY) -> Payment:
    return services.payment_record(pledge=pledge, actor=donor, amount=amount, reference=reference, paid_on=day)


@pytest.fixture
def pledge_b(regency_b, branch_b, make_campaign, donor2):
    """A confirmed pledge of regency B (Lombok Timur), by another donor."""
    campaign = make_campaign(regency=regency_b, slug="lotim-peduli", title="Lotim Peduli")
    first = imp(branch_b, dt.date(2026, 11, 1))
    return make_pledge(person(regency_b, first), campaign, donor2, PledgeStatus.PLEDGED, made_from=first)



def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pdf_text(content: bytes) -> str:
    """The text drawn on the pages (fpdf2 writes `(text) Tj` into zlib-compressed content streams)."""
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S):
        try:
            data = zlib.decompress(stream)
        except zlib.error:
            data = stream
        out += [s.decode("latin-1") for s in re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", data, re.S)]
    return "\n".join(t.replace("\\(", "(").replace("\\)", ")") for t in out)


# --- numbers ----------------------------------------------------------------------------------------


def test_receipt_numbers_run_per_regency_and_year_without_gaps(public_campaign, make_participant, donor, donor2,
                                                               pledge_b):
    first = _confirmed(public_campaign, make_participant(), donor)
    second = _confirmed(public_campaign, make_participant(), donor)
    third = _confirmed(public_campaign, make_participant(), donor)

    assert _pay(first, donor, 100_000, "A-1").receipt_number == "KW/73.22/2026/000001"
    assert _pay(pledge_b, donor2, 245_000, "B-1").receipt_number == "KW/52.03/2026/000001"  # B counts apart
    assert _pay(first, donor, 145_000, "A-2").receipt_number == "KW/73.22/2026/000002"

    # A payment whose transaction rolls back gives its number back.
    with pytest.raises(RuntimeError), transaction.atomic():
        assert _pay(second, donor, 245_000, "A-3").receipt_number == "KW/73.22/2026/000003"
        raise RuntimeError("the request failed after the payment was written")
    # A refused report takes no number.
    with pytest.raises(DomainError):
        _pay(second, donor, 999_000, "A-3")
    assert _pay(second, donor, 245_000, "A-3").receipt_number == "KW/73.22/2026/000003"

    # A new year starts at 1 again.
    with time_machine.travel(NEXT_YEAR, tick=False):
        assert _pay(third, donor, 245_000, "A-4", day=dt.date(2027, 1, 2)).receipt_number == "KW/73.22/2027/000001"

    numbers = sorted(Payment.all_regencies.filter(regency=first.regency_id, receipt_number__contains="/2026/")
                     .values_list("receipt_number", flat=True))
    assert [int(n[-6:]) for n in numbers] == [1, 2, 3]


def test_terbilang_writes_amounts_as_a_kuitansi_does():
    assert terbilang(245_000) == "dua ratus empat puluh lima ribu"
    assert terbilang(1_000) == "seribu"
    assert terbilang(111) == "seratus sebelas"
    assert terbilang(3_750_000) == "tiga juta tujuh ratus lima puluh ribu"
    assert terbilang(1_015_019) == "satu juta lima belas ribu sembilan belas"
    assert terbilang(2_000_000_000) == "dua miliar"
    assert terbilang(0) == "nol"


# --- the PDF --------------------------------------------------------------------------------------------


def test_the_donor_gets_the_kuitansi_pdf_with_the_pseudonym_only(public_campaign, make_participant, donor):
    participant = make_participant(name="Andi Sulaiman")
    pledge = _confirmed(public_campaign, participant, donor)
    payment = _pay(pledge, donor, 245_000, "BRI-778899")
    url = f"/me/pledges/{pledge.public_id}/payments/{payment.pk}/kuitansi.pdf"

    response = _login(donor).get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert "kuitansi-KW-7322-2026-000001.pdf" in response["Content-Disposition"]
    text = _pdf_text(response.content)
    for shown in ("KW/73.22/2026/000001", "Rp245.000", "Luwu Utara", "Luwu Utara Peduli", "A.S.", "BRI-778899",
                  "Dilaporkan donatur", "22 November 2026", "dua ratus empat puluh lima ribu"):
        assert shown in text, shown
    for secret in ("Andi Sulaiman", participant.nik, participant.card_number):
        assert secret not in text


def test_the_pledge_page_links_each_payment_to_its_kuitansi(public_campaign, make_participant, donor):
    pledge = _confirmed(public_campaign, make_participant(), donor)
    payment = _pay(pledge, donor, 100_000, "BRI-1")
    page = _login(donor).get(f"/me/pledges/{pledge.public_id}/").content.decode()
    assert f"/me/pledges/{pledge.public_id}/payments/{payment.pk}/kuitansi.pdf" in page
    assert payment.receipt_number in page


def test_only_the_donor_and_the_regencys_money_or_campaign_staff_get_the_kuitansi(
        public_campaign, make_participant, donor, donor2, admin_a, staff_a, treasurer_a, admin_b, pledge_b):
    pledge = _confirmed(public_campaign, make_participant(), donor)
    payment = _pay(pledge, donor, 245_000, "BRI-1")
    other = _pay(pledge_b, donor2, 245_000, "B-1")
    url = f"/me/pledges/{pledge.public_id}/payments/{payment.pk}/kuitansi.pdf"

    assert _login(donor).get(url).status_code == 200
    assert _login(treasurer_a).get(url).status_code == 200  # MANAGE_MONEY
    assert _login(admin_a).get(url).status_code == 200  # MANAGE_CAMPAIGNS
    assert _login(donor2).get(url).status_code == 404  # another donor
    assert _login(admin_b).get(url).status_code == 404  # another regency's staff
    assert _login(staff_a).get(url).status_code == 404  # a member without either permission
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    # B's payment under A's pledge, and a payment that does not exist: 404 even to the donor.
    assert _login(donor).get(f"/me/pledges/{pledge.public_id}/payments/{other.pk}/kuitansi.pdf").status_code == 404
    assert _login(donor).get(f"/me/pledges/{pledge.public_id}/payments/999999/kuitansi.pdf").status_code == 404


# --- the register ----------------------------------------------------------------------------------------


def _rows(response) -> list[list]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()


def test_the_treasurer_downloads_the_receipt_register_of_a_year(public_campaign, make_participant, donor, donor2,
                                                                treasurer_a, pledge_b):
    first = _confirmed(public_campaign, make_participant(name="Andi Sulaiman"), donor)
    second = _confirmed(public_campaign, make_participant(name="Budi Santoso"), donor)
    _pay(first, donor, 100_000, "=HYPERLINK(\"http://x\")")
    _pay(second, donor, 245_000, "BRI-2")
    _pay(first, donor, 145_000, "BRI-3")
    _pay(pledge_b, donor2, 245_000, "B-1")  # another regency
    with time_machine.travel(NEXT_YEAR, tick=False):
        _pay(_confirmed(public_campaign, make_participant(), donor), donor, 245_000, "BRI-2027",
             day=dt.date(2027, 1, 2))
    client = _login(treasurer_a)

    response = client.get("/r/luwu-utara/money/receipts.xlsx?year=2026")

    assert response.status_code == 200
    assert "kuitansi-luwu-utara-2026.xlsx" in response["Content-Disposition"]
    rows = _rows(response)
    assert rows[0] == ["Nomor kuitansi", "Tanggal kuitansi", "Tanggal bayar", "Kampanye", "ID janji",
                       "Peserta (samaran)", "Sumber", "Nomor referensi", "Jumlah (Rp)"]
    body = rows[1:]
    assert [r[0] for r in body] == ["KW/73.22/2026/000001", "KW/73.22/2026/000002", "KW/73.22/2026/000003"]
    assert [r[8] for r in body] == [100_000, 245_000, 145_000]
    assert [r[4] for r in body] == [str(first.public_id), str(second.public_id), str(first.public_id)]
    assert [r[5] for r in body] == ["A.S.", "B.S.", "A.S."]
    assert body[0][3] == "Luwu Utara Peduli" and body[0][6] == "Dilaporkan donatur"
    assert body[0][7] == "'=HYPERLINK(\"http://x\")"  # neutralised, not a formula
    assert body[0][2] == DAY
    flat = str(rows)
    assert "Andi" not in flat and "Budi" not in flat and "B-1" not in flat and "BRI-2027" not in flat
    event = AuditEvent.objects.get(verb="export.receipts")
    assert event.after["rows"] == 3 and event.after["filters"] == {"year": 2026}

    next_year = _rows(client.get("/r/luwu-utara/money/receipts.xlsx?year=2027"))
    assert [r[0] for r in next_year[1:]] == ["KW/73.22/2027/000001"]
    # Without a year: this year (in the regency's time zone).
    assert len(_rows(client.get("/r/luwu-utara/money/receipts.xlsx"))) == 4


def test_the_register_is_for_money_managers_of_the_regency_only(public_campaign, make_participant, donor, admin_a,
                                                                staff_a, treasurer_a, admin_b):
    url = "/r/luwu-utara/money/receipts.xlsx"
    assert _login(treasurer_a).get(url).status_code == 200
    assert _login(admin_a).get(url).status_code == 200  # the regency admin has every permission
    assert _login(staff_a).get(url).status_code == 403  # a member without MANAGE_MONEY
    assert _login(admin_b).get(url).status_code == 404  # another regency's staff
    assert _login(donor).get(url).status_code == 404
    assert Client().get(url).status_code in (302, 404)
    for bad in ("abc", "1999", "20261", "-1"):
        assert _login(treasurer_a).get(f"{url}?year={bad}").status_code == 400
