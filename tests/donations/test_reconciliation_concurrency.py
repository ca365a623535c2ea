"""Reconciliation against a donor acting at the same moment: threads with their own connections,
committed transactions. The regency row lock serialises them; every pledge ends consistent."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction

from core.models import AuditEvent
from donations import services
from donations.models import PledgeStatus, ReconciliationOutcome
from donations.reconciliation.services import reconcile, reconcile_regency
from donations.selectors import pledge_history
from donations.services import InvalidTransition
from tests.donations.reconciliation_world import imp, person, pledge, rec
from tests.donations.test_concurrency import _race

pytestmark = pytest.mark.django_db(transaction=True)


def _setup(regency, branch, campaign, donor, n: int):
    first = imp(branch, dt.date(2026, 9, 1))
    people = [person(regency, first) for _ in range(n)]
    pledges = [pledge(p, campaign, donor, "reserved", made_from=first) for p in people]
    later = imp(branch, dt.date(2026, 9, 20))
    for p in people:
        rec(p, later, 0)  # cleared by someone else
    return pledges


def test_donors_confirming_while_reconciliation_runs(regency_a, branch_a, make_campaign, donor):
    campaign = make_campaign()
    pledges = _setup(regency_a, branch_a, campaign, donor, 6)

    def work(i: int):
        if i == 0:
            return reconcile_regency(regency=regency_a)
        return services.pledge_confirm(pledge=pledges[i - 1], actor=donor)

    outcomes = _race(work, n=len(pledges) + 1)

    assert isinstance(outcomes[0], dict), outcomes[0]
    for o in outcomes[1:]:
        assert o is None or not isinstance(o, Exception) or isinstance(o, InvalidTransition), o
    for p in pledges:
        p.refresh_from_db()
        assert p.status == PledgeStatus.RELEASED and p.release_reason == "cleared_by_other"
        # Whoever came first, the release is the pledge's last change, once.
        verbs = [h.verb for h in pledge_history(pledge=p)]
        assert verbs.count("pledge.released") == 1 and verbs[-1] == "pledge.released", verbs
    confirmed = sum(not isinstance(o, Exception) for o in outcomes[1:])
    assert outcomes[0]["released_cleared_by_other"] == len(pledges) and 0 <= confirmed <= len(pledges)
    assert ReconciliationOutcome.all_regencies.filter(to_status="released").count() == len(pledges)


def test_reconciliation_waits_for_a_donor_holding_the_regency_lock(regency_a, branch_a, make_campaign, donor):
    campaign = make_campaign()
    (target,) = _setup(regency_a, branch_a, campaign, donor, 1)
    locked, release, finished = threading.Event(), threading.Event(), threading.Event()
    result: dict = {}

    def donor_side():
        try:
            with transaction.atomic():
                services._lock_regency(regency_a.pk)  # what pledge_confirm takes first
                locked.set()
                release.wait(10)
                services.pledge_confirm(pledge=target, actor=donor)
        finally:
            connection.close()

    def recon_side():
        try:
            locked.wait(10)
            result.update(reconcile_regency(regency=regency_a))
            finished.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=donor_side), threading.Thread(target=recon_side)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    assert not finished.is_set(), "reconciliation must wait for the regency lock"
    release.set()
    for t in threads:
        t.join(20)
    assert finished.is_set()
    target.refresh_from_db()
    # The donor confirmed first (pledged), then reconciliation released it.
    assert target.status == PledgeStatus.RELEASED and result["released_cleared_by_other"] == 1
    outcome = ReconciliationOutcome.all_regencies.get(pledge=target)
    assert outcome.from_status == PledgeStatus.PLEDGED


def test_regencies_reconciled_at_the_same_time_on_their_own_connections(regency_a, regency_b, branch_a, branch_b,
                                                                        make_campaign, donor):
    in_a = _setup(regency_a, branch_a, make_campaign(), donor, 3)
    in_b = _setup(regency_b, branch_b, make_campaign(regency=regency_b), donor, 2)
    threads: set[str] = set()

    result = reconcile(regency_ids=[regency_a.pk, regency_b.pk], workers=2, notify=False,
                       on_progress=lambda code: threads.add(threading.current_thread().name))

    assert threads and all(name.startswith("reconcile") for name in threads), threads
    assert result["released_cleared_by_other"] == 5
    assert {code: r["released_cleared_by_other"] for code, r in result["regencies"].items()} == {
        regency_a.code: 3, regency_b.code: 2}
    for p in in_a + in_b:
        p.refresh_from_db()
        assert p.status == PledgeStatus.RELEASED
    assert ReconciliationOutcome.all_regencies.count() == 5
    assert AuditEvent.objects.filter(verb="reconciliation.run").count() == 2  # one per regency's run


def test_a_thread_keeps_its_connection_for_the_regencies_it_takes(regency_a, regency_a2, regency_b, branch_a,
                                                                   branch_b, make_campaign, donor):
    pledges = [*_setup(regency_a, branch_a, make_campaign(), donor, 2),
               *_setup(regency_a2, branch_a, make_campaign(regency=regency_a2), donor, 1),
               *_setup(regency_b, branch_b, make_campaign(regency=regency_b), donor, 1)]
    backends: list[int] = []

    def on_progress(code: str) -> None:
        with connection.cursor() as cur:  # this thread's connection
            cur.execute("SELECT pg_backend_pid()")
            backends.append(cur.fetchone()[0])

    result = reconcile(regency_ids=[regency_a.pk, regency_a2.pk, regency_b.pk], workers=2, notify=False,
                       on_progress=on_progress)

    assert len(backends) == 3 and len(set(backends)) <= 2, backends  # not one connection a regency
    assert result["released_cleared_by_other"] == 4
    for p in pledges:
        p.refresh_from_db()
        assert p.status == PledgeStatus.RELEASED
    with connection.cursor() as cur:  # the threads closed theirs at the end
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [list(set(backends))])
        assert cur.fetchone()[0] == 0


def test_a_failing_regency_is_raised_after_the_others_are_done(regency_a, regency_a2, regency_b, branch_a,
                                                               branch_b, make_campaign, donor, monkeypatch):
    from donations.reconciliation import services as recon

    in_a = _setup(regency_a, branch_a, make_campaign(), donor, 1)
    in_a2 = _setup(regency_a2, branch_a, make_campaign(regency=regency_a2), donor, 1)
    in_b = _setup(regency_b, branch_b, make_campaign(regency=regency_b), donor, 1)
    real = recon.reconcile_regency

    def failing(*, regency, **kwargs):
        if regency.pk == regency_a2.pk:
            with connection.cursor() as cur:
                cur.execute("SELECT 1/0")  # a database error on this thread's connection
        return real(regency=regency, **kwargs)

    monkeypatch.setattr(recon, "reconcile_regency", failing)
    with pytest.raises(Exception, match="division by zero"):
        reconcile(regency_ids=[regency_a.pk, regency_a2.pk, regency_b.pk], workers=2, notify=False)

    # The other regencies were reconciled and committed; the failing one changed nothing.
    for p in (*in_a, *in_b):
        p.refresh_from_db()
        assert p.status == PledgeStatus.RELEASED
    in_a2[0].refresh_from_db()
    assert in_a2[0].status == PledgeStatus.RESERVED
