"""The donor's cards say the same in both languages after their sentences moved from the template to
the view (issue 21): age band, place, class, arrears, family size; every value escaped."""

from __future__ import annotations

import datetime as dt
import re

from django.test import Client

from regencies.models import Village


def _cards(client: Client, language: str) -> list[str]:
    client.cookies["django_language"] = language
    html = client.get("/c/lutra-peduli/participants/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card)).strip()
            for card in re.findall(r"<article class=\"card stack\">(.*?)<form", html, re.S)]


def test_cards_in_indonesian_and_english(public_campaign, make_participant, make_family, donor, village_a):
    Village.objects.for_regency(village_a.regency_id).filter(pk=village_a.pk).update(name="Baloli <b>&</b>")
    family = make_family()
    make_participant(family=family, months=12, amount=1_250_000, care_class=2, name="Andi Sulaiman",
                     birth_date=dt.date(1980, 1, 1))
    make_participant(family=family, months=6, amount=210_000, name="Wati", birth_date=None)
    client = Client()
    client.force_login(donor)
    html = client.get("/c/lutra-peduli/participants/").content.decode()
    assert "Baloli &lt;b&gt;&amp;&lt;/b&gt;, Masamba" in html and "<b>&</b>" not in html
    first, second = _cards(client, "id")
    assert re.fullmatch(r"A\.S\. umur \d0-\d9 Baloli &lt;b&gt;&amp;&lt;/b&gt;, Masamba · Kelas 2 "
                        r"Menunggak 12 bulan: Rp1\.250\.000 Keluarga 2 orang", first), first
    assert second == "W. Baloli &lt;b&gt;&amp;&lt;/b&gt;, Masamba · Kelas 3 Menunggak 6 bulan: Rp210.000 Keluarga 2 orang"
    first, second = _cards(client, "en")
    assert re.fullmatch(r"A\.S\. age \d0-\d9 Baloli &lt;b&gt;&amp;&lt;/b&gt;, Masamba · Class 2 "
                        r"12 months in arrears: Rp1,250,000 Family of 2", first), first
    assert second == "W. Baloli &lt;b&gt;&amp;&lt;/b&gt;, Masamba · Class 3 6 months in arrears: Rp210,000 Family of 2"


def test_a_single_participant_has_no_family_line(public_campaign, make_participant, donor):
    make_participant(name="Andi", birth_date=None)
    client = Client()
    client.force_login(donor)
    html = client.get("/c/lutra-peduli/participants/").content.decode()
    assert "Keluarga" not in html.split('<div class="grid">')[1] and "Adopsi seluruh keluarga" not in html
    assert "Bantu peserta ini" in html and "umur" not in html.split('<div class="grid">')[1]
