"""The same data gives the same number on every page, export and API that shows a figure.

The lists go through the real import pipeline (whose transaction refreshes the summaries the
dashboards read); the figures' definitions are `reporting.figures`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import Assessment
from donations.models import Audience, Campaign, CampaignStatus, Kind, Pledge, PledgeStatus
from participants.models import ArrearsImport, Participant
from reporting import figures
from reporting.models import TrendPoint
from tests.factories import UserFactory
from tests.participants.importing import card, line, run_import

SEPTEMBER, OCTOBER = dt.date(2026, 9, 1), dt.date(2026, 10, 1)


def _figure(html: str, key: str) -> int:
    """The number a page shows in its card `data-figure="key"` (thousands separators removed)."""
    match = re.search(rf'data-figure="{key}".*?<strong>([^<]*)</strong>', html, re.S)
    assert match, f"no {key} card"
    return int(re.sub(r"\D", "", match.group(1)))


def _by_card(regency, n: int) -> Participant:
    return Participant.objects.for_regency(regency).get(card_number=card(n))


def _approve(participant, by) -> None:
    Assessment.objects.create(
        regency_id=participant.regency_id, participant=participant, status="approved", outcome="eligible",
        valid_until=timezone.localdate() + dt.timedelta(days=300), questionnaire_version=1, created_by=by,
    )


def _pledge(campaign, participant, status) -> Pledge:
    return Pledge.objects.create(
        regency=campaign.regency, campaign=campaign, participant=participant, donor=UserFactory(), status=status,
        amount=participant.arrears_amount, arrears_amount=participant.arrears_amount,
        months_in_arrears=participant.months_in_arrears, monthly_tariff=35_000,
        verified_at=timezone.now() if status == PledgeStatus.VERIFIED else None,
    )


@pytest.fixture
def lists(tmp_path, branch_a, regency_a, admin_a):
    """September: 1-6 in arrears, 7 active. Approvals for 1-4; pledges: 1 pledged, 2 verified,
    3 disputed. October (full): 2 active again, 5 gone (cleared), 8 new in arrears. A partial
    list (6 active again) and an outdated full list (August) after it: neither is a trend point."""
    september = [line(n, months=6) for n in range(1, 7)] + [line(7, months=0, status="AKTIF")]
    run_import(branch_a, tmp_path, september, as_of=SEPTEMBER)
    for n in (1, 2, 3, 4):
        _approve(_by_card(regency_a, n), admin_a)
    campaign = Campaign.objects.create(
        regency=regency_a, slug="angka-sama", title="Angka sama", audience=Audience.PUBLIC,
        kind=Kind.ONE_TO_ONE, status=CampaignStatus.ACTIVE,
    )
    _pledge(campaign, _by_card(regency_a, 1), PledgeStatus.PLEDGED)
    _pledge(campaign, _by_card(regency_a, 2), PledgeStatus.VERIFIED)
    _pledge(campaign, _by_card(regency_a, 3), PledgeStatus.DISPUTED)
    october = [line(n, months=7) for n in (1, 3, 4, 6, 8)]
    october += [line(2, months=0, status="AKTIF"), line(7, months=0, status="AKTIF")]
    run_import(branch_a, tmp_path, october, as_of=OCTOBER)
    run_import(branch_a, tmp_path, [line(6, months=0, status="AKTIF")], as_of=dt.date(2026, 10, 20),
               mode="partial")
    run_import(branch_a, tmp_path, september[:2], as_of=dt.date(2026, 8, 1), name="agustus.csv")
    return campaign


def test_every_page_export_and_api_agree(client, lists, regency_a, admin_a, staff_a, bpjs_a):
    campaign = lists
    slug = regency_a.slug
    # The definitions, on the data built above.
    expected = {"in_arrears": 4, "eligible": 3, "waiting": 1, "pledged": 1, "verified": 1, "disputed": 1,
                "reactivated": 3, "cleared": 1}
    live = {
        "in_arrears": figures.in_arrears(regency=regency_a),
        "eligible": figures.eligible(regency=regency_a),
        "waiting": figures.waiting(regency=regency_a),
        "pledged": figures.pledged(regency=regency_a),
        "verified": figures.verified(regency=regency_a),
        "disputed": figures.disputed(regency=regency_a),
        "reactivated": figures.reactivated(regency=regency_a),
        "cleared": figures.cleared(regency=regency_a),
    }
    assert live == expected

    # The regency dashboard (from the summary the imports refreshed, no refresh in the view).
    client.force_login(admin_a)
    html = client.get(reverse("regency_home", kwargs={"regency_slug": slug})).content.decode()
    assert {key: _figure(html, key) for key in expected} == expected
    assert f'href="/r/{slug}/participants/?status=inactive"' in html

    # The participants page and API, filtered to the figure; the export of that list.
    api = f"/api/v1/regencies/{slug}/participants/"
    assert client.get(api, {"status": "inactive"}).json()["count"] == expected["in_arrears"]
    assert client.get(api, {"status": "cleared"}).json()["count"] == expected["cleared"]
    assert client.get(api, {"status": "inactive", "eligibility": "eligible"}).json()["count"] == expected["eligible"]
    page = client.get(reverse("participant_list", kwargs={"regency_slug": slug}), {"status": "inactive"})
    assert "Peserta menunggak" in page.content.decode()
    everyone = client.get(reverse("participant_list", kwargs={"regency_slug": slug})).content.decode()
    assert "Peserta menunggak —" not in everyone  # the whole list holds cleared and active people too
    export = client.get(reverse("participant_export", kwargs={"regency_slug": slug}),
                        {"status": "inactive", "format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig")
                                       if export.streaming else export.content.decode("utf-8-sig"))))
    assert len(rows) - 1 == expected["in_arrears"]

    # The reconciliation page: pledges verified and disputed now.
    recon = client.get(reverse("reconciliation", kwargs={"regency_slug": slug})).content.decode()
    assert (_figure(recon, "verified"), _figure(recon, "disputed")) == (expected["verified"], expected["disputed"])

    # The donors' pool: the campaign's participant page and API ("peserta menunggu").
    client.force_login(staff_a)
    donors = client.get(reverse("campaign_participants", kwargs={"campaign_slug": campaign.slug})).content.decode()
    assert re.search(rf"\b{expected['waiting']} peserta menunggu", donors)
    pool = client.get(f"/api/v1/campaigns/{campaign.slug}/participants/").json()
    assert pool["count"] == expected["waiting"]

    # The branch and national views.
    client.force_login(bpjs_a)
    branch = client.get(reverse("branch_dashboard", kwargs={"branch_code": "palopo"}))
    row = {r.slug: r for r in branch.context["rows"]}[slug]
    assert (row.in_arrears, row.eligible, row.verified, row.reactivated) == (
        expected["in_arrears"], expected["eligible"], expected["verified"], expected["reactivated"])
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    national = {r.slug: r for r in client.get(reverse("national_dashboard")).context["rows"]}[slug]
    assert (national.in_arrears, national.reactivated) == (expected["in_arrears"], expected["reactivated"])


def test_trend_plots_one_full_list_per_month(lists, regency_a):
    """Partial and outdated lists are no points; each point counts that list's lines in arrears."""
    points = list(TrendPoint.objects.for_regency(regency_a).order_by("list_month"))
    assert [(p.as_of, p.listed, p.in_arrears) for p in points] == [(SEPTEMBER, 7, 6), (OCTOBER, 7, 5)]
    partial, outdated = ArrearsImport.objects.order_by("-id")[:2][::-1]
    assert partial.mode == "partial" and outdated.is_outdated
    assert {p.arrears_import_id for p in points}.isdisjoint({partial.pk, outdated.pk})


def test_summaries_match_the_live_figures_and_the_check_notices_a_difference(lists, regency_a):
    from core.integrity import run
    from reporting.models import RegencySummary

    assert run(only=["reporting:summary_list_figures"]).ok
    RegencySummary.objects.for_regency(regency_a).update(in_arrears=99)
    report = run(only=["reporting:summary_list_figures"])
    assert report.checks["reporting:summary_list_figures"] == 1
    RegencySummary.objects.for_regency(regency_a).update(in_arrears=4)  # the conftest's checks run after
