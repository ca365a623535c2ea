"""bench_year's monthly pledges go to whom a donor could pledge: the pool's participants."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from bench.management.commands.bench_year import _pledges
from bench.scratch import bench_campaigns
from donations.models import Campaign, Pledge, PledgeStatus
from participants.models import ParticipantStatus
from tests.factories import ParticipantFactory, UserFactory

AS_OF = dt.date(2026, 3, 1)


def _pledge(participant, status: str, **extra) -> Pledge:
    campaign = Campaign.all_regencies.get(slug=f"year-{participant.regency.slug}")
    return Pledge.objects.create(
        regency_id=participant.regency_id, campaign=campaign, participant=participant, donor=UserFactory(),
        status=status, amount=245_000, arrears_amount=210_000, months_in_arrears=6, monthly_tariff=35_000,
        **extra)


@pytest.mark.django_db
def test_only_participants_a_donor_could_pledge_get_a_pledge(regency_a):
    bench_campaigns("year")
    listed = ParticipantFactory(regency=regency_a, as_of=AS_OF)
    gone = ParticipantFactory(regency=regency_a, as_of=dt.date(2026, 1, 1), status=ParticipantStatus.CLEARED)
    written_off = ParticipantFactory(regency=regency_a, as_of=AS_OF, written_off=True)
    disputed = ParticipantFactory(regency=regency_a, as_of=AS_OF)
    _pledge(disputed, PledgeStatus.DISPUTED)
    verified = ParticipantFactory(regency=regency_a, as_of=AS_OF)
    _pledge(verified, PledgeStatus.VERIFIED, verified_at=timezone.now())
    overtaken = ParticipantFactory(regency=regency_a, as_of=AS_OF)
    _pledge(overtaken, PledgeStatus.VERIFIED, verified_at=dt.datetime(2026, 2, 10, tzinfo=dt.UTC))
    paid_up = ParticipantFactory(regency=regency_a, as_of=AS_OF, months_in_arrears=0, arrears_amount=0,
                                 status=ParticipantStatus.ACTIVE)
    before = set(Pledge.objects.for_regency(regency_a).values_list("pk", flat=True))

    made = _pledges(share=1.0, as_of=AS_OF, month=3)

    new = Pledge.objects.for_regency(regency_a).exclude(pk__in=before)
    assert set(new.values_list("participant_id", flat=True)) == {listed.pk, overtaken.pk}
    assert made["pledges"] == 2
    assert {gone.pk, written_off.pk, disputed.pk, verified.pk, paid_up.pk}.isdisjoint(
        new.values_list("participant_id", flat=True))
