"""The regency dashboard: numbers on constructed data, constant queries, aggregates only."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments.models import Assessment, Screening
from donations.models import Audience, Campaign, CampaignStatus, Kind, Pledge, PledgeStatus
from participants.models import ArrearsRecord, ImportStatus, Participant, ParticipantStatus
from regencies.models import ContributionShare, District
from reporting.dashboard import regency_dashboard, trend_chart, uhc_levels
from reporting.summaries import summary_refresh
from tests.factories import ArrearsImportFactory, FamilyFactory, ParticipantFactory, UserFactory

TODAY = dt.date(2026, 11, 22)
_seq = itertools.count(1)


def _approve(participant, by):
    return Assessment.objects.create(
        regency_id=participant.regency_id, participant=participant, status="approved", outcome="eligible",
        valid_until=TODAY + dt.timedelta(days=300), questionnaire_version=1, created_by=by,
    )


def _pledge(campaign, participant, status, *, amount=210_000, donor=None, verified_at=None):
    donor = donor or UserFactory()
    return Pledge.objects.create(
        regency=campaign.regency, campaign=campaign, participant=participant, donor=donor, status=status,
        amount=amount, arrears_amount=participant.arrears_amount, months_in_arrears=participant.months_in_arrears,
        monthly_tariff=35_000, verified_at=verified_at,
    )


def _campaign(regency, **kwargs):
    n = next(_seq)
    values = {"slug": f"dasbor-{n}", "title": f"Kampanye dasbor {n}", "audience": Audience.PUBLIC,
              "kind": Kind.ONE_TO_ONE, "status": CampaignStatus.ACTIVE} | kwargs
    return Campaign.objects.create(regency=regency, **values)


def _record(imp, participant, *, amount, bpjs_status="inactive"):
    return ArrearsRecord.objects.create(
        regency=participant.regency, arrears_import=imp, participant=participant, as_of=imp.as_of,
        row_number=participant.pk, months_in_arrears=6 if amount else 0, arrears_amount=amount,
        bpjs_status=bpjs_status,
        care_class=participant.care_class, segment=participant.segment,
    )


def _screen(participant):
    return Screening.objects.create(
        regency=participant.regency, participant=participant, recommendation="assess",
        computed_at=timezone.now(), queued_on=TODAY,
    )


@pytest.fixture
def world(regency_a, regency_b, branch_a, district_a, village_a, admin_a):
    """Eight participants of Luwu Utara in two districts, pledges in every state, two full lists:
    the first shows p1-p4 in arrears, the second p4 and p5 in arrears and p1, p2 active again."""
    district_2 = District.objects.create(regency=regency_a, name="Sabbang")
    donor = UserFactory(email="dasbor.donatur@example.test")
    campaign = _campaign(regency_a, title="ASN Peduli", target_participants=10)
    campaign_2 = _campaign(regency_a, title="Luwu Utara Peduli")
    f1, f2 = FamilyFactory(regency=regency_a), FamilyFactory(regency=regency_a)
    p = {}

    def person(key, family=None, district=district_a, care_class=3, amount=210_000):
        p[key] = ParticipantFactory(regency=regency_a, family=family or FamilyFactory(regency=regency_a),
                                    district=district, care_class=care_class, arrears_amount=amount)
        return p[key]

    person("p1", f1, amount=100_000)
    person("p2", f1, amount=200_000)
    person("p3", f2, care_class=1, amount=300_000)
    person("p4", f2, amount=400_000)
    person("p5", district=district_2, amount=500_000)
    person("p6", district=district_2, amount=600_000)
    person("p7", district=district_2, amount=700_000)
    person("p8", amount=800_000)
    verified_at = timezone.make_aware(dt.datetime(2026, 9, 15, 10))
    _pledge(campaign, p["p1"], PledgeStatus.VERIFIED, amount=100_000, donor=donor, verified_at=verified_at)
    _pledge(campaign, p["p2"], PledgeStatus.VERIFIED, amount=200_000, donor=donor, verified_at=verified_at)
    _pledge(campaign_2, p["p3"], PledgeStatus.VERIFIED, amount=300_000, donor=donor, verified_at=verified_at)
    _pledge(campaign_2, p["p4"], PledgeStatus.PLEDGED, amount=400_000, donor=donor)
    _pledge(campaign_2, p["p6"], PledgeStatus.PAID, amount=600_000, donor=donor)
    _pledge(campaign_2, p["p7"], PledgeStatus.RELEASED, amount=700_000, donor=donor)
    _pledge(campaign_2, p["p8"], PledgeStatus.DISPUTED, amount=800_000, donor=donor)
    _approve(p["p1"], admin_a)  # active again: no longer counted as eligible
    _approve(p["p5"], admin_a)
    _approve(p["p6"], admin_a)
    for key in ("p4", "p5", "p6"):
        _screen(p[key])
    first = ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLIED, as_of=dt.date(2026, 9, 1))
    second = ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLIED, as_of=dt.date(2026, 10, 1),
                                  finished_at=timezone.now())
    for key in ("p1", "p2", "p3", "p4"):
        _record(first, p[key], amount=100_000)
    for key in ("p4", "p5"):
        _record(second, p[key], amount=50_000)
    for key in ("p1", "p2"):
        _record(second, p[key], amount=0, bpjs_status="active")
        Participant.all_regencies.filter(pk=p[key].pk).update(status=ParticipantStatus.ACTIVE)
    # Another regency's data never counts.
    other = ParticipantFactory(regency=regency_b, arrears_amount=9_000_000)
    _pledge(_campaign(regency_b), other, PledgeStatus.VERIFIED, verified_at=verified_at)
    return {"p": p, "district_2": district_2, "campaign": campaign, "campaign_2": campaign_2}


def test_dashboard_numbers(world, regency_a):
    regency_a.population = 1_000
    regency_a.jkn_participants = 990
    regency_a.active_rate_target = 80
    regency_a.save()
    b = regency_dashboard(regency=regency_a, today=TODAY)
    assert b["in_arrears"] == 6  # p3-p8: p1 and p2 are active on the newest list
    assert b["families_in_arrears"] == 5
    assert b["arrears_total"] == 3_600_000 - 100_000 - 200_000
    assert b["screened"] == 3
    assert b["eligible"] == 2  # p5 and p6; p1's approval no longer counts, p1 is active
    assert (b["pledged"], b["paid"], b["verified"], b["released"], b["disputed"]) == (1, 1, 3, 1, 1)
    # What the list says: p1 and p2 were in arrears, now active (p3's verified pledge is no proof).
    assert (b["reactivated"], b["reactivated_by_donors"], b["cleared"]) == (2, 2, 0)
    # f1: both members active again; f2: p3 and p4 still in arrears.
    assert b["families_reactivated"] == 1
    assert b["rupiah_verified"] == 600_000
    assert b["rupiah_paid"] == 100_000 + 200_000 + 300_000 + 600_000 + 800_000
    assert b["rupiah_pledged"] == 3_600_000 - 500_000 - 700_000
    # Class III reactivated with a donor's verified pledge: p1 and p2, Rp2.800 each from the share table.
    assert b["reactivated_class3_by_donors"] == 2
    assert b["share"] == 2_800
    assert b["budget_monthly"] == 5_600
    assert b["budget_yearly"] == 67_200
    assert str(b["coverage"]) == "99.00"
    assert str(b["active_rate"]) == "99.39"  # (990 - 6) / 990
    assert b["to_target"] == 0
    assert [lvl.reached for lvl in b["uhc"]] == [True, True, True]


def test_dashboard_district_trend_and_campaigns(world, regency_a, district_a):
    b = regency_dashboard(regency=regency_a, today=TODAY)
    districts = {row["name"]: row for row in b["districts"]}
    kec_a, kec_2 = districts[district_a.name], districts["Sabbang"]
    assert (kec_a["in_arrears"], kec_a["eligible"], kec_a["covered"], kec_a["reactivated"]) == (3, 0, 5, 2)
    assert kec_a["arrears_total"] == 300_000 + 400_000 + 800_000
    assert (kec_2["in_arrears"], kec_2["eligible"], kec_2["covered"], kec_2["reactivated"]) == (3, 2, 1, 0)
    trend = [(row.as_of, row.listed, row.in_arrears, row.arrears_total) for row in b["trend"]]
    assert trend == [(dt.date(2026, 9, 1), 4, 4, 400_000), (dt.date(2026, 10, 1), 4, 2, 100_000)]
    chart = trend_chart(b["trend"])
    assert [p.in_arrears for p in chart.points] == [4, 2]
    assert chart.points[0].y < chart.points[1].y  # more in arrears is higher on the chart
    assert trend_chart(b["trend"][:1]) is None  # one point: the table only
    campaigns = {row["title"]: row for row in b["campaigns"]}
    asn = campaigns["ASN Peduli"]
    assert (asn["participants"], asn["rupiah_pledged"], asn["rupiah_verified"], asn["percent"]) == (
        2, 300_000, 300_000, 20)
    peduli = campaigns["Luwu Utara Peduli"]
    # p3 verified, p4 pledged, p6 paid, p8 disputed cover; p7 was released.
    assert (peduli["participants"], peduli["rupiah_verified"], peduli["percent"]) == (4, 300_000, None)
    assert b["last_import_as_of"] == dt.date(2026, 10, 1)


def test_budget_uses_the_share_in_force(world, regency_a):
    ContributionShare.objects.create(care_class=3, regency_amount=3_100, effective_from=dt.date(2026, 12, 1))
    assert regency_dashboard(regency=regency_a, today=TODAY)["budget_monthly"] == 5_600
    later = regency_dashboard(regency=regency_a, today=dt.date(2026, 12, 1))
    assert later["share"] == 3_100
    assert later["budget_monthly"] == 6_200


def test_without_population_no_coverage_and_gap_to_target(world, regency_a):
    b = regency_dashboard(regency=regency_a, today=TODAY)
    assert b["coverage"] is None and b["active_rate"] is None and b["to_target"] is None
    regency_a.jkn_participants = 100
    regency_a.active_rate_target = 95
    regency_a.save()
    b = regency_dashboard(regency=regency_a, today=TODAY)
    assert str(b["active_rate"]) == "94.00"
    assert b["to_target"] == 1  # 95 of 100 must be active; 94 are


def test_written_off_and_moved_to_pbi_are_counted_as_such_not_as_reactivated_by_donors(
        client, world, regency_a, staff_a, district_a):
    """Issue 20: a participant whose arrears the state wrote off, or who left for PBI, has its own
    figure and is never counted as reactivated by donors (even with a verified pledge)."""

    p = world["p"]
    before = regency_dashboard(regency=regency_a, today=TODAY)
    assert (before["written_off"], before["moved_to_pbi"]) == (0, 0)
    assert before["reactivated"] == 2 and before["families_reactivated"] == 1
    # p1 (verified, family f1): written off by the list; p3 (verified, class I): moved to PBI;
    # p5 (no pledge): written off AND moved to PBI; p6: pemutihan N (not written off).
    Participant.all_regencies.filter(pk=p["p1"].pk).update(written_off=True)
    Participant.all_regencies.filter(pk=p["p3"].pk).update(segment="PBI")
    Participant.all_regencies.filter(pk=p["p5"].pk).update(written_off=True, segment="PBI", status="cleared")
    Participant.all_regencies.filter(pk=p["p6"].pk).update(written_off=False)
    summary_refresh(regency=regency_a, today=TODAY)  # what the next list's import does
    b = regency_dashboard(regency=regency_a, today=TODAY)
    assert (b["written_off"], b["moved_to_pbi"]) == (2, 2)
    assert b["reactivated"] == 1 and b["reactivated_by_donors"] == 1  # only p2
    assert b["reactivated_class3_by_donors"] == 1 and b["budget_monthly"] == 2_800
    assert b["families_reactivated"] == 1  # f1: p2 active again, nobody in arrears
    districts = {row["name"]: row for row in b["districts"]}
    assert districts[district_a.name]["reactivated"] == 1
    assert b["verified"] == 3  # the pledges themselves stay as they are (the donations side decides)

    client.force_login(staff_a)
    html = client.get(reverse("regency_home", kwargs={"regency_slug": regency_a.slug})).content.decode()
    assert 'data-written-off="2"' in html and 'data-moved-to-pbi="2"' in html
    assert "Dihapus (pemutihan)" in html and "Pindah ke PBI" in html


def test_branch_and_national_summary_leave_out_the_written_off_and_pbi(world, regency_a):
    from regencies.models import Regency
    from reporting.dashboard import regencies_summary

    def row():
        return {r.regency.pk: r for r in regencies_summary(regencies=Regency.objects.all())}[regency_a.pk]

    assert (row().verified, row().reactivated) == (3, 2)
    Participant.all_regencies.filter(pk=world["p"]["p1"].pk).update(written_off=True)
    Participant.all_regencies.filter(pk=world["p"]["p2"].pk).update(segment="PBI")
    summary_refresh(regency=regency_a)
    assert (row().verified, row().reactivated) == (3, 0)


def test_uhc_levels():
    from decimal import Decimal

    levels = uhc_levels(coverage=Decimal("98.5"), active_rate=Decimal("86"))
    assert [(lvl.name, lvl.reached) for lvl in levels] == [("Pratama", True), ("Madya", True), ("Utama", False)]
    assert not any(lvl.reached for lvl in uhc_levels(coverage=None, active_rate=Decimal(99)))


def test_page_answers_the_bupati_and_shows_no_personal_data(client, world, regency_a, staff_a):
    client.force_login(staff_a)
    response = client.get(reverse("regency_home", kwargs={"regency_slug": regency_a.slug}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Berapa warga kita aktif kembali" in html
    assert "Rp5.600" in html  # the regency's monthly class III share for them
    assert "Rp2.000.000" in html  # paid by donors
    assert "Sabbang" in html and "ASN Peduli" in html
    assert 'data-points="2"' in html and "<polyline" in html  # a server-rendered chart
    assert "chart.umd" not in html and "charts.js" not in html  # and no Chart.js
    assert "1 September 2026" in html  # the table fallback of the chart
    for participant in world["p"].values():
        assert participant.name not in html
        assert participant.nik not in html
        assert participant.card_number not in html


def _build(regency, district, admin, branch, n):
    campaign = _campaign(regency, target_participants=5)
    imp = ArrearsImportFactory(branch=branch, status=ImportStatus.APPLIED, as_of=TODAY - dt.timedelta(days=n))
    statuses = [PledgeStatus.VERIFIED, PledgeStatus.PAID, PledgeStatus.PLEDGED, PledgeStatus.DISPUTED]
    for i in range(n):
        participant = ParticipantFactory(regency=regency, family=FamilyFactory(regency=regency), district=district)
        _record(imp, participant, amount=10_000)
        _pledge(campaign, participant, statuses[i % 4], verified_at=timezone.now())
        _approve(participant, admin)
        _screen(participant)
    District.objects.create(regency=regency, name=f"Kecamatan {n}")


def test_query_count_is_constant(client, regency_a, district_a, admin_a, branch_a, django_assert_num_queries):
    client.force_login(admin_a)
    url = reverse("regency_home", kwargs={"regency_slug": regency_a.slug})
    _build(regency_a, district_a, admin_a, branch_a, 1)
    summary_refresh(regency=regency_a, all_months=True)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    _build(regency_a, district_a, admin_a, branch_a, 30)
    summary_refresh(regency=regency_a, all_months=True)
    cache.clear()  # the pool's size is cached: count it again, as the first request did
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get(url).status_code == 200
    # The summary, its districts and trend; pledges by status and in rupiah; pledges per
    # district; the pool (counted in a savepoint with JIT off: 3 more); the campaigns; the share
    # in force. Inside a transaction nothing is kept (`regencies.versions`): the same again.
    for _ in range(2):
        with django_assert_num_queries(12):
            regency_dashboard(regency=regency_a)


def test_eligible_agrees_with_the_eligibility_expression(world, regency_a, admin_a):
    from assessments.selectors import eligibility_expression

    # An expired approval and a later rejection: neither is eligible.
    lapsed = world["p"]["p7"]
    Assessment.objects.create(regency=regency_a, participant=lapsed, status="approved", outcome="eligible",
                              valid_until=TODAY - dt.timedelta(days=1), questionnaire_version=1, created_by=admin_a)
    expected = (
        Participant.objects.for_regency(regency_a)
        .annotate(e=eligibility_expression(TODAY, regency=regency_a))
        .filter(e="eligible", status=ParticipantStatus.INACTIVE).count()
    )
    assert regency_dashboard(regency=regency_a, today=TODAY)["eligible"] == expected == 2
