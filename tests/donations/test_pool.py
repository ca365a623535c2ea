"""The pooled fund: priority (partly covered families first), never over-allocating, idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum

from core.errors import Conflict, DomainError, PermissionDenied
from donations import services
from donations.models import Allocation, Gift, Pledge, PledgeStatus
from donations.pool import pool_allocate
from participants.models import Relationship

NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)


def gift(campaign, amount, ref, admin):
    return services.gift_create(campaign=campaign, donor=None, actor=admin, amount=amount, reference=ref,
                                received=True)


def test_partly_covered_families_are_completed_first(public_campaign, make_participant, make_family, admin_a,
                                                     donor):
    # Family A: one member already pledged by a donor, one left (3 months in arrears).
    fam_a = make_family()
    a1 = make_participant(family=fam_a, months=3, amount=105_000)
    a2 = make_participant(family=fam_a, months=3, amount=105_000, relationship=Relationship.WIFE)
    services.pledge_reserve(campaign=public_campaign, participant=a1, donor=donor, now=NOW)
    # Family B: nobody covered, but longer arrears (20 months) and larger.
    fam_b = make_family()
    b = [make_participant(family=fam_b, months=20, amount=700_000, relationship=r)
         for r in (Relationship.HEAD, Relationship.WIFE, Relationship.CHILD)]
    # A single participant with shorter arrears (10 months).
    single = make_participant(months=10, amount=350_000)

    gift(public_campaign, 140_000, "KAS-1", admin_a)  # exactly a2: 105.000 + 35.000
    result = pool_allocate(campaign=public_campaign, now=NOW)
    assert result.pledges == 1 and result.amount == 140_000 and result.available_after == 0
    pooled = Pledge.all_regencies.get(is_pooled=True)
    assert pooled.participant_id == a2.pk and pooled.donor is None and pooled.status == PledgeStatus.PLEDGED

    # More money: family B (longest arrears among the rest, larger) as a whole, before the single.
    gift(public_campaign, 3 * 735_000, "KAS-2", admin_a)
    result = pool_allocate(campaign=public_campaign, now=NOW)
    assert result.pledges == 3 and result.families == 1
    assert set(Pledge.all_regencies.filter(is_pooled=True).values_list("participant_id", flat=True)) == {
        a2.pk, *(m.pk for m in b)}
    assert not Pledge.all_regencies.filter(participant=single).exists()


def test_a_family_is_only_funded_whole_and_smaller_ones_get_the_money(public_campaign, make_participant,
                                                                      make_family, admin_a):
    big = make_family()
    for r in (Relationship.HEAD, Relationship.WIFE):
        make_participant(family=big, months=24, amount=840_000, relationship=r)
    small = make_participant(months=2, amount=70_000)
    gift(public_campaign, 1_000_000, "KAS-1", admin_a)  # not enough for the big family (1.750.000)
    result = pool_allocate(campaign=public_campaign, now=NOW)
    assert result.pledges == 1
    assert Pledge.all_regencies.get(is_pooled=True).participant_id == small.pk
    assert result.available_after == 1_000_000 - 105_000


def test_never_over_allocates_and_is_idempotent(public_campaign, make_participant, admin_a):
    for _ in range(6):
        make_participant(months=6, amount=210_000)  # 245.000 each
    gift(public_campaign, 500_000, "KAS-1", admin_a)
    gift(public_campaign, 300_000, "KAS-2", admin_a)
    first = pool_allocate(campaign=public_campaign, now=NOW)
    assert first.pledges == 3 and first.amount == 735_000
    again = pool_allocate(campaign=public_campaign, now=NOW)
    assert again.pledges == 0 and again.amount == 0
    allocated = Allocation.all_regencies.aggregate(s=Sum("amount"))["s"]
    assert allocated == 735_000 <= 800_000
    per_gift = dict(Allocation.all_regencies.values("gift__reference").annotate(s=Sum("amount"))
                    .values_list("gift__reference", "s"))
    assert per_gift["KAS-1"] <= 500_000 and per_gift["KAS-2"] <= 300_000
    for pledge in Pledge.all_regencies.filter(is_pooled=True):
        assert Allocation.all_regencies.filter(pledge=pledge).aggregate(s=Sum("amount"))["s"] == pledge.amount


def test_only_received_gifts_are_allocated(public_campaign, make_participant, admin_a, donor):
    make_participant()
    pending = services.gift_create(campaign=public_campaign, donor=donor, amount=1_000_000, reference="TRF-9")
    assert pool_allocate(campaign=public_campaign, now=NOW).pledges == 0
    services.gift_receive(gift=pending, actor=admin_a)
    assert pool_allocate(campaign=public_campaign, now=NOW).pledges == 1


def test_money_of_a_released_pooled_pledge_returns_to_the_pool(public_campaign, make_participant, admin_a):
    p = make_participant()
    gift(public_campaign, 245_000, "KAS-1", admin_a)
    pool_allocate(campaign=public_campaign, now=NOW)
    pledge = Pledge.all_regencies.get(is_pooled=True)
    services.pledge_release(pledge=pledge, actor=None, reason="peserta pindah ke PBI")
    from donations.selectors import pool_balance

    assert pool_balance(campaign=public_campaign).available == 245_000
    # Here the participant is still eligible and in arrears, so the money goes to them again.
    assert pool_allocate(campaign=public_campaign, now=NOW).pledges == 1
    assert Pledge.all_regencies.filter(participant=p, is_pooled=True).count() == 2


def test_gift_rules(public_campaign, make_campaign, admin_a, donor, staff_a):
    with pytest.raises(DomainError):
        services.gift_create(campaign=public_campaign, donor=donor, amount=0, reference="X")
    services.gift_create(campaign=public_campaign, donor=donor, amount=50_000, reference="X")
    with pytest.raises(Conflict):
        services.gift_create(campaign=public_campaign, donor=donor, amount=50_000, reference="X")
    with pytest.raises(DomainError) as caught:
        services.gift_create(campaign=make_campaign(kind="one_to_one"), donor=donor, amount=5, reference="Y")
    assert caught.value.code == "not_pooled"
    with pytest.raises(PermissionDenied):  # only campaign managers record money as received
        services.gift_create(campaign=public_campaign, donor=None, actor=staff_a, amount=5, reference="Z",
                             received=True)
    assert Gift.all_regencies.count() == 1


def test_the_allocation_task_runs_every_active_pooled_campaign(public_campaign, make_participant, admin_a):
    from donations.tasks import pool_allocate_task

    make_participant()
    gift(public_campaign, 245_000, "KAS-1", admin_a)
    assert pool_allocate_task() == {public_campaign.slug: 1}
    assert pool_allocate_task(public_campaign.pk) == {"pledges": 0, "amount": 0}
