"""One word for one thing, numbers as numbers, and the same time on every page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from regencies.models import Invitation
from regencies.roles import Role
from regencies.services import invitation_create
from tests.factories import FamilyFactory, ParticipantFactory

pytestmark = pytest.mark.django_db


def _text(content: str) -> str:
    content = re.sub(r"<(script|style)\b.*?</\1>", " ", content, flags=re.S | re.I)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", content)).strip()


def test_password_is_kata_sandi_anda_is_capitalised_and_email_is_e_mail(client):
    pages = [
        client.get("/accounts/login/").content.decode(),
        client.post("/accounts/login/", {"login": "x@example.test", "password": "salah"}).content.decode(),
        client.post("/accounts/signup/", {"email": "x@example.test", "password1": "12345678",
                                          "password2": "12345678"}).content.decode(),
    ]
    for page in pages:
        text = _text(page)
        assert not re.search(r"(?<!Kata )(?<!kata )\b[Ss]andi\b", text), text
        assert not re.search(r"\banda\b", text), text
        assert not re.search(r"\bEmail\b|\bemail\b", text), text
        assert "Kata sandi" in text and "e-mail" in text.lower()


def test_two_different_passwords_are_reported_even_when_the_first_is_too_common(client):
    response = client.post("/accounts/signup/", {"email": "baru@example.test", "password1": "password",
                                                 "password2": "passwore"})
    text = _text(response.content.decode())
    assert "terlalu umum" in text
    assert "Kedua kata sandi tidak sama." in text
    # Both good and the same: no mismatch is claimed.
    response = client.post("/accounts/signup/", {"email": "baru@example.test", "password1": "password",
                                                 "password2": "password"})
    assert "Kedua kata sandi tidak sama." not in _text(response.content.decode())
    # Both good, different: one message, the same words, at the second password (and, like every
    # error, linked from the summary at the top).
    response = client.post("/accounts/signup/", {"email": "baru2@example.test", "password1": "Kopi-Toraja-2026!",
                                                 "password2": "Kopi-Toraja-2027!"})
    html = response.content.decode()
    box = re.search(r'<div class="field-message" id="id_password2_error"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert _text(box).count("Kedua kata sandi tidak sama.") == 1
    assert _text(html).count("Kedua kata sandi tidak sama.") == 2
    assert "Kedua kata sandi tidak sama." not in re.search(
        r'<div class="field-message" id="id_password1_error"[^>]*>(.*?)</div>', html, re.S).group(1)


def test_the_password_change_form_reports_the_difference(client, admin_a, password):
    client.force_login(admin_a)
    response = client.post("/accounts/password/change/", {"oldpassword": password, "password1": "password",
                                                          "password2": "passwore"})
    assert "Kedua kata sandi tidak sama." in _text(response.content.decode())


def test_counts_have_a_thousands_separator():
    class Page:
        count, count_exact = 1484, True

    assert _text(render_to_string("core/_keyset_count.html", {"page": Page()})) == "1.484 peserta sesuai pencarian."


def test_the_activity_target_reads_80_not_80_00(client, admin_a, regency_a):
    client.force_login(admin_a)
    content = client.get(reverse("regency_settings", kwargs={"regency_slug": regency_a.slug})).content.decode()
    field = re.search(r'<input[^>]*name="active_rate_target"[^>]*>', content).group(0)
    assert 'value="80"' in field


def test_an_invitation_expires_at_the_same_regency_time_on_both_pages(client, admin_a, regency_a,
                                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(regency=regency_a, actor=admin_a, email="baru@example.test",
                                       role=Role.ASSESSOR, base_url="http://testserver/")
    # 17.16 UTC on the 9th is 01.16 on the 10th in Luwu Utara (WITA).
    Invitation.objects.for_regency(regency_a).filter(pk=invitation.pk).update(
        expires_at=dt.datetime(2099, 12, 9, 17, 16, tzinfo=dt.UTC))
    accept = _text(client.get(reverse("invitation_accept", kwargs={"token": invitation.token})).content.decode())
    client.force_login(admin_a)
    members = _text(client.get(reverse("member_list", kwargs={"regency_slug": regency_a.slug})).content.decode())
    assert "10 Desember 2099 01.16 WITA" in accept
    assert "10 Desember 2099 01.16 WITA" in members
    assert "9 Desember" not in accept


@pytest.fixture
def family_member(regency_a):
    family = FamilyFactory(regency=regency_a, number="7322019876543210")
    return ParticipantFactory(regency=regency_a, family=family, nik="7322010101800001")


def _export(client, regency, **params):
    from urllib.parse import urlencode

    url = reverse("participant_export", kwargs={"regency_slug": regency.slug})
    return client.get(f"{url}?{urlencode({'format': 'csv', **params})}")


def test_the_full_nik_export_is_named_apart_and_the_masked_one_masks_the_kk(client, family_member, regency_a,
                                                                           assessor_a):
    client.force_login(assessor_a)
    masked = _export(client, regency_a)
    full = _export(client, regency_a, nik="full")
    masked_name = re.search(r'filename="([^"]+)"', masked["Content-Disposition"]).group(1)
    full_name = re.search(r'filename="([^"]+)"', full["Content-Disposition"]).group(1)
    assert masked_name != full_name
    assert "nik-lengkap" in full_name and "nik-lengkap" not in masked_name
    masked_rows = list(csv.reader(io.StringIO(b"".join(masked.streaming_content).decode().lstrip("\ufeff"))))
    full_rows = list(csv.reader(io.StringIO(b"".join(full.streaming_content).decode().lstrip("\ufeff"))))
    masked_text = "\n".join(",".join(r) for r in masked_rows)
    assert "7322019876543210" not in masked_text and "7322010101800001" not in masked_text
    kk = masked_rows[0].index("Nomor KK (disamarkan)")
    assert masked_rows[1][kk] == "732201********10"
    assert full_rows[1][full_rows[0].index("Nomor KK")] == "7322019876543210"

