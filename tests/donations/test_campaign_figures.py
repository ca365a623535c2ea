"""The public campaign page's figures counted in the database (issue 21): the families helped and
active again, and who gave (each donor once, each gift without a donor once), in a fixed number of
queries whatever the number of pledges, gifts and families."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from donations import selectors, services
from donations.models import DonorProfile, Pledge, PledgeStatus
from participants.models import Relationship
from tests.factories import UserFactory


def _pledge(campaign, participant, donor, status=PledgeStatus.PLEDGED) -> Pledge:
    now = timezone.now()
    return Pledge.objects.create(
        regency_id=campaign.regency_id, campaign=campaign, participant=participant, donor=donor, status=status,
        amount=245_000, arrears_amount=210_000, months_in_arrears=6, monthly_tariff=35_000,
        pledged_at=now, due_at=now + dt.timedelta(days=14),
        verified_at=now if status == PledgeStatus.VERIFIED else None,
    )


def _donor(email: str, name: str = "", anonymous: bool = True):
    user = UserFactory(email=email)
    services.donor_profile_ensure(user=user)
    DonorProfile.objects.filter(user=user).update(display_name=name, is_anonymous=anonymous)
    return user


def test_families_active_again_and_helped(public_campaign, make_campaign, make_participant, make_family, donor):
    other = make_campaign()
    whole = make_family()  # every member verified, one of them through this campaign
    _pledge(public_campaign, make_participant(family=whole), donor, PledgeStatus.VERIFIED)
    _pledge(other, make_participant(family=whole, relationship=Relationship.WIFE), donor, PledgeStatus.VERIFIED)
    half = make_family()  # one member pledged here, the other not at all
    _pledge(public_campaign, make_participant(family=half), donor, PledgeStatus.PAID)
    make_participant(family=half, relationship=Relationship.CHILD)
    elsewhere = make_family()  # helped by another campaign only
    _pledge(other, make_participant(family=elsewhere), donor, PledgeStatus.VERIFIED)
    lapsed = make_family()  # this campaign's pledge lapsed: not helped
    _pledge(public_campaign, make_participant(family=lapsed), donor, PledgeStatus.EXPIRED)
    _pledge(public_campaign, make_participant(), donor, PledgeStatus.VERIFIED)  # no family

    assert selectors.families_reactivated(campaign=public_campaign) == (1, 2)
    assert selectors.families_reactivated(campaign=other) == (2, 2)
    progress = selectors.campaign_progress(campaign=public_campaign)
    assert (progress.families_reactivated, progress.families_touched, progress.families_pct) == (1, 2, 50)


def test_each_giver_counted_once(public_campaign, make_participant, admin_a):
    assert selectors.campaign_donors(campaign=public_campaign) == selectors.DonorList(names=[], anonymous=0)
    sari = _donor("sari@example.test", "Sari", anonymous=False)
    andi = _donor("andi@example.test", "andi", anonymous=False)
    hidden = _donor("hidden@example.test", "Rahasia", anonymous=True)
    unnamed = _donor("unnamed@example.test", "", anonymous=False)
    for user in (sari, sari, andi, hidden, unnamed):  # Sari pledged twice
        _pledge(public_campaign, make_participant(), user)
    _pledge(public_campaign, make_participant(), _donor("lapsed@example.test"), PledgeStatus.EXPIRED)
    services.gift_create(campaign=public_campaign, donor=andi, amount=50_000, reference="TRF-1", received=True,
                         actor=admin_a)  # Andi gave as well: still one donor
    gift_donor = _donor("gift@example.test")
    services.gift_create(campaign=public_campaign, donor=gift_donor, amount=50_000, reference="TRF-2",
                         received=True, actor=admin_a)
    services.gift_create(campaign=public_campaign, donor=_donor("waiting@example.test"), amount=50_000,
                         reference="TRF-3")  # not received yet
    for ref in ("KAS-1", "KAS-2"):  # two gifts without a donor: two givers
        services.gift_create(campaign=public_campaign, donor=None, amount=70_000, reference=ref, received=True,
                             actor=admin_a)

    donors = selectors.campaign_donors(campaign=public_campaign)
    assert selectors.campaign_overview(campaign=public_campaign) == (
        selectors.campaign_progress(campaign=public_campaign), donors)
    # Shown: andi and Sari (by name, case aside); anonymous: hidden, unnamed, the gift's donor, 2 cash gifts.
    assert donors == selectors.DonorList(names=["andi", "Sari"], anonymous=5)
    assert donors.total == 7


def test_public_page_queries_do_not_grow_with_the_givers(public_campaign, make_participant, make_family, admin_a,
                                                          django_assert_num_queries):
    def givers(n: int) -> None:
        for i in range(n):
            family = make_family()
            user = _donor(f"d{n}-{i}@example.test", f"Donatur {n}-{i}", anonymous=bool(i % 2))
            _pledge(public_campaign, make_participant(family=family), user)
            _pledge(public_campaign, make_participant(family=family, relationship=Relationship.WIFE), user,
                    PledgeStatus.VERIFIED)
            services.gift_create(campaign=public_campaign, donor=None, amount=70_000, reference=f"K-{n}-{i}",
                                 received=True, actor=admin_a)

    client = Client()
    givers(1)
    client.get("/c/lutra-peduli/")
    # The campaign; the pledges' figures (the families' and the donors' among them), the gifts'
    # (sum, without a donor, donors holding no pledge); the names shown.
    with django_assert_num_queries(4):
        one = client.get("/c/lutra-peduli/")
    givers(5)
    with django_assert_num_queries(4):
        many = client.get("/c/lutra-peduli/")
    assert one.status_code == many.status_code == 200
    assert many.context["donors"].total == 6 + 6  # six donors, six gifts without a donor
