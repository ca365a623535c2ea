"""Donation pages: the public campaign page, choosing (pseudonyms only), the donor's pages,
the certificate and receipts, and the regency's campaign admin with its XLSX export."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from donations import services
from donations.models import Campaign, DonorProfile, Pledge, PledgeStatus
from tests.factories import UserFactory


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_public_campaign_page_is_readable_without_login(public_campaign, make_participant, donor, donor2):
    DonorProfile.objects.filter(user=donor).update(display_name="Ibu Sari", is_anonymous=False)
    for d in (donor, donor2):
        pledge = services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=d)
        services.pledge_confirm(pledge=pledge, actor=d)
    response = Client().get("/c/lutra-peduli/")
    assert response.status_code == 200
    html = response.content.decode()
    assert public_campaign.title in html
    assert "45 hari" in html and "denda" in html  # the penalty, explained
    assert "Ibu Sari" in html and "1 donatur anonim" in html
    assert donor2.email not in html and donor.email not in html
    assert 'role="progressbar"' in html
    assert "/accounts/login/" in html


def test_internal_campaign_pages_are_404_for_outsiders(internal_campaign, donor, admin_b, staff_a):
    for client in (Client(), login(donor), login(admin_b)):
        for path in ("/c/lutra-asn/", "/c/lutra-asn/participants/", "/c/lutra-asn/give/"):
            assert client.get(path).status_code == 404, path
        assert client.post("/c/lutra-asn/reserve/", {"participant": "x"}).status_code == 404
    assert login(staff_a).get("/c/lutra-asn/").status_code == 200


def test_draft_campaigns_are_seen_only_by_managers(make_campaign, admin_a, staff_a, donor):
    make_campaign(slug="draf", status="draft", audience="public")
    assert Client().get("/c/draf/").status_code == 404
    assert login(donor).get("/c/draf/").status_code == 404
    assert login(staff_a).get("/c/draf/").status_code == 404
    assert login(admin_a).get("/c/draf/").status_code == 200


def test_choosing_shows_pseudonyms_only_and_reserves(public_campaign, make_participant, make_family, donor):
    family = make_family()
    p = make_participant(family=family, name="Andi Sulaiman Rahasia")
    response = login(donor).get("/c/lutra-peduli/participants/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "A.S.R." in html
    for secret in (p.name, p.nik, p.card_number, family.number):
        assert secret not in html
    client = login(donor)
    reserved = client.post("/c/lutra-peduli/reserve/", {"participant": str(p.public_id)})
    pledge = Pledge.all_regencies.get(participant=p)
    assert reserved.status_code == 302 and reserved["Location"] == f"/me/pledges/{pledge.public_id}/"
    page = client.get(reserved["Location"])
    html = page.content.decode()
    # Reserved: the family VA (11 digits of the card number) is not shown yet.
    assert page.status_code == 200 and "88888" not in html and "89888" not in html
    assert p.card_number[-11:] not in html
    assert "Nomor VA keluarga ditampilkan setelah Anda mengonfirmasi janji" in html
    for secret in (p.name, p.nik):
        assert secret not in html
    # Confirmed: the VA, with the plain warning that it carries card digits.
    client.post(f"/me/pledges/{pledge.public_id}/confirm/")
    page = client.get(reserved["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and "88888" + p.card_number[-11:] in html and "89888" in html
    assert "memuat 11 digit nomor kartu JKN" in html
    for secret in (p.name, p.nik):
        assert secret not in html


def test_choosing_needs_login_and_bad_input_is_explained(public_campaign, make_participant, donor):
    response = Client().get("/c/lutra-peduli/participants/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client = login(donor)
    response = client.post("/c/lutra-peduli/reserve/", {"participant": "bukan-uuid"}, follow=True)
    assert "Pilih seorang peserta" in response.content.decode()
    taken = make_participant()
    services.pledge_reserve(campaign=public_campaign, participant=taken, donor=UserFactory())
    response = client.post("/c/lutra-peduli/reserve/", {"participant": str(taken.public_id)}, follow=True)
    assert "baru saja dipilih donatur lain" in response.content.decode()


def test_the_donor_journey_on_pages(public_campaign, make_participant, donor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    p = make_participant()
    client = login(donor)
    client.post("/c/lutra-peduli/reserve/", {"participant": str(p.public_id)})
    pledge = Pledge.all_regencies.get(participant=p)
    base = f"/me/pledges/{pledge.public_id}/"
    assert client.post(base + "confirm/").status_code == 302
    pdf = SimpleUploadedFile("bukti.pdf", b"%PDF-1.4\n" + bytes(200), content_type="application/pdf")
    client.post(base + "payments/", {"amount": pledge.amount, "reference": "BNI-55",
                                     "paid_at": timezone.localdate(timezone=p.regency.tzinfo).isoformat(),
                                     "receipt": pdf})
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.PAID
    payment = pledge.payments.get()
    receipt_url = f"{base}payments/{payment.pk}/receipt/"
    response = client.get(receipt_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert login(UserFactory()).get(receipt_url).status_code == 404

    home = client.get("/me/").content.decode()
    assert "Dibayar" in home and "Terverifikasi" in home  # the timeline
    assert client.get(base + "certificate.pdf").status_code == 302  # not yet verified
    services.pledge_verify(pledge=pledge, actor=None)
    certificate = client.get(base + "certificate.pdf")
    assert certificate.status_code == 200 and certificate.content.startswith(b"%PDF")


def test_profile_page(donor):
    client = login(donor)
    assert client.get("/me/profile/").status_code == 200
    response = client.post("/me/profile/", {"display_name": "", "phone": "abc", "organisation": ""})
    assert response.status_code == 200 and "Nomor telepon" in response.content.decode()
    client.post("/me/profile/", {"display_name": "Pak Budi", "phone": "0812 3456 7890", "organisation": "Dinkes",
                                 "is_anonymous": ""})
    profile = DonorProfile.objects.get(user=donor)
    assert (profile.display_name, profile.is_anonymous, profile.organisation) == ("Pak Budi", False, "Dinkes")


def test_a_new_profile_is_anonymous_by_default(db):
    assert DonorProfile.objects.create(user=UserFactory()).is_anonymous is True


def test_giving_to_the_pool(public_campaign, donor, admin_a):
    client = login(donor)
    assert client.get("/c/lutra-peduli/give/").status_code == 200
    assert client.post("/c/lutra-peduli/give/", {"amount": 50_000, "reference": "TRF-1"}).status_code == 302
    gift = public_campaign.gifts.get()
    assert gift.donor == donor and not gift.received
    admin = login(admin_a)
    admin.post("/r/luwu-utara/campaigns/lutra-peduli/gifts/", {"gift": gift.pk})
    gift.refresh_from_db()
    assert gift.received


# --- the regency's pages --------------------------------------------------------------------------


def test_campaign_list_and_create(admin_a, staff_a, regency_a):
    admin = login(admin_a)
    assert admin.get("/r/luwu-utara/campaigns/").status_code == 200
    assert admin.get("/r/luwu-utara/campaigns/new/").status_code == 200
    data = {"title": "ASN Peduli", "slug": "asn-peduli", "story": "Cerita", "audience": "internal",
            "kind": "one_to_one", "status": "active", "hold_hours": 72, "months_ahead": 0,
            "payment_route": "direct"}
    response = admin.post("/r/luwu-utara/campaigns/new/", data)
    assert response.status_code == 302
    campaign = Campaign.objects.for_regency(regency_a).get(slug="asn-peduli")
    assert campaign.created_by == admin_a
    again = admin.post("/r/luwu-utara/campaigns/new/", data)
    assert again.status_code == 200 and "slug" in again.context["form"].errors
    other = Campaign.objects.create(regency=regency_a, slug="lain", title="Lain")
    taken = admin.post("/r/luwu-utara/campaigns/lain/edit/", data | {"slug": "asn-peduli"})
    assert taken.status_code == 200 and "slug" in taken.context["form"].errors
    other.refresh_from_db()
    assert other.slug == "lain"
    bad = admin.post("/r/luwu-utara/campaigns/new/", data | {"slug": "bukan-slug-", "hold_hours": 0,
                                                             "title": "Lain lagi"})
    assert bad.status_code == 200 and {"slug", "hold_hours"} <= set(bad.context["form"].errors)
    edit = admin.post("/r/luwu-utara/campaigns/asn-peduli/edit/", data | {"title": "ASN Luwu Utara Peduli"})
    assert edit.status_code == 302
    campaign.refresh_from_db()
    assert campaign.title == "ASN Luwu Utara Peduli"

    staff = login(staff_a)
    listing = staff.get("/r/luwu-utara/campaigns/")
    assert listing.status_code == 200 and "ASN Luwu Utara Peduli" in listing.content.decode()
    assert staff.get("/r/luwu-utara/campaigns/new/").status_code == 403
    assert staff.get("/r/luwu-utara/campaigns/asn-peduli/").status_code == 403


def test_campaign_admin_board_and_export(public_campaign, make_participant, donor, admin_a):
    p = make_participant(name="=HYPERLINK(\"http://x\")")
    pledge = services.pledge_reserve(campaign=public_campaign, participant=p, donor=donor)
    services.pledge_confirm(pledge=pledge, actor=donor)
    services.payment_record(pledge=pledge, actor=donor, amount=pledge.amount, reference="@SUM(1)",
                            paid_on=pledge.created_at.date())
    admin = login(admin_a)
    page = admin.get("/r/luwu-utara/campaigns/lutra-peduli/")
    html = page.content.decode()
    assert page.status_code == 200 and "@SUM(1)" in html and "Dibayar" in html
    export = admin.get("/r/luwu-utara/campaigns/lutra-peduli/export.xlsx")
    assert export.status_code == 200
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_filelike(io.BytesIO(export.content)).get_sheet_by_index(0).to_python()
    assert rows[1][0] == str(pledge.public_id)
    assert rows[1][6] == "'=HYPERLINK(\"http://x\")"  # neutralised, not a formula


def test_allocate_button(public_campaign, make_participant, admin_a):
    make_participant()
    services.gift_create(campaign=public_campaign, donor=None, actor=admin_a, amount=245_000, reference="KAS",
                         received=True)
    response = login(admin_a).post("/r/luwu-utara/campaigns/lutra-peduli/allocate/", follow=True)
    assert "1 peserta" in response.content.decode()
    assert Pledge.all_regencies.filter(is_pooled=True).count() == 1


@pytest.mark.parametrize("path", ["/me/", "/me/profile/"])
def test_donor_pages_need_login(path):
    assert Client().get(path).status_code == 302
