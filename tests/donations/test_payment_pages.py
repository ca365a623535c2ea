"""What a donor sees about paying, in the browser: what is still owed and by when, the payment
form prefilled with the rest, the family VA only after confirmation (with the card-digit warning),
the collecting account and payment code on a `collected` campaign (never a VA), the daily limit on
unconfirmed reservations, and the campaign form's payment route and the regency's payment settings."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from core.formatting import format_datetime, format_rupiah
from donations import services
from donations.emails import pledge_email_send
from donations.models import (
    Campaign,
    Kind,
    PaymentRoute,
    Pledge,
    PledgeStatus,
    ReconciliationSettings,
)

ACCOUNT = {"payment_route": PaymentRoute.COLLECTED, "bank_name": "Bank Sulselbar",
           "account_number": "150-202-6000073", "account_holder": "Pemkab Luwu Utara - Satu untuk Satu"}


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def today_of(pledge) -> str:
    return timezone.localdate(timezone=pledge.campaign.regency.tzinfo).isoformat()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def no_va(html: str, participant) -> None:
    """Neither VA prefix nor any 11-digit tail of the card number is on the page."""
    assert "88888" not in html and "89888" not in html
    assert participant.card_number[-11:] not in html and participant.card_number not in html


@pytest.fixture
def collected_campaign(make_campaign):
    return make_campaign(slug="asn-rekening", title="ASN lewat rekening", kind=Kind.ONE_TO_ONE, **ACCOUNT)


def _reserve_on_page(client, campaign, participant) -> Pledge:
    response = client.post(f"/c/{campaign.slug}/reserve/", {"participant": str(participant.public_id)})
    assert response.status_code == 302, response
    return Pledge.all_regencies.get(participant=participant, status=PledgeStatus.RESERVED)


def _pledge_page(donor, campaign, participant, capture_on_commit) -> tuple[Client, Pledge, str, str]:
    """A reservation made on the page (its e-mails sent): the donor's client, the pledge, its
    page's URL and HTML."""
    client = login(donor)
    with capture_on_commit(execute=True):
        pledge = _reserve_on_page(client, campaign, participant)
    url = f"/me/pledges/{pledge.public_id}/"
    return client, pledge, url, client.get(url).content.decode()


# --- partial payments: what is owed, by when, and the form ----------------------------------------------


def test_a_partial_payment_shows_what_is_still_owed_and_prefills_the_rest(public_campaign, make_participant,
                                                                          donor):
    p = make_participant(months=6, amount=210_000)
    client = login(donor)
    pledge = _reserve_on_page(client, public_campaign, p)
    url = f"/me/pledges/{pledge.public_id}/"
    client.post(url + "confirm/")
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.PLEDGED and pledge.amount == 245_000
    due = format_datetime(pledge.due_at, pledge.campaign.regency.tzinfo)

    page = client.get(url)
    html = page.content.decode()
    assert page.context["payment_form"].initial["amount"] == 245_000
    assert f"Bayar Rp245.000 sebelum {due}" in html  # what is owed and by when, before anything is paid

    response = client.post(url + "payments/", {"amount": 100_000, "reference": "BRI-1", "paid_at": today_of(pledge)},
                           follow=True)
    html = response.content.decode()
    [message] = messages_of(response)
    assert message.startswith("Pembayaran Rp100.000 dicatat")
    assert f"sisa Rp145.000 harus dibayar sebelum {due}" in message and "Lunas" not in message
    pledge.refresh_from_db()
    assert (pledge.status, pledge.paid_amount, pledge.outstanding) == (PledgeStatus.PLEDGED, 100_000, 145_000)
    assert re.search(r"Sudah dibayar</th><td class=\"num\">Rp100\.000<", html)
    assert re.search(r"Sisa yang harus dibayar</strong></th><td class=\"num\"><strong>Rp145\.000<", html)
    assert f"Sudah dibayar Rp100.000 dari Rp245.000; sisa Rp145.000 harus dibayar sebelum {due}." in html
    # The form is still there, prefilled with what remains (not the pledge's whole amount).
    assert response.context["payment_form"].initial["amount"] == 145_000
    assert 'name="amount" value="145000"' in html and 'max="145000"' in html
    assert "Simpan pembayaran" in html
    assert "Lunas dibayar" not in html
    # Withdrawing after money arrived is not a button.
    assert f"/me/pledges/{pledge.public_id}/cancel/" not in html

    home = client.get("/me/").content.decode()
    assert "Sudah dibayar <strong>Rp100.000</strong>" in home
    assert "Sisa yang harus dibayar <strong>Rp145.000</strong>" in home and f"bayar sebelum {due}" in home

    # More than what remains is refused, naming the rest.
    response = client.post(url + "payments/", {"amount": 200_000, "reference": "BRI-2",
                                               "paid_at": today_of(pledge)}, follow=True)
    assert any("melebihi sisa yang harus dibayar, Rp145.000" in m for m in messages_of(response))
    pledge.refresh_from_db()
    assert pledge.paid_amount == 100_000

    response = client.post(url + "payments/", {"amount": 145_000, "reference": "BRI-3",
                                               "paid_at": today_of(pledge)}, follow=True)
    html = response.content.decode()
    [message] = messages_of(response)
    assert message.startswith("Pembayaran Rp145.000 dicatat") and "Lunas dibayar" in message
    assert "sisa" not in message
    pledge.refresh_from_db()
    assert (pledge.status, pledge.paid_amount, pledge.outstanding) == (PledgeStatus.PAID, 245_000, 0)
    # Paid in full: no form, and the page says so.
    assert "Simpan pembayaran" not in html and 'name="amount"' not in html
    assert response.context["can_pay"] is False
    assert "Lunas dibayar, menunggu verifikasi BPJS" in html
    assert re.search(r"Sisa yang harus dibayar</th><td class=\"num\">Rp0<", html)
    assert [p.receipt_number for p in pledge.payments.order_by("id")] == [
        p.receipt_number for p in pledge.payments.order_by("receipt_number")]  # two receipts, in order
    home = client.get("/me/").content.decode()
    assert "Sudah dibayar <strong>Rp245.000</strong>" in home and "Sisa yang harus dibayar <strong>Rp0</strong>" in home

    # A paid pledge takes no more, even when posted by hand.
    response = client.post(url + "payments/", {"amount": 1_000, "reference": "BRI-4", "paid_at": today_of(pledge)},
                           follow=True)
    assert any("sudah dibayar lunas" in m for m in messages_of(response))
    assert pledge.payments.count() == 2


# --- the direct route: the family VA only after confirmation --------------------------------------------


def test_direct_route_hides_the_va_until_confirmed_then_warns_it_holds_card_digits(
        public_campaign, make_participant, donor, django_capture_on_commit_callbacks):
    p = make_participant()
    client, pledge, url, html = _pledge_page(donor, public_campaign, p, django_capture_on_commit_callbacks)
    no_va(html, p)
    assert "Nomor VA keluarga ditampilkan setelah Anda mengonfirmasi janji" in html
    assert "memuat 11 digit nomor kartu" not in html
    no_va(client.get("/me/").content.decode(), p)
    # The reservation e-mail goes before confirmation: no VA in it either.
    [reserved] = mail.outbox
    no_va(reserved.body, p)
    assert "ditampilkan di halaman janji setelah Anda mengonfirmasi janji" in reserved.body

    response = client.post(url + "confirm/", follow=True)
    [message] = messages_of(response)
    assert message.startswith("Janji dikonfirmasi. Nomor VA keluarga kini tampil di bawah: bayar Rp245.000 sebelum")
    html = response.content.decode()
    assert "88888" + p.card_number[-11:] in html and "89888" + p.card_number[-11:] in html
    assert "Nomor VA ini memuat 11 digit nomor kartu JKN peserta" in html
    assert "jangan dibagikan" in html
    assert "rekening penampung" not in html
    # Lists never carry it.
    no_va(client.get("/me/").content.decode(), p)
    no_va(client.get(f"/c/{public_campaign.slug}/participants/").content.decode(), p)
    # Nor do the reminders: they point at the pledge page.
    mail.outbox.clear()
    assert pledge_email_send(pledge_id=pledge.pk, kind="unpaid_reminder")
    assert pledge_email_send(pledge_id=pledge.pk, kind="lapse_warning")
    for message in mail.outbox:
        no_va(message.body, p)
        assert "nomor virtual account (VA) keluarga yang tampil di halaman janji Anda" in message.body
        assert "Rp245.000" in message.body


# --- the collected route: account and payment code, never a VA -----------------------------------------


def test_collected_route_shows_the_account_and_payment_code_and_never_a_va(
        collected_campaign, make_participant, donor, django_capture_on_commit_callbacks):
    p = make_participant()
    client, pledge, url, html = _pledge_page(donor, collected_campaign, p, django_capture_on_commit_callbacks)
    no_va(html, p)
    for shown in ("Bank Sulselbar", "150-202-6000073", "Pemkab Luwu Utara - Satu untuk Satu", pledge.payment_code):
        assert shown in html
    assert "Nomor VA keluarga" not in html
    [reserved] = mail.outbox
    no_va(reserved.body, p)
    assert "150-202-6000073" in reserved.body and pledge.payment_code in reserved.body

    response = client.post(url + "confirm/", follow=True)
    [message] = messages_of(response)
    assert "rekening penampung" in message and pledge.payment_code in message and "VA" not in message
    html = response.content.decode()
    no_va(html, p)
    account = re.search(r'<table class="table" id="collecting-account">(.*?)</table>', html, re.S).group(1)
    for shown in ("Bank Sulselbar", "150-202-6000073", "Pemkab Luwu Utara - Satu untuk Satu", pledge.payment_code,
                  format_rupiah(pledge.amount)):
        assert shown in account
    assert "tulis di berita transfer" in account
    assert "memuat 11 digit" not in html

    response = client.post(url + "payments/", {"amount": 50_000, "reference": "SULSELBAR-9",
                                               "paid_at": today_of(pledge)}, follow=True)
    html = response.content.decode()
    no_va(html, p)
    account = re.search(r'<table class="table" id="collecting-account">(.*?)</table>', html, re.S).group(1)
    assert format_rupiah(pledge.amount - 50_000) in account  # the transfer still to make
    assert "kode pembayaran " + pledge.payment_code in html
    no_va(client.get("/me/").content.decode(), p)
    api = client.get(f"/api/v1/pledges/{pledge.public_id}/").json()
    assert api["payment_route"] == "collected" and api["va_number"] is None and api["virtual_accounts"] == {}
    no_va(str(api), p)
    mail.outbox.clear()
    for kind in ("unpaid_reminder", "lapse_warning"):
        assert pledge_email_send(pledge_id=pledge.pk, kind=kind)
    for message in mail.outbox:
        no_va(message.body, p)
        assert "Bank Sulselbar" in message.body and pledge.payment_code in message.body
        assert format_rupiah(pledge.amount - 50_000) in message.body


def test_next_step_follows_the_route(public_campaign, collected_campaign, make_participant, donor):
    from donations.selectors import pledge_next_step

    direct = services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor)
    collected = services.pledge_reserve(campaign=collected_campaign, participant=make_participant(), donor=donor)
    assert "VA" in pledge_next_step(pledge=direct) and "rekening" not in pledge_next_step(pledge=direct)
    assert "rekening penampung" in pledge_next_step(pledge=collected) and "VA" not in pledge_next_step(
        pledge=collected)
    for pledge in (direct, collected):
        services.pledge_confirm(pledge=pledge, actor=donor)
        services.payment_record(pledge=pledge, actor=donor, amount=pledge.amount, reference=f"R-{pledge.pk}",
                                paid_on=dt.date.fromisoformat(today_of(pledge)))
        pledge.refresh_from_db()
        assert pledge_next_step(pledge=pledge).startswith("Lunas dibayar, menunggu verifikasi BPJS")
    assert "menyerahkan dana ke BPJS" in pledge_next_step(pledge=collected)


# --- reservations without confirmation, per donor per day ----------------------------------------------


def test_the_sixth_unconfirmed_reservation_of_a_day_is_refused_on_a_direct_campaign(
        public_campaign, collected_campaign, make_participant, donor):
    people = [make_participant() for _ in range(8)]
    client = login(donor)
    for index, p in enumerate(people[:5]):
        pledge = _reserve_on_page(client, public_campaign, p)
        if index < 2:  # reserving and cancelling does not reset the count
            client.post(f"/me/pledges/{pledge.public_id}/cancel/")
    response = client.post(f"/c/{public_campaign.slug}/reserve/", {"participant": str(people[5].public_id)},
                           follow=True)
    html = response.content.decode()
    assert "Hari ini Anda sudah memesan 5 peserta tanpa konfirmasi; batasnya 5 per hari" in html
    assert not Pledge.all_regencies.filter(participant=people[5]).exists()
    api = login(donor).post(f"/api/v1/campaigns/{public_campaign.slug}/pledges/",
                            {"participant": str(people[5].public_id)}, content_type="application/json")
    assert api.status_code == 409 and api.json()["code"] == "reservation_limit"
    # The regency may raise the limit.
    ReconciliationSettings.objects.create(regency=public_campaign.regency, reservations_per_day=6)
    _reserve_on_page(client, public_campaign, people[6])
    # A collected campaign shows no VA: no such limit.
    _reserve_on_page(client, collected_campaign, people[7])


# --- the campaign form: the payment route and the collecting account ------------------------------------


def test_campaign_form_round_trip_with_the_collected_route(admin_a, regency_a):
    admin = login(admin_a)
    new = admin.get("/r/luwu-utara/campaigns/new/")
    html = new.content.decode()
    assert 'name="payment_route"' in html and 'value="collected"' in html and 'name="account_number"' in html
    assert new.context["form"]["payment_route"].value() == PaymentRoute.DIRECT
    data = {"title": "ASN Peduli", "slug": "asn-rekening", "audience": "internal", "kind": "one_to_one",
            "status": "active", "hold_hours": 72, "months_ahead": 0, "payment_route": "collected"}
    missing = admin.post("/r/luwu-utara/campaigns/new/", data)
    errors = missing.context["form"].errors
    assert missing.status_code == 200 and {"bank_name", "account_number", "account_holder"} <= set(errors)
    assert "Isi nama bank rekening penampung" in missing.content.decode()
    bad = admin.post("/r/luwu-utara/campaigns/new/", data | {"bank_name": "Bank Sulselbar", "account_number": "abc",
                                                             "account_holder": "Pemkab"})
    assert set(bad.context["form"].errors) == {"account_number"}
    unknown = admin.post("/r/luwu-utara/campaigns/new/", data | {"payment_route": "tunai"})
    assert "payment_route" in unknown.context["form"].errors
    assert not Campaign.objects.for_regency(regency_a).filter(slug="asn-rekening").exists()

    made = admin.post("/r/luwu-utara/campaigns/new/", data | {
        "bank_name": " Bank Sulselbar ", "account_number": "150-202-6000073",
        "account_holder": "Pemkab Luwu Utara - Satu untuk Satu"})
    assert made.status_code == 302
    campaign = Campaign.objects.for_regency(regency_a).get(slug="asn-rekening")
    assert (campaign.payment_route, campaign.bank_name, campaign.account_number, campaign.account_holder) == (
        "collected", "Bank Sulselbar", "150-202-6000073", "Pemkab Luwu Utara - Satu untuk Satu")

    page = admin.get(made["Location"]).content.decode()
    assert "Lewat rekening penampung kampanye" in page and "Bank Sulselbar 150-202-6000073" in page
    listing = admin.get("/r/luwu-utara/campaigns/").content.decode()
    assert "Lewat rekening penampung kampanye" in listing
    edit = admin.get("/r/luwu-utara/campaigns/asn-rekening/edit/")
    assert edit.context["form"]["payment_route"].value() == "collected"
    assert 'value="150-202-6000073"' in edit.content.decode()

    back = admin.post("/r/luwu-utara/campaigns/asn-rekening/edit/", data | {
        "payment_route": "direct", "bank_name": "", "account_number": "", "account_holder": ""})
    assert back.status_code == 302
    campaign.refresh_from_db()
    assert campaign.payment_route == PaymentRoute.DIRECT
    assert "Langsung ke VA keluarga" in admin.get(back["Location"]).content.decode()


# --- the regency's payment settings ------------------------------------------------------------------------


def test_payment_window_and_reservation_limit_on_the_settings_page(admin_a, regency_a, public_campaign,
                                                                   make_participant, donor):
    admin = login(admin_a)
    url = "/r/luwu-utara/reconciliation/settings/"
    page = admin.get("/r/luwu-utara/reconciliation/").content.decode()
    assert 'name="payment_window_days"' in page and 'value="14"' in page
    assert 'name="reservations_per_day"' in page and 'value="5"' in page
    base = {"grace_days": "30", "reminder_days": "7"}
    response = admin.post(url, base | {"payment_window_days": "2", "reservations_per_day": "101"}, follow=True)
    html = response.content.decode()
    assert "Batas pembayaran 3–90 hari" in html and "Pemesanan per donatur per hari 1–100" in html
    assert not ReconciliationSettings.objects.for_regency(regency_a).exists()
    admin.post(url, base | {"payment_window_days": "abc", "reservations_per_day": "3"})
    assert not ReconciliationSettings.objects.for_regency(regency_a).exists()

    admin.post(url, base | {"payment_window_days": "21", "reservations_per_day": "3"})
    row = ReconciliationSettings.objects.for_regency(regency_a).get()
    assert (row.payment_window_days, row.reservations_per_day) == (21, 3)
    page = admin.get("/r/luwu-utara/reconciliation/").content.decode()
    assert 'value="21"' in page and "Batas pembayaran 21 hari" in page
    # Sent without them (an older form): kept as they are.
    admin.post(url, {"grace_days": "40", "reminder_days": "7"})
    row.refresh_from_db()
    assert (row.grace_days, row.payment_window_days, row.reservations_per_day) == (40, 21, 3)

    pledge = services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor)
    pledge = services.pledge_confirm(pledge=pledge, actor=donor)
    assert pledge.due_at == pledge.pledged_at + dt.timedelta(days=21)
