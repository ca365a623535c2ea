"""Journey (c): a Pemda staff member pledges for one participant in the internal campaign, on a phone.

Issue 5's promise: "a Pemda staff member can pledge for one participant in the internal
campaign in under a minute on a phone". The participants come from a real import; five
of them are made eligible through the assessment workflow (an assessor submits, a
supervisor approves), one is left unassessed and must not be offered. The staff member
signs in on a 390x844 touch screen, finds the campaign from the home page and the
navigation, browses pseudonyms only (no NIK, card number or full name anywhere on the
page), reserves one, confirms, and reads what to pay and where. The browser part is
timed (axe-core checks excluded) and must stay under a minute.
"""

from __future__ import annotations

import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.formatting import format_datetime, format_rupiah
from donations.models import Audience, Pledge, PledgeStatus
from participants.models import Participant, virtual_account_numbers
from participants.pseudonym import pseudonym
from tests.e2e.axe import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "lutra-asn"
NAMES = ("ANDI SULAIMAN", "SITI AMINAH", "MUHAMMAD RIZAL", "NURHAYATI DAENG", "BAHARUDDIN TAHIR", "RATNA SARI")
RUPIAH = re.compile(r"^Rp\d{1,3}(\.\d{3})*$")


@pytest.fixture
def eligible(import_named, approve_eligible):
    """Six participants imported (realistic names and card numbers); the first five approved."""
    _imported, participants = import_named(NAMES)
    assert [p.name for p in participants] == list(NAMES)
    approve_eligible(participants[:5])
    return participants


class Stopwatch:
    """Wall time of the journey, minus the accessibility checks run along the way."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.excluded = 0.0

    def check(self, page, name: str) -> None:
        began = time.perf_counter()
        assert_accessible(page, name)
        self.excluded += time.perf_counter() - began

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started - self.excluded


def _assert_no_identity(text: str, participants) -> None:
    """No NIK, card number or full name (nor any longer part of it) in the page."""
    lowered = text.lower()
    for p in participants:
        assert p.nik not in text, f"NIK of {p.pk} on the page"
        assert p.card_number not in text, f"card number of {p.pk} on the page"
        assert p.name.lower() not in lowered, f"name {p.name!r} on the page"
        for word in p.name.split():
            if len(word) >= 5:
                assert word.lower() not in lowered, f"part of the name {p.name!r} ({word}) on the page"


def test_pemda_staff_pledges_on_a_phone_in_under_a_minute(
    login, open_campaign, eligible, regency_a, staff_a, record_property
):
    internal_campaign = open_campaign(SLUG, "ASN Peduli JKN Luwu Utara",
                                      "Setiap ASN menanggung tunggakan satu peserta mandiri.", Audience.INTERNAL, 100)
    watch = Stopwatch()
    phone = login(staff_a, phone=True)
    assert phone.evaluate("window.innerWidth") == 390

    # From the signed-in home page to the regency, then the navigation's "Kampanye" (behind "Menu").
    phone.goto("/")
    phone.get_by_role("link", name=f"Dasbor {regency_a.name}").tap()
    expect(phone).to_have_url(re.compile(rf"/r/{regency_a.slug}/$"))
    phone.get_by_role("button", name="Menu").tap()
    phone.get_by_role("navigation", name="Navigasi utama").get_by_role("link", name="Kampanye").tap()
    expect(phone).to_have_url(re.compile(rf"/r/{regency_a.slug}/campaigns/$"))
    row = phone.locator("tr").filter(has_text=internal_campaign.title)
    row.get_by_role("link", name="Ikut membantu").tap()

    # The campaign page: internal, open to this member.
    expect(phone).to_have_url(re.compile(rf"/c/{SLUG}/$"))
    expect(phone.locator("h1")).to_have_text(internal_campaign.title)
    expect(phone.locator(".page-head")).to_contain_text("Internal Pemda")
    watch.check(phone, "campaign page (internal, phone)")
    phone.get_by_role("link", name="Pilih satu peserta").tap()

    # Browsing: the five eligible, as pseudonyms; the unassessed one is not offered.
    expect(phone).to_have_url(re.compile(rf"/c/{SLUG}/participants/"))
    cards = phone.locator("article.card")
    expect(cards).to_have_count(5)
    shown = {cards.nth(i).locator("h2").inner_text().split()[0] for i in range(5)}
    assert shown == {pseudonym(p) for p in eligible[:5]}
    assert pseudonym(eligible[5]) not in shown
    _assert_no_identity(phone.content(), eligible)
    _assert_no_identity(phone.locator("body").inner_text(), eligible)
    watch.check(phone, "participant browse (phone)")

    # The first card (most months in arrears first): reserve it.
    first = cards.first
    public_id = first.locator("input[name=participant]").get_attribute("value")
    chosen = Participant.objects.for_regency(regency_a).get(public_id=public_id)
    assert chosen == eligible[4]  # months 2+5: the longest in arrears
    expect(first).to_contain_text(format_rupiah(chosen.arrears_amount))
    first.get_by_role("button", name="Bantu peserta ini").tap()

    expect(phone).to_have_url(re.compile(r"/me/pledges/[0-9a-f-]{36}/$"))
    expect(phone.locator(".messages")).to_contain_text("Peserta dipesan untuk Anda")
    expect(phone.locator("h1 .badge")).to_have_text("Dipesan")
    phone.get_by_role("button", name="Konfirmasi janji").tap()

    # The pledge page: what to pay and where.
    expect(phone.locator(".messages")).to_contain_text("Janji dikonfirmasi")
    expect(phone.locator("h1 .badge")).to_have_text("Dijanjikan")
    pay = phone.locator("section[aria-labelledby=pay]")
    expect(pay).to_be_visible()
    seconds = watch.seconds  # the staff member now knows what to pay and where

    pledge = Pledge.objects.for_regency(regency_a).get(participant=chosen)
    assert pledge.status == PledgeStatus.PLEDGED
    assert pledge.donor == staff_a and pledge.campaign == internal_campaign
    assert pledge.arrears_amount == chosen.arrears_amount
    assert pledge.amount == pledge.arrears_amount + pledge.monthly_tariff > chosen.arrears_amount
    assert phone.url.rstrip("/").endswith(str(pledge.public_id))

    total = pay.locator("tr").filter(has_text="Jumlah yang dibayar").locator("td")
    expect(total).to_have_text(format_rupiah(pledge.amount))
    assert RUPIAH.match(total.inner_text().strip())
    expect(pay.locator("tr").filter(has_text="Tunggakan").locator("td")).to_have_text(
        format_rupiah(pledge.arrears_amount))
    due = pay.locator("tr").filter(has_text="Batas waktu").locator("td")
    expect(due).to_have_text(format_datetime(pledge.due_at, regency_a.tzinfo))
    assert re.fullmatch(r"\d{1,2} \w+ \d{4} \d{2}\.\d{2} WITA", due.inner_text().strip())
    for bank, va in virtual_account_numbers(chosen.card_number).items():
        expect(pay.locator("li").filter(has_text=bank)).to_contain_text(va)
    _assert_no_identity(phone.content(), [chosen])  # the VA is derived, not the card number
    expect(phone.locator("section[aria-labelledby=who]")).to_contain_text("Baloli, Masamba · Kelas 3")
    # On a 390 px screen the amounts are in view: the table needs no sideways scrolling.
    wrap = pay.locator(".table-wrap")
    assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth"), "the amounts need sideways scrolling"
    # The history speaks Indonesian (labels, not the stored codes).
    history = phone.locator("section").filter(has=phone.get_by_role("heading", name="Riwayat"))
    expect(history).to_contain_text("Dipesan → Dijanjikan")
    assert "pledged" not in history.inner_text()
    watch.check(phone, "pledge page (phone)")

    # The payment form is there for later; the pledge shows on /me/.
    expect(phone.get_by_role("button", name="Simpan pembayaran")).to_be_visible()
    # Prefilled with today, in the ISO form a date input needs (not "22-11-2026").
    expect(phone.locator("input[name=paid_at]")).to_have_value(
        timezone.localdate(timezone=regency_a.tzinfo).isoformat())
    phone.get_by_role("button", name="Menu").tap()
    phone.get_by_role("navigation", name="Navigasi utama").get_by_role("link", name="Donasi saya").tap()
    expect(phone).to_have_url(re.compile(r"/me/$"))
    expect(phone.locator("article.card").first).to_contain_text(pseudonym(chosen))
    expect(phone.locator("article.card").first.locator(".badge").first).to_have_text("Dijanjikan")
    watch.check(phone, "donor home (staff, phone)")

    record_property("journey_seconds", round(seconds, 2))
    print(f"\njourney (c): sign-in to the pledge page with VA and amount in {seconds:.1f} s "
          f"(axe-core checks excluded, {watch.excluded:.1f} s)")
    assert seconds < 60, f"the pledge took {seconds:.1f} s on a phone"
