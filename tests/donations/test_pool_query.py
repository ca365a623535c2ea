"""The donors' pool read as one aggregate on the approved assessments (issue 21): the same
participants as the assessments' own rules (`eligibility_filter(ELIGIBLE)` and not
`not_for_donors`) with no pledge holding them, in every corner those rules have; and the page's
statement reads the assessments once per row it walks (the separate EXISTS let PostgreSQL scan
every approved assessment of the regency to show 20 rows)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.models import Assessment, Eligibility, Route
from assessments.selectors import eligibility_filter, not_for_donors
from core.time import regency_today
from donations import selectors
from donations.models import Pledge, PledgeStatus
from participants.models import Participant
from tests.donations.conftest import approve


def _routed(participant, route, *, by, valid_days: int = 365) -> Assessment:
    assessment = approve(participant, by=by, valid_days=valid_days)
    Assessment.objects.for_regency(participant.regency_id).filter(pk=assessment.pk).update(route=route)
    return assessment


def _verified(campaign, participant, donor, *, on: dt.datetime | None) -> Pledge:
    return Pledge.objects.create(
        regency_id=campaign.regency_id, campaign=campaign, participant=participant, donor=donor,
        status=PledgeStatus.VERIFIED, amount=245_000, arrears_amount=210_000, months_in_arrears=6,
        monthly_tariff=35_000, paid_amount=245_000, verified_at=on,
    )


def test_the_pool_is_the_assessments_rule_in_every_corner(public_campaign, make_participant, admin_a, donor):
    regency = public_campaign.regency
    plain = make_participant()
    donor_route = make_participant(eligible=False)
    _routed(donor_route, Route.DONOR, by=admin_a)
    two_one_routed = make_participant()  # a donor-route approval and a routed one, both valid
    _routed(two_one_routed, Route.WRITEOFF, by=admin_a)
    routed_lapsed = make_participant()  # the routed approval no longer valid: a donor may help
    _routed(routed_lapsed, Route.REHAB, by=admin_a, valid_days=-1)
    rehab_only = make_participant(eligible=False)
    _routed(rehab_only, Route.REHAB, by=admin_a)
    may_apply = make_participant(eligible=False)
    _routed(may_apply, Route.WRITEOFF_MAY_APPLY, by=admin_a)
    make_participant(written_off=True)  # the newest list wrote the arrears off
    not_listed_off = make_participant(written_off=False)
    unknown_off = make_participant(written_off=None)
    lapsed = make_participant(eligible=False)
    approve(lapsed, by=admin_a, valid_days=-1)
    make_participant(eligible=False)  # never assessed
    overtaken = make_participant()  # verified before its newest list: back in the pool
    _verified(public_campaign, overtaken, donor, on=timezone.now() - dt.timedelta(days=400))
    verified = make_participant()
    _verified(public_campaign, verified, donor, on=timezone.now())
    undated = make_participant()
    Participant.objects.for_regency(regency).filter(pk=undated.pk).update(as_of=None)
    _verified(public_campaign, undated, donor, on=timezone.now() - dt.timedelta(days=400))
    verified_undated = make_participant()  # no time of verification: no list is newer than it
    _verified(public_campaign, verified_undated, donor, on=None)
    verified_undated_list = make_participant()  # ... but no list date either: held
    Participant.objects.for_regency(regency).filter(pk=verified_undated_list.pk).update(as_of=None)
    _verified(public_campaign, verified_undated_list, donor, on=None)

    expected = {p.pk for p in (plain, donor_route, routed_lapsed, may_apply, not_listed_off, unknown_off,
                               overtaken, verified_undated)}
    day = regency_today(regency)
    by_the_rules = set(
        Participant.objects.for_regency(regency).exclude(status="cleared")
        .filter(Q(months_in_arrears__gt=0) | Q(arrears_amount__gt=0))
        .filter(eligibility_filter(Eligibility.ELIGIBLE, day, regency=regency))
        .exclude(not_for_donors(regency=regency, today=day))
        .exclude(pk__in=Pledge.objects.for_regency(regency).filter(
            Q(status__in=["reserved", "pledged", "paid", "disputed"])
            | Q(status="verified") & (Q(verified_at__date__gte=F("participant__as_of"))
                                      | Q(participant__as_of__isnull=True)))
                 .values("participant_id"))
        .values_list("pk", flat=True)
    )
    assert by_the_rules == expected
    assert set(selectors.available_participants(regency=regency).values_list("pk", flat=True)) == expected
    assert set(selectors.pool_candidates(regency=regency).values_list("pk", flat=True)) == expected
    page = selectors.campaign_participants_page(campaign=public_campaign)
    assert {p.pk for p in page.object_list} == expected and page.count == len(expected)


def test_the_page_reads_the_assessments_once_per_walked_row(public_campaign, make_participant):
    for months in (3, 6, 9):
        make_participant(months=months)
    with CaptureQueriesContext(connection) as queries:
        page = selectors.campaign_participants_page(campaign=public_campaign)
    assert [p.months_in_arrears for p in page.object_list] == [9, 6, 3]
    (statement,) = [q["sql"] for q in queries.captured_queries
                    if 'ORDER BY "participants_standing"."months_in_arrears" DESC' in q["sql"]]
    # One correlated aggregate in the walk of the keys and one in the rows read by those keys; no
    # EXISTS on the assessments, which PostgreSQL may hash over the whole regency.
    assert statement.count('FROM "assessments_assessment"') == 2
    assert "bool_or" in statement.lower()
    # The pledges are read in the walk and in the rows, each with no join back to the participant.
    assert statement.count('FROM "donations_pledge"') == 2
    assert 'INNER JOIN "participants_participant"' not in statement


@pytest.mark.django_db(transaction=True)
def test_an_unfiltered_page_is_one_statement(public_campaign, make_participant, district_a,
                                             django_assert_num_queries):
    """A page of the whole pool in an indexed order walks a few dozen index entries: no
    transaction with SET LOCAL around it (the pool's size is kept: one read of the regency's
    data version). A filter, the family sort or an old page number keep page_reads() (their
    plans can cost what JIT compiles for)."""
    for months in (3, 6, 9):
        make_participant(months=months)
    selectors.pool_count(regency=public_campaign.regency)
    for sort in selectors.INDEX_WALK_SORTS:
        with django_assert_num_queries(2):
            page = selectors.campaign_participants_page(campaign=public_campaign,
                                                        filters=selectors.DonorFilters(sort=sort))
        assert page.count == 3 and len(page.object_list) == 3
    with django_assert_num_queries(5):  # BEGIN, SET LOCAL, the page, its capped count, COMMIT
        selectors.campaign_participants_page(campaign=public_campaign,
                                             filters=selectors.DonorFilters(district=district_a.pk))
    with django_assert_num_queries(5):  # BEGIN, SET LOCAL, the page, COMMIT; the pool's kept size
        selectors.campaign_participants_page(campaign=public_campaign, filters=selectors.DonorFilters(sort="family"))
