"""Journey (d): a new community donor signs up, adopts a participant, records the payment, and
after the next BPJS import sees the pledge verified.

The donor is nobody yet: signs up at /accounts/signup/, opens the verification link
from the e-mail that was sent (the locmem backend; the live server runs in this
process, so `django.core.mail.outbox` holds it), signs in, and from the public
campaign page adopts one eligible participant (reserve, confirm), then records a
payment (amount, reference, date): `paid`. Then KC Palopo's next full list arrives
without that participant (arrears settled) and goes through the real pipeline
(import_create, then the worker's import_run), after which reconciliation runs
(the `arrears_import_applied` receiver): the donor's /me/ shows "Terverifikasi", the
"active again" message, and the thank-you certificate downloads as a PDF.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from core.formatting import format_date, format_rupiah
from donations.models import Audience, Payment, Pledge, PledgeStatus
from participants.models import Participant
from participants.pseudonym import pseudonym
from tests.e2e.axe import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "lutra-peduli"
EMAIL = "rina.donatur@example.test"
NEW_PASSWORD = "Kopi-Toraja-2026!"
NAMES = ("ANDI SULAIMAN", "SITI AMINAH", "MUHAMMAD RIZAL", "NURHAYATI DAENG")
CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm-email/[^\s/]+/")


@pytest.fixture
def public_campaign(open_campaign):
    return open_campaign(SLUG, "Luwu Utara Peduli JKN", "Lunasi tunggakan iuran satu warga, sebelum ia jatuh sakit.",
                         Audience.PUBLIC, 50)


@pytest.fixture
def eligible(import_named, approve_eligible):
    first, participants = import_named(NAMES, name="tunggakan-pertama.csv")
    assert [p.name for p in participants] == list(NAMES)
    approve_eligible(participants)
    return first, participants


def _sign_up(page) -> str:
    """Sign up through the form; returns the verification link from the e-mail sent."""
    page.goto("/")
    page.get_by_role("link", name="Daftar sebagai donatur").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/"))
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", NEW_PASSWORD)
    page.fill("input[name=password2]", NEW_PASSWORD)
    with page.expect_navigation():
        page.locator("form:has(input[name=password2]) button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))  # "check your inbox"

    sent = [m for m in mail.outbox if EMAIL in m.to]
    assert len(sent) == 1, [(m.to, m.subject) for m in mail.outbox]
    found = CONFIRM_LINK.search(sent[0].body)
    assert found, sent[0].body
    return found.group(0)


def _verify_and_log_in(page, link: str) -> None:
    """The link opened from the mail app (a browser without the sign-up's session): confirm the
    address, then sign in with the new password."""
    page.goto(link)
    expect(page.locator("main")).to_contain_text(EMAIL)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    from allauth.account.models import EmailAddress

    assert EmailAddress.objects.get(email=EMAIL).verified
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", NEW_PASSWORD)
    with page.expect_navigation():
        page.click("form:has(input[name=login]) button[type=submit]")
    page.locator(".nav-account summary").click()  # signed in: "Keluar" is in the account menu
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()


def test_new_donor_adopts_pays_and_sees_verified_after_the_next_import(
    new_context, public_campaign, eligible, import_named, regency_a
):
    first_import, participants = eligible
    # --- sign up, verify the e-mail from the mail, sign in --------------------------------------
    link = _sign_up(new_context().new_page())
    page = new_context().new_page()
    _verify_and_log_in(page, link)

    # --- the public campaign; adopt one participant ---------------------------------------------
    page.goto(f"/c/{SLUG}/")
    expect(page.locator("h1")).to_have_text(public_campaign.title)
    expect(page.locator(".page-head")).to_contain_text("Terbuka untuk umum")
    assert_accessible(page, "campaign page (public, donor)")
    page.get_by_role("link", name="Pilih satu peserta").click()

    cards = page.locator("article.card")
    expect(cards).to_have_count(len(participants))
    html = page.content()
    for p in participants:
        assert p.nik not in html and p.card_number not in html and p.name.lower() not in html.lower()
    assert_accessible(page, "participant browse (donor)")
    first = cards.first
    chosen = Participant.objects.for_regency(regency_a).get(
        public_id=first.locator("input[name=participant]").get_attribute("value"))
    first.get_by_role("button", name="Bantu peserta ini").click()

    expect(page).to_have_url(re.compile(r"/me/pledges/[0-9a-f-]{36}/$"))
    expect(page.locator("h1 .badge")).to_have_text("Dipesan")
    # The family VA carries card digits: not shown before the donor confirms.
    expect(page.locator("#va-hidden")).to_contain_text("Nomor VA keluarga ditampilkan setelah Anda mengonfirmasi")
    assert "88888" not in page.content() and "89888" not in page.content()
    page.get_by_role("button", name="Konfirmasi janji").click()
    expect(page.locator("h1 .badge")).to_have_text("Dijanjikan")
    expect(page.locator(".messages")).to_contain_text("Nomor VA keluarga kini tampil")
    expect(page.locator("#va-notice")).to_contain_text("memuat 11 digit nomor kartu JKN peserta")
    pledge = Pledge.objects.for_regency(regency_a).get(participant=chosen, donor__email=EMAIL)
    assert pledge.campaign == public_campaign and pledge.status == PledgeStatus.PLEDGED

    # --- record the payment: amount, reference, date ------------------------------------------------
    today = dt.date.fromisoformat(page.locator("input[name=paid_at]").input_value())
    assert today == first_import.as_of  # prefilled with the regency's today
    expect(page.locator("input[name=amount]")).to_have_value(str(pledge.amount))
    page.fill("input[name=reference]", "BRIVA-8888802300000004-01")
    page.get_by_role("button", name="Simpan pembayaran").click()
    expect(page.locator(".messages")).to_contain_text(f"Pembayaran {format_rupiah(pledge.amount)} dicatat")
    expect(page.locator(".messages")).to_contain_text("Lunas dibayar")
    expect(page.locator("h1 .badge")).to_have_text("Dibayar")
    expect(page.locator("#paid-amount td")).to_have_text(format_rupiah(pledge.amount))
    expect(page.locator("#outstanding td")).to_have_text("Rp0")
    expect(page.get_by_role("button", name="Simpan pembayaran")).to_have_count(0)  # paid in full: no form
    payments = page.locator("section").filter(has=page.get_by_role("heading", name="Pembayaran", exact=True))
    expect(payments.locator("tbody tr")).to_have_count(1)
    expect(payments.locator("tbody tr")).to_contain_text(format_rupiah(pledge.amount))
    expect(payments.locator("tbody tr")).to_contain_text(format_date(today))
    assert_accessible(page, "pledge page (paid)")
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.PAID
    payment = Payment.objects.for_regency(regency_a).get(pledge=pledge)
    assert (payment.amount, payment.reference, payment.paid_on) == (
        pledge.amount, "BRIVA-8888802300000004-01", today)

    page.goto("/me/")
    row = page.locator("article.card").filter(has_text=pseudonym(chosen))
    expect(row.locator(".badge").first).to_have_text("Dibayar")
    expect(row.get_by_role("link", name="Sertifikat (PDF)")).to_have_count(0)

    # --- the next BPJS list: a full one, without the adopted participant (arrears settled) -----------
    position = participants.index(chosen) + 1
    second, _participants = import_named(NAMES, skip={position}, as_of=today, name="tunggakan-kedua.csv")
    assert second.mode == "full" and second.as_of >= payment.paid_on

    # --- the donor's page: verified, active again, certificate --------------------------------------
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.VERIFIED, f"reconciliation left the pledge {pledge.status}"
    page.goto("/me/")
    row = page.locator("article.card").filter(has_text=pseudonym(chosen))
    expect(row.locator(".badge").first).to_have_text("Terverifikasi")
    expect(row).to_contain_text(re.compile(r"aktif kembali", re.IGNORECASE))
    certificate = row.get_by_role("link", name="Sertifikat (PDF)")
    expect(certificate).to_be_visible()
    assert_accessible(page, "donor home (verified)")

    response = page.request.get(certificate.get_attribute("href"))
    assert response.status == 200, response.text()[:300]
    assert response.headers["content-type"] == "application/pdf"
    assert response.body()[:5] == b"%PDF-"

    # The pledge page says the same, in Indonesian, with the step that verified it.
    row.get_by_role("link", name="Buka").click()
    expect(page.locator("h1 .badge")).to_have_text("Terverifikasi")
    expect(page.get_by_role("link", name="Unduh sertifikat (PDF)")).to_be_visible()
    history = page.locator("section").filter(has=page.get_by_role("heading", name="Riwayat"))
    expect(history).to_contain_text("Dibayar → Terverifikasi")
    assert_accessible(page, "pledge page (verified)")

    # The others are still in arrears and still pledgeable; nothing else changed.
    others = Pledge.objects.for_regency(regency_a).exclude(pk=pledge.pk)
    assert not others.exists()
    page.goto(f"/c/{SLUG}/participants/")
    expect(page.locator("article.card")).to_have_count(len(participants) - 1)
