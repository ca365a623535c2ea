"""The pledge tallies the database keeps (`PledgeTally`, `CoverTally`, migration 0015): they follow
every write of pledges, count a participant once however many pledges cover them, keep a pledge in
the district it was made in, and what the dashboards read from them equals the pledges."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from core.integrity import run
from donations import services, tallies
from donations.models import (
    CoverScope,
    CoverTally,
    Pledge,
    PledgeStatus,
    PledgeTally,
    UnfinishedPledge,
)
from donations.selectors import covered_participants, pledge_tally
from regencies.models import District
from reporting import figures
from reporting.dashboard import regency_dashboard
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)


def _counts(regency) -> dict[tuple[int, str], tuple[int, int]]:
    return {(c, s): (n, r) for c, s, n, r in PledgeTally.objects.for_regency(regency)
            .values_list("campaign_id", "status", "pledges", "rupiah") if n or r}


def _direct(first: Pledge, *, status: str, campaign=None, amount: int = 245_000) -> Pledge:
    """Another pledge for the participant, written straight to the table (no service)."""
    return Pledge.objects.create(
        regency_id=first.regency_id, campaign=campaign or first.campaign, participant=first.participant,
        donor=first.donor, status=status, amount=amount, arrears_amount=210_000, months_in_arrears=6,
        monthly_tariff=35_000,
    )


def test_every_change_of_status_moves_the_counts_and_rupiah(regency_a, public_campaign, make_participant, donor):
    kept, cancelled, lapsed = (make_participant() for _ in range(3))
    held = services.pledge_reserve(campaign=public_campaign, participant=kept, donor=donor, now=NOW)
    gone = services.pledge_reserve(campaign=public_campaign, participant=cancelled, donor=donor, now=NOW)
    services.pledge_reserve(campaign=public_campaign, participant=lapsed, donor=donor, now=NOW)
    c = public_campaign.pk
    assert _counts(regency_a) == {(c, "reserved"): (3, 3 * held.amount)}

    services.pledge_confirm(pledge=held, actor=donor, now=NOW)
    services.pledge_cancel(pledge=gone, actor=donor, now=NOW)
    assert services.pledges_expire_lapsed(now=NOW + dt.timedelta(hours=73)) == 1

    held.refresh_from_db()
    assert _counts(regency_a) == {
        (c, "pledged"): (1, held.amount), (c, "cancelled"): (1, gone.amount), (c, "expired"): (1, gone.amount),
    }
    assert pledge_tally(regency=regency_a)[PledgeStatus.PLEDGED] == (1, held.amount)
    assert tallies.differences() == 0


def test_an_amount_changed_in_place_moves_the_rupiah(regency_a, public_campaign, make_participant, donor):
    pledge = services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor, now=NOW)
    Pledge.all_regencies.filter(pk=pledge.pk).update(amount=pledge.amount + 35_000)
    assert _counts(regency_a) == {(public_campaign.pk, "reserved"): (1, pledge.amount + 35_000)}


def test_a_participant_two_pledges_cover_counts_once_until_neither_does(
        regency_a, public_campaign, make_campaign, make_participant, donor):
    other = make_campaign()
    first = services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor, now=NOW)
    # Helped before (verified) in this campaign and in another: covered once in the regency and
    # in each campaign.
    _direct(first, status=PledgeStatus.VERIFIED)
    _direct(first, status=PledgeStatus.VERIFIED, campaign=other)
    covered = covered_participants(regency=regency_a)
    assert covered["regency"] == {None: 1}
    assert covered["campaign"] == {public_campaign.pk: 1, other.pk: 1}
    assert covered["district"] == {first.participant.district_id: 1}

    services.pledge_cancel(pledge=first, actor=donor, now=NOW)  # still covered by the verified ones
    assert covered_participants(regency=regency_a)["regency"] == {None: 1}

    Pledge.all_regencies.filter(participant=first.participant, campaign=public_campaign).delete()
    covered = covered_participants(regency=regency_a)
    assert covered["campaign"] == {other.pk: 1}
    assert covered["regency"] == {None: 1}
    Pledge.all_regencies.filter(participant=first.participant).update(status=PledgeStatus.RELEASED)
    assert covered_participants(regency=regency_a) == {"regency": {}, "campaign": {}, "district": {}}
    assert tallies.differences() == 0


def test_one_statement_over_many_pledges_of_one_participant_counts_once(
        regency_a, public_campaign, make_participant, donor):
    """What reconciliation's set-based UPDATE does: several rows of a participant in one statement."""
    first = services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor, now=NOW)
    services.pledge_cancel(pledge=first, actor=donor, now=NOW)
    for _ in range(3):
        _direct(first, status=PledgeStatus.RELEASED)
    with connection.cursor() as cur:
        cur.execute("UPDATE donations_pledge SET status = 'verified' WHERE participant_id = %s", [first.participant_id])
    assert covered_participants(regency=regency_a)["campaign"] == {public_campaign.pk: 1}
    with connection.cursor() as cur:
        cur.execute("UPDATE donations_pledge SET status = 'released' WHERE participant_id = %s", [first.participant_id])
    assert covered_participants(regency=regency_a)["campaign"] == {}
    assert _counts(regency_a) == {(public_campaign.pk, "released"): (4, 4 * first.amount)}
    assert tallies.differences() == 0


def test_a_pledge_stays_in_the_district_it_was_made_in(regency_a, district_a, public_campaign, make_participant,
                                                        donor):
    person = make_participant()
    pledge = services.pledge_reserve(campaign=public_campaign, participant=person, donor=donor, now=NOW)
    pledge.refresh_from_db()
    assert pledge.district_id == district_a.pk  # filled by the database from the participant

    elsewhere = District.objects.create(regency=regency_a, name="Sabbang", code="73.22.02")
    person.district = elsewhere
    person.save(update_fields=["district"])
    services.pledge_confirm(pledge=pledge, actor=donor, now=NOW)
    assert figures.covered_by_district(regency=regency_a) == {district_a.pk: 1}


def test_a_failed_statement_changes_no_tally(regency_a, public_campaign, make_participant, donor):
    first = services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor, now=NOW)
    before = (_counts(regency_a), covered_participants(regency=regency_a))
    with pytest.raises(IntegrityError), transaction.atomic():
        _direct(first, status=PledgeStatus.PLEDGED)  # a second active pledge for the participant
    assert (_counts(regency_a), covered_participants(regency=regency_a)) == before


def test_the_dashboard_figures_equal_the_pledges(regency_a, public_campaign, make_campaign, make_participant, donor):
    other = make_campaign()
    people = [make_participant() for _ in range(4)]
    pledges = [services.pledge_reserve(campaign=campaign, participant=p, donor=UserFactory(), now=NOW)
               for campaign, p in zip([public_campaign, public_campaign, other, other], people, strict=True)]
    services.pledge_confirm(pledge=pledges[0], actor=pledges[0].donor, now=NOW)
    Pledge.all_regencies.filter(pk=pledges[1].pk).update(status=PledgeStatus.PAID)
    Pledge.all_regencies.filter(pk=pledges[2].pk).update(status=PledgeStatus.VERIFIED)
    services.pledge_cancel(pledge=pledges[3], actor=pledges[3].donor, now=NOW)

    live = {p.pk: p for p in Pledge.objects.for_regency(regency_a)}
    board = regency_dashboard(regency=regency_a, today=dt.date(2026, 11, 22))
    assert board["pledged"] == 1 and board["paid"] == 1 and board["verified"] == 1
    assert board["rupiah_pledged"] == sum(live[p.pk].amount for p in pledges[:3])
    assert board["rupiah_paid"] == sum(live[p.pk].amount for p in pledges[1:3])
    assert board["rupiah_verified"] == live[pledges[2].pk].amount
    rows = {row["id"]: row for row in board["campaigns"]}
    assert rows[public_campaign.pk]["participants"] == 2
    assert rows[other.pk]["participants"] == 1 and rows[other.pk]["verified"] == 1
    assert sum(row["covered"] for row in board["districts"]) == 3
    assert figures.pledges_by_regency(regency_ids=[regency_a.pk]) == {regency_a.pk: {"covered": 3, "verified": 1}}


def test_a_tally_that_drifts_is_reported_and_rebuilt(regency_a, public_campaign, make_participant, donor):
    services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor, now=NOW)
    PledgeTally.objects.for_regency(regency_a).update(pledges=7)
    CoverTally.objects.for_regency(regency_a).filter(scope=CoverScope.REGENCY).delete()
    UnfinishedPledge.objects.for_regency(regency_a).delete()
    failed = set(run().failed)
    assert {"money:pledge_tally", "money:cover_tally", "money:unfinished_pledges"} <= failed

    out = io.StringIO()
    call_command("rebuild_pledge_tallies", stdout=out, stderr=io.StringIO())
    assert json.loads(out.getvalue().splitlines()[-1])["differ"] == 0
    assert json.loads(out.getvalue().splitlines()[-1])["differed"] == 3
    assert UnfinishedPledge.objects.for_regency(regency_a).count() == 1
    assert tallies.differences() == 0
    assert covered_participants(regency=regency_a)["regency"] == {None: 1}
    assert _counts(regency_a)[(public_campaign.pk, "reserved")][0] == 1
