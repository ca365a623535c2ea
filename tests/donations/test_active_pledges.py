"""Which pledge holds a participant (`ActivePledge`, kept by the database from every pledge write)
and changes of status that rewrite only the pledge's own page (HOT updates, no index entry)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from donations import services
from donations.models import ActivePledge, Pledge, PledgeStatus, UnfinishedPledge
from donations.reconciliation.services import reconcile_regency
from tests.donations.reconciliation_world import absent, imp, person, pledge, rec
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)  # 10:00 WITA


def _active(regency) -> dict[int, int]:
    return dict(ActivePledge.objects.for_regency(regency).values_list("participant_id", "pledge_id"))


def _in_progress(regency) -> dict[int, int]:
    return dict(Pledge.objects.for_regency(regency)
                .filter(status__in=[PledgeStatus.RESERVED, PledgeStatus.PLEDGED, PledgeStatus.PAID])
                .values_list("participant_id", "pk"))


def _second_pledge(first: Pledge, donor, status: str = PledgeStatus.PLEDGED) -> Pledge:
    """Another pledge for the same participant, written straight to the table (no service, no lock)."""
    return Pledge.objects.create(
        regency_id=first.regency_id, campaign=first.campaign, participant=first.participant, donor=donor,
        status=status, amount=245_000, arrears_amount=210_000, months_in_arrears=6, monthly_tariff=35_000,
    )


def test_the_active_rows_follow_every_change_of_status(regency_a, public_campaign, make_participant, donor):
    kept, cancelled, lapsed = (make_participant() for _ in range(3))
    held = services.pledge_reserve(campaign=public_campaign, participant=kept, donor=donor, now=NOW)
    gone = services.pledge_reserve(campaign=public_campaign, participant=cancelled, donor=donor, now=NOW)
    expiring = services.pledge_reserve(campaign=public_campaign, participant=lapsed, donor=donor, now=NOW)
    assert _active(regency_a) == {kept.pk: held.pk, cancelled.pk: gone.pk, lapsed.pk: expiring.pk}

    services.pledge_confirm(pledge=held, actor=donor, now=NOW)
    services.pledge_cancel(pledge=gone, actor=donor, now=NOW)
    assert services.pledges_expire_lapsed(now=NOW + dt.timedelta(hours=73)) == 1

    assert _active(regency_a) == {kept.pk: held.pk} == _in_progress(regency_a)
    # The participant given back can be pledged again, and is held by the new pledge.
    again = services.pledge_reserve(campaign=public_campaign, participant=cancelled, donor=UserFactory(), now=NOW)
    assert _active(regency_a) == {kept.pk: held.pk, cancelled.pk: again.pk}


def test_a_second_active_pledge_fails_whoever_writes_it(regency_a, public_campaign, make_participant, donor):
    first = services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor, now=NOW)

    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        _second_pledge(first, UserFactory())
    assert caught.value.__cause__.diag.constraint_name == "pledge_one_active_per_participant"

    # An update that makes a finished pledge active again while another holds the participant.
    services.pledge_cancel(pledge=first, actor=donor, now=NOW)
    second = _second_pledge(first, UserFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        Pledge.all_regencies.filter(pk=first.pk).update(status=PledgeStatus.PLEDGED)
    assert _active(regency_a) == {first.participant_id: second.pk}


def test_a_pledge_moved_or_deleted_takes_its_row_along(regency_a, public_campaign, make_participant, donor):
    first = services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor, now=NOW)
    other = make_participant()

    Pledge.all_regencies.filter(pk=first.pk).update(participant=other)
    assert _active(regency_a) == {other.pk: first.pk}

    with connection.cursor() as cur:  # the ORM refuses (protected payments, audit); the table does not
        cur.execute("DELETE FROM donations_pledge WHERE id = %s", [first.pk])
    assert _active(regency_a) == {}


def test_a_statement_changing_many_pledges_keeps_the_rows_exact(regency_a, public_campaign, make_participant,
                                                                 donor):
    made = [services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor, now=NOW)
            for _ in range(5)]
    Pledge.all_regencies.filter(pk__in=[p.pk for p in made[:3]]).update(status=PledgeStatus.CANCELLED)
    Pledge.all_regencies.filter(pk__in=[p.pk for p in made[3:]]).update(status=PledgeStatus.PLEDGED)
    assert _active(regency_a) == {p.participant_id: p.pk for p in made[3:]} == _in_progress(regency_a)


def _pledge_updates() -> tuple[int, int]:
    """(updated, of which HOT) rows of the pledge table in the current transaction."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_stat_get_xact_tuples_updated('donations_pledge'::regclass),"
                    " pg_stat_get_xact_tuples_hot_updated('donations_pledge'::regclass)")
        return cur.fetchone()


def test_reconciliation_changes_pledges_without_writing_any_index(regency_a, branch_a, make_campaign, donor):
    first = imp(branch_a, dt.date(2026, 9, 1))
    campaign = make_campaign()
    people = [person(regency_a, first) for _ in range(6)]
    paid = [pledge(p, campaign, donor, "paid", made_from=first, paid_on=dt.date(2026, 9, 5)) for p in people[:3]]
    unpaid = [pledge(p, campaign, donor, "pledged", made_from=first) for p in people[3:]]
    later = imp(branch_a, dt.date(2026, 10, 1))
    for p in people[:2] + people[3:5]:
        rec(p, later, 0)
    absent(people[2], later)
    rec(people[5], later, 245_000)
    before = _pledge_updates()

    result = reconcile_regency(regency=regency_a)

    updated, hot = (after - then for after, then in zip(_pledge_updates(), before, strict=True))
    assert (result["verified"], result["released_cleared_by_other"], result["unchanged"]) == (3, 2, 1)
    assert updated == hot == 5  # every change written in the pledge's own page
    assert _active(regency_a) == {people[5].pk: unpaid[2].pk} == _in_progress(regency_a)
    assert all(Pledge.objects.for_regency(regency_a).get(pk=p.pk).status == PledgeStatus.VERIFIED for p in paid)


# --- the pledges reconciliation decides (`UnfinishedPledge`) -------------------------------------------


def _unfinished(regency) -> set[int]:
    return set(UnfinishedPledge.objects.for_regency(regency).values_list("pledge_id", flat=True))


def _unfinished_by_status(regency) -> set[int]:
    return set(Pledge.objects.for_regency(regency).filter(status__in=[
        PledgeStatus.RESERVED, PledgeStatus.PLEDGED, PledgeStatus.PAID, PledgeStatus.DISPUTED,
    ]).values_list("pk", flat=True))


def test_the_unfinished_rows_follow_every_write_including_a_dispute(regency_a, branch_a, make_campaign, donor):
    first = imp(branch_a, dt.date(2026, 9, 1))
    campaign = make_campaign()
    people = [person(regency_a, first) for _ in range(4)]
    verified = pledge(people[0], campaign, donor, "paid", made_from=first, paid_on=dt.date(2026, 9, 5))
    disputed = pledge(people[1], campaign, donor, "paid", made_from=first, paid_on=dt.date(2026, 9, 5))
    released = pledge(people[2], campaign, donor, "pledged", made_from=first)
    waiting = pledge(people[3], campaign, donor, "reserved", made_from=first)
    assert _unfinished(regency_a) == {verified.pk, disputed.pk, released.pk, waiting.pk}

    later = imp(branch_a, dt.date(2026, 11, 1))  # after the grace of the payment
    rec(people[0], later, 0)
    rec(people[1], later, 245_000)
    rec(people[2], later, 0)
    rec(people[3], later, 245_000)
    result = reconcile_regency(regency=regency_a)

    assert (result["verified"], result["disputed"], result["released_cleared_by_other"]) == (1, 1, 1)
    # A disputed pledge no longer holds its participant, but reconciliation still decides it.
    assert _unfinished(regency_a) == {disputed.pk, waiting.pk} == _unfinished_by_status(regency_a)
    assert set(_active(regency_a).values()) == {waiting.pk}

    Pledge.all_regencies.filter(pk=waiting.pk).update(status=PledgeStatus.EXPIRED)
    Pledge.all_regencies.filter(pk=verified.pk).update(status=PledgeStatus.DISPUTED)  # whoever writes it
    assert _unfinished(regency_a) == {disputed.pk, verified.pk} == _unfinished_by_status(regency_a)
    extra = pledge(person(regency_a, later), campaign, donor, "pledged", made_from=later)
    assert extra.pk in _unfinished(regency_a)
    with connection.cursor() as cur:  # the ORM refuses (protected payments, audit); the table does not
        cur.execute("DELETE FROM donations_pledge WHERE id = %s", [extra.pk])
    assert _unfinished(regency_a) == {disputed.pk, verified.pk} == _unfinished_by_status(regency_a)


def test_the_run_decides_the_unfinished_pledges_and_no_finished_one(regency_a, branch_a, make_campaign, donor):
    first = imp(branch_a, dt.date(2026, 9, 1))
    campaign = make_campaign()
    people = [person(regency_a, first) for _ in range(2)]
    done = pledge(people[0], campaign, donor, "paid", made_from=first, paid_on=dt.date(2026, 9, 5))
    open_one = pledge(people[1], campaign, donor, "pledged", made_from=first)
    later = imp(branch_a, dt.date(2026, 9, 20))
    rec(people[0], later, 0)
    rec(people[1], later, 245_000)
    assert (reconcile_regency(regency=regency_a)["verified"], _unfinished(regency_a)) == (1, {open_one.pk})
    # A row the triggers would never leave: a finished pledge in the table is still not decided.
    UnfinishedPledge.objects.create(regency=regency_a, pledge=done)
    rec(people[1], imp(branch_a, dt.date(2026, 10, 1)), 0)

    result = reconcile_regency(regency=regency_a)

    assert sum(result[k] for k in ("verified", "disputed", "released_cleared_by_other", "unchanged")) == 1
    assert result["released_cleared_by_other"] == 1
    open_one.refresh_from_db()
    done.refresh_from_db()
    assert (open_one.status, done.status) == (PledgeStatus.RELEASED, PledgeStatus.VERIFIED)
    UnfinishedPledge.objects.for_regency(regency_a).filter(pledge=done).delete()  # the planted row out again (checked after each test)
