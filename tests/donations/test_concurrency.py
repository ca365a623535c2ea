"""Exactly one active pledge per participant under REAL concurrency: threads, each with its own
PostgreSQL connection, committed transactions (no test transaction around them)."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from core.errors import Conflict
from donations import services
from donations.models import Pledge, PledgeStatus
from tests.factories import UserFactory

THREADS = 8


def _race(work, n: int = THREADS) -> list:
    """Run `work(i)` in n threads released together; return each outcome (value or exception)."""
    barrier = threading.Barrier(n)
    outcomes: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[i] = work(i)
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_exactly_one_wins(public_campaign, make_participant):
    participant = make_participant()
    spare = make_participant(months=2)
    donors = [UserFactory() for _ in range(THREADS)]

    outcomes = _race(lambda i: services.pledge_reserve(campaign=public_campaign, participant=participant,
                                                       donor=donors[i]))

    wins = [o for o in outcomes if isinstance(o, Pledge)]
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(wins) == 1, outcomes
    assert len(conflicts) == THREADS - 1, outcomes
    assert {c.code for c in conflicts} == {"already_pledged"}
    assert {c.extra["suggestion"] for c in conflicts} == {str(spare.public_id)}
    assert Pledge.all_regencies.filter(participant=participant, status=PledgeStatus.RESERVED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_partial_unique_index_holds_without_the_service_locks(public_campaign, make_participant):
    """The database's own guarantee: concurrent raw inserts, no row locks taken."""
    participant = make_participant()
    donors = [UserFactory() for _ in range(THREADS)]

    def insert(i: int):
        with transaction.atomic():
            return Pledge.objects.create(
                regency_id=participant.regency_id, campaign=public_campaign, participant=participant,
                donor=donors[i], status=PledgeStatus.PLEDGED, amount=245_000, arrears_amount=210_000,
                months_in_arrears=6, monthly_tariff=35_000,
            )

    outcomes = _race(insert)
    assert sum(isinstance(o, Pledge) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, IntegrityError) for o in outcomes) == THREADS - 1, outcomes


@pytest.mark.django_db(transaction=True)
def test_concurrent_family_adoptions_never_split_a_family(public_campaign, make_participant, make_family):
    from participants.models import Relationship

    family = make_family()
    members = [make_participant(family=family)] + [
        make_participant(family=family, relationship=Relationship.CHILD) for _ in range(3)]
    donors = [UserFactory() for _ in range(4)]

    outcomes = _race(lambda i: services.pledge_reserve_family(campaign=public_campaign,
                                                              participant=members[i], donor=donors[i]), n=4)
    winners = [o for o in outcomes if isinstance(o, list)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if not isinstance(o, list))
    held = Pledge.all_regencies.filter(participant__in=members, status=PledgeStatus.RESERVED)
    assert held.count() == 4 and held.values("donor").distinct().count() == 1
