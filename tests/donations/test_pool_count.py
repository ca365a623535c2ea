"""The pool's size (`donations.selectors.pool_count`, the dashboard's "Menunggu donatur" and the
campaign page's "peserta menunggu"): counted once, then kept until the regency's data changes
(`regencies.versions`; the tests that see it kept commit)."""

from __future__ import annotations

import pytest

from donations import selectors, services
from donations.models import Pledge, PledgeStatus
from donations.selectors import DonorFilters, pool_count


@pytest.mark.django_db(transaction=True)
def test_the_count_is_kept_until_a_pledge_changes_it(public_campaign, make_participant, donor, admin_a,
                                                     regency_a, django_assert_num_queries):
    people = [make_participant() for _ in range(3)]
    assert pool_count(regency=regency_a) == 3
    with django_assert_num_queries(1):  # the regency's data version
        assert pool_count(regency=regency_a) == 3

    pledge = services.pledge_reserve(campaign=public_campaign, participant=people[0], donor=donor)
    assert pool_count(regency=regency_a) == 2
    services.pledge_release(pledge=pledge, actor=admin_a, reason="uji")
    assert pool_count(regency=regency_a) == 3


def test_an_approval_changes_it(make_participant, regency_a):
    make_participant()
    assert pool_count(regency=regency_a) == 1
    make_participant()  # approved through the assessment workflow
    assert pool_count(regency=regency_a) == 2


@pytest.mark.django_db(transaction=True)
def test_a_set_based_change_is_seen_as_soon_as_it_commits(public_campaign, make_participant, donor, regency_a):
    people = [make_participant() for _ in range(2)]
    pledge = services.pledge_reserve(campaign=public_campaign, participant=people[0], donor=donor)
    assert pool_count(regency=regency_a) == 1
    # A job's UPDATE sends no signal; the database moves the regency's version at its commit.
    Pledge.objects.for_regency(regency_a).filter(pk=pledge.pk).update(status=PledgeStatus.RELEASED)
    assert pool_count(regency=regency_a) == 2


def test_the_campaign_page_counts_the_pool_exactly_without_a_filter(public_campaign, make_participant,
                                                                    regency_a, district_a):
    for months in (2, 5, 9):
        make_participant(months=months)
    page = selectors.campaign_participants_page(campaign=public_campaign)
    assert (page.count, page.count_exact) == (3, True) == (pool_count(regency=regency_a), True)
    narrowed = selectors.campaign_participants_page(campaign=public_campaign,
                                                    filters=DonorFilters(care_class=1))
    assert (narrowed.count, narrowed.count_exact) == (0, True)
