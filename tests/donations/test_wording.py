"""Campaign pages say what is there: the period, the donors, an empty pool."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from donations.selectors import DonorList

pytestmark = pytest.mark.django_db


def _text(content: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", content)).strip()


def test_only_anonymous_donors_are_said_well():
    text = _text(render_to_string("donations/_donors.html", {"donors": DonorList(names=[], anonymous=1)}))
    assert not text.startswith("dan") and "dan 1" not in text
    assert text == "1 donatur memilih tampil anonim."
    many = _text(render_to_string("donations/_donors.html", {"donors": DonorList(names=[], anonymous=1250)}))
    assert many == "1.250 donatur, semuanya memilih tampil anonim."
    named = _text(render_to_string("donations/_donors.html", {"donors": DonorList(names=["Andi"], anonymous=2)}))
    assert named == "Andi dan 2 donatur anonim"
    with translation.override("en"):
        text = _text(render_to_string("donations/_donors.html", {"donors": DonorList(names=[], anonymous=2)}))
    assert text == "2 donors, all of whom chose to stay anonymous."


def test_campaign_period_without_dates_is_no_row_of_dashes(client, admin_a, regency_a, make_campaign):
    make_campaign(title="Tanpa tanggal", starts_on=None, ends_on=None)
    make_campaign(title="Sejak", starts_on=dt.date(2026, 12, 1), ends_on=None)
    make_campaign(title="Penuh", starts_on=dt.date(2026, 12, 1), ends_on=dt.date(2027, 1, 31))
    client.force_login(admin_a)
    text = _text(client.get(reverse("campaign_list", kwargs={"regency_slug": regency_a.slug})).content.decode())
    assert "– –" not in text
    assert "tanpa batas waktu" in text
    assert "sejak 1 Desember 2026" in text
    assert "1 Desember 2026 – 31 Januari 2027" in text


def test_an_empty_pool_without_filters_mentions_no_filter(client, donor, public_campaign):
    client.force_login(donor)
    url = reverse("campaign_participants", kwargs={"campaign_slug": public_campaign.slug})
    plain = client.get(url).content.decode()
    assert "penyaring" not in plain
    assert "tidak ada peserta yang menunggu dalam kampanye ini" in plain
    filtered = client.get(url + "?care_class=1").content.decode()
    assert "dengan penyaring ini" in filtered
