"""Reconciliation rules over imports and records written directly (each rule, each reason)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import Error, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.models import AuditEvent
from donations.models import (
    Allocation,
    Anomaly,
    AnomalyKind,
    AnomalyStatus,
    Gift,
    Pledge,
    PledgeStatus,
    ReconciliationOutcome,
    ReconciliationRun,
    ReconciliationSettings,
)
from donations.pool import _gift_balances
from donations.reconciliation.services import newest_import, reconcile, reconcile_regency
from donations.selectors import pledge_history
from participants.models import Family
from tests.donations.reconciliation_world import absent, imp, person, pledge, rec

pytestmark = pytest.mark.django_db

D0 = dt.date(2026, 9, 1)  # the first list
PAY = dt.date(2026, 9, 5)  # payments


@pytest.fixture
def first(branch_a):
    return imp(branch_a, D0)


@pytest.fixture
def campaign(make_campaign):
    return make_campaign()


def _status(p: Pledge) -> str:
    p.refresh_from_db()
    return p.status


def test_paid_is_verified_by_zero_reduced_or_absent_and_recorded(regency_a, branch_a, first, campaign, donor):
    zero = pledge(person(regency_a, first), campaign, donor, "paid", made_from=first, paid_on=PAY)
    reduced_p = person(regency_a, first, amount=700_000)
    reduced = pledge(reduced_p, campaign, donor, "paid", made_from=first, paid_on=PAY, paid=245_000)
    gone_p = person(regency_a, first)
    gone = pledge(gone_p, campaign, donor, "paid", made_from=first, paid_on=PAY)
    later = imp(branch_a, dt.date(2026, 9, 20))
    rec(zero.participant, later, 0)
    rec(reduced_p, later, 420_000)  # 280k less >= 245k paid
    absent(gone_p, later)

    result = reconcile_regency(regency=regency_a)

    assert result["verified"] == 3 and result["unchanged"] == 0
    for p in (zero, reduced, gone):
        assert _status(p) == PledgeStatus.VERIFIED and p.verified_at is not None
    outcome = ReconciliationOutcome.objects.for_regency(regency_a).get(pledge=zero)
    assert (outcome.from_status, outcome.to_status, outcome.arrears_import_id) == ("paid", "verified", later.pk)
    assert ReconciliationOutcome.objects.for_regency(regency_a).get(pledge=gone).arrears_import_id == later.pk
    run = ReconciliationRun.objects.for_regency(regency_a).get()
    assert (run.verified, run.arrears_import_id) == (3, later.pk)
    # The pledge's history shows the change, from its outcome row (the trail of a run's changes).
    entry = pledge_history(pledge=zero)[-1]
    assert (entry.verb, entry.actor, entry.before) == ("pledge.verified", None, {"status": "paid"})
    assert entry.after == {"status": "verified", "outcome": "verified", "reason": "", "arrears_import": later.pk,
                           "as_of": "2026-09-20", "run": run.pk}
    # The audit trail has the run (the system's), not a second copy of each change.
    event = AuditEvent.objects.get(verb="reconciliation.run")
    assert (event.actor, event.object_id, event.after["verified"], event.after["import"]) == (
        None, str(run.pk), 3, later.pk)
    assert not AuditEvent.objects.filter(object_type="donations.pledge", verb="pledge.verified").exists()


def test_outcome_rows_are_append_only(regency_a, branch_a, first, campaign, donor):
    p = pledge(person(regency_a, first), campaign, donor, "paid", made_from=first, paid_on=PAY)
    rec(p.participant, imp(branch_a, dt.date(2026, 9, 20)), 0)
    reconcile_regency(regency=regency_a)
    rows = ReconciliationOutcome.objects.for_regency(regency_a)
    with pytest.raises(Error, match="append-only"), transaction.atomic():
        rows.update(reason="edited")
    with pytest.raises(Error, match="append-only"), transaction.atomic():
        rows.delete()
    assert rows.get().reason == ""


def test_newest_record_may_be_in_a_later_list_of_another_branch(regency_a, branch_a, branch_b, first, campaign,
                                                                 donor):
    p = person(regency_a, first)
    paid = pledge(p, campaign, donor, "paid", made_from=first, paid_on=PAY)
    rec(p, imp(branch_a, dt.date(2026, 9, 20)), 210_000)  # the regency's newest list: still in arrears
    other = imp(branch_b, dt.date(2026, 9, 25))  # a later list of a branch not covering the regency
    rec(p, other, 0)
    result = reconcile_regency(regency=regency_a)
    assert result["verified"] == 1 and _status(paid) == PledgeStatus.VERIFIED
    assert ReconciliationOutcome.objects.for_regency(regency_a).get(pledge=paid).arrears_import_id == other.pk


def test_the_later_lists_lookup_reads_only_their_months(regency_a, branch_a, branch_b, first, campaign, donor):
    """The lookup of a record in a later list of another branch reads that list's month of the
    history only (its partition, pruned when planned), not every month kept, once per pledge."""
    import re

    p = person(regency_a, first)
    pledge(p, campaign, donor, "paid", made_from=first, paid_on=PAY)
    rec(p, imp(branch_a, dt.date(2026, 10, 1)), 210_000)  # the regency's newest list
    rec(p, imp(branch_b, dt.date(2026, 11, 1)), 0)  # a later list of another branch
    with CaptureQueriesContext(connection) as captured:
        reconcile_regency(regency=regency_a)
        statements = [q["sql"] for q in captured.captured_queries]
    decide = next(sql for sql in statements if sql.lstrip().startswith("CREATE TEMP TABLE rc_dec"))
    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + decide)
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert set(re.findall(r" on (participants_arrearsrecord_\w+) x(?:_\d+)?\b", plan)) == {
        "participants_arrearsrecord_y2026m11"}


def test_reduction_smaller_than_payment_does_not_verify(regency_a, branch_a, first, campaign, donor):
    p = person(regency_a, first, amount=700_000)
    paid = pledge(p, campaign, donor, "paid", made_from=first, paid_on=PAY, paid=245_000)
    rec(p, imp(branch_a, dt.date(2026, 9, 20)), 600_000)
    assert reconcile_regency(regency=regency_a)["unchanged"] == 1
    assert _status(paid) == PledgeStatus.PAID


def test_import_older_than_the_payment_verifies_nothing(regency_a, branch_a, first, campaign, donor):
    p = person(regency_a, first)
    paid = pledge(p, campaign, donor, "paid", made_from=first, paid_on=dt.date(2026, 9, 25))
    rec(p, imp(branch_a, dt.date(2026, 9, 20)), 0)  # as of before the payment
    assert reconcile_regency(regency=regency_a)["verified"] == 0
    assert _status(paid) == PledgeStatus.PAID
    rec(p, imp(branch_a, dt.date(2026, 10, 1)), 0)  # the next list, after it
    assert reconcile_regency(regency=regency_a)["verified"] == 1
    assert _status(paid) == PledgeStatus.VERIFIED


def test_still_in_arrears_after_grace_is_disputed_within_grace_flagged(regency_a, branch_a, first, campaign, donor):
    p = person(regency_a, first)
    paid = pledge(p, campaign, donor, "paid", made_from=first, paid_on=PAY)
    rec(p, imp(branch_a, PAY + dt.timedelta(days=10)), 210_000)  # within grace: no reduction at all
    result = reconcile_regency(regency=regency_a)
    assert result["unchanged"] == 1 and result["disputed"] == 0
    assert _status(paid) == PledgeStatus.PAID
    flagged = Anomaly.objects.for_regency(regency_a).get()
    assert (flagged.kind, flagged.pledge_id, flagged.status) == (AnomalyKind.IMPORT_CONTRADICTS, paid.pk, "open")

    late = imp(branch_a, PAY + dt.timedelta(days=30))  # exactly the grace period later
    rec(p, late, 245_000)
    result = reconcile_regency(regency=regency_a)
    assert result["disputed"] == 1
    assert _status(paid) == PledgeStatus.DISPUTED
    disputed = Anomaly.objects.for_regency(regency_a).get(kind=AnomalyKind.DISPUTED_PAYMENT)
    assert disputed.pledge_id == paid.pk and disputed.arrears_import_id == late.pk


def test_grace_days_is_a_regency_setting(regency_a, branch_a, first, campaign, donor):
    ReconciliationSettings.objects.create(regency=regency_a, grace_days=60)
    p = person(regency_a, first)
    paid = pledge(p, campaign, donor, "paid", made_from=first, paid_on=PAY)
    rec(p, imp(branch_a, PAY + dt.timedelta(days=45)), 210_000)
    assert reconcile_regency(regency=regency_a)["disputed"] == 0
    assert _status(paid) == PledgeStatus.PAID


def test_disputed_is_verified_when_a_later_import_shows_it_cleared(regency_a, branch_a, first, campaign, donor):
    p = person(regency_a, first)
    paid = pledge(p, campaign, donor, "paid", made_from=first, paid_on=PAY)
    rec(p, imp(branch_a, dt.date(2026, 10, 20)), 210_000)
    reconcile_regency(regency=regency_a)
    assert _status(paid) == PledgeStatus.DISPUTED
    rec(p, imp(branch_a, dt.date(2026, 11, 1)), 0)
    result = reconcile_regency(regency=regency_a)
    assert result["verified"] == 1 and _status(paid) == PledgeStatus.VERIFIED
    anomaly = Anomaly.objects.for_regency(regency_a).get(kind=AnomalyKind.DISPUTED_PAYMENT)
    assert anomaly.status == AnomalyStatus.RESOLVED and anomaly.resolved_by is None
    last = ReconciliationOutcome.objects.for_regency(regency_a).filter(pledge=paid).order_by("-id").first()
    assert (last.from_status, last.to_status) == ("disputed", "verified")


def test_unpaid_pledges_released_cleared_by_other_or_left_segment(regency_a, branch_a, first, campaign, donor):
    zero_p, gone_p, moved_p, still_p = (person(regency_a, first) for _ in range(4))
    zero = pledge(zero_p, campaign, donor, "pledged", made_from=first)
    gone = pledge(gone_p, campaign, donor, "reserved", made_from=first)
    moved = pledge(moved_p, campaign, donor, "pledged", made_from=first)
    still = pledge(still_p, campaign, donor, "pledged", made_from=first)
    later = imp(branch_a, dt.date(2026, 9, 20))
    rec(zero_p, later, 0)
    absent(gone_p, later)
    rec(moved_p, later, 210_000, segment="BP")
    rec(still_p, later, 245_000)

    result = reconcile_regency(regency=regency_a)

    assert (result["released_cleared_by_other"], result["released_left_segment"], result["unchanged"]) == (2, 1, 1)
    for p, reason in ((zero, "cleared_by_other"), (gone, "cleared_by_other"), (moved, "left_segment")):
        assert _status(p) == PledgeStatus.RELEASED and p.release_reason == reason and p.closed_at
    assert _status(still) == PledgeStatus.PLEDGED
    reasons = dict(ReconciliationOutcome.objects.for_regency(regency_a).values_list("pledge_id", "outcome"))
    assert reasons == {zero.pk: "released_cleared_by_other", gone.pk: "released_cleared_by_other",
                       moved.pk: "released_left_segment"}


def test_partial_import_absence_means_nothing(regency_a, branch_a, first, campaign, donor):
    shown_p, missing_p, paid_p = (person(regency_a, first) for _ in range(3))
    pledged = pledge(missing_p, campaign, donor, "pledged", made_from=first)
    paid = pledge(paid_p, campaign, donor, "paid", made_from=first, paid_on=PAY)
    partial = imp(branch_a, dt.date(2026, 11, 1), mode="partial")
    rec(shown_p, partial, 0)  # only this one is in the partial list
    result = reconcile_regency(regency=regency_a)
    assert result["unchanged"] == 2
    assert _status(pledged) == PledgeStatus.PLEDGED and _status(paid) == PledgeStatus.PAID


def test_outdated_import_is_ignored(regency_a, branch_a, first, campaign, donor):
    p = person(regency_a, first)
    paid = pledge(p, campaign, donor, "paid", made_from=first, paid_on=PAY)
    old = imp(branch_a, dt.date(2026, 9, 10))
    old.is_outdated = True
    old.save()
    rec(p, old, 0)
    assert reconcile_regency(regency=regency_a)["verified"] == 0
    assert _status(paid) == PledgeStatus.PAID


def test_pooled_allocation_released_returns_money_to_pool(regency_a, branch_a, first, campaign, donor):
    gift = Gift.objects.create(regency=regency_a, campaign=campaign, donor=donor, amount=500_000, reference="G1",
                               received=True)
    p = person(regency_a, first)
    pooled = pledge(p, campaign, None, "pledged", made_from=first, pooled=True)
    Allocation.objects.create(regency=regency_a, gift=gift, pledge=pooled, amount=pooled.amount)
    assert _gift_balances(campaign) == [[gift.pk, 500_000 - pooled.amount]]
    rec(p, imp(branch_a, dt.date(2026, 9, 20)), 0)
    assert reconcile_regency(regency=regency_a)["released_cleared_by_other"] == 1
    assert _status(pooled) == PledgeStatus.RELEASED
    assert _gift_balances(campaign) == [[gift.pk, 500_000]]


def test_pooled_paid_allocation_is_verified(regency_a, branch_a, first, campaign, admin_a):
    p = person(regency_a, first)
    pooled = pledge(p, campaign, admin_a, "paid", made_from=first, pooled=True, paid_on=PAY)
    rec(p, imp(branch_a, dt.date(2026, 9, 20)), 0)
    assert reconcile_regency(regency=regency_a)["verified"] == 1
    assert _status(pooled) == PledgeStatus.VERIFIED


def test_family_partly_verified_is_an_anomaly(regency_a, branch_a, first, campaign, donor):
    family = Family.objects.create(regency=regency_a, number="7322000000000099")
    helped = person(regency_a, first, family=family)
    other = person(regency_a, first, family=family)
    paid = pledge(helped, campaign, donor, "paid", made_from=first, paid_on=PAY)
    later = imp(branch_a, dt.date(2026, 9, 20))
    rec(helped, later, 0)
    rec(other, later, 245_000)
    reconcile_regency(regency=regency_a)
    assert _status(paid) == PledgeStatus.VERIFIED
    anomaly = Anomaly.objects.for_regency(regency_a).get(kind=AnomalyKind.FAMILY_PARTLY_VERIFIED)
    assert anomaly.family_id == family.pk and anomaly.pledge_id is None



def test_each_disputed_pledge_of_one_family_gets_its_anomaly_and_a_rerun_adds_none(
        regency_a, branch_a, first, campaign, donor):
    family = Family.objects.create(regency=regency_a, number="7322000000000098")
    members = [person(regency_a, first, family=family) for _ in range(3)]
    disputed = [pledge(m, campaign, donor, "paid", made_from=first, paid_on=PAY) for m in members[:2]]
    verified = pledge(members[2], campaign, donor, "paid", made_from=first, paid_on=PAY)
    later = imp(branch_a, dt.date(2026, 10, 20))  # past the grace period
    for m in members[:2]:
        rec(m, later, 245_000)
    rec(members[2], later, 0)
    reconcile_regency(regency=regency_a)
    rows = Anomaly.objects.for_regency(regency_a)
    assert sorted(rows.filter(kind=AnomalyKind.DISPUTED_PAYMENT).values_list("pledge_id", flat=True)) == sorted(
        p.pk for p in disputed)
    assert rows.filter(kind=AnomalyKind.DISPUTED_PAYMENT, family=family).count() == 2
    assert rows.get(kind=AnomalyKind.FAMILY_PARTLY_VERIFIED).family_id == family.pk
    assert _status(verified) == PledgeStatus.VERIFIED
    reconcile_regency(regency=regency_a)
    assert rows.count() == 3

def test_idempotent_second_run_changes_and_records_nothing(regency_a, branch_a, first, campaign, donor):
    a, b, c = (person(regency_a, first) for _ in range(3))
    pledge(a, campaign, donor, "paid", made_from=first, paid_on=PAY)
    pledge(b, campaign, donor, "pledged", made_from=first)
    pledge(c, campaign, donor, "paid", made_from=first, paid_on=PAY)
    later = imp(branch_a, dt.date(2026, 10, 20))
    rec(a, later, 0)
    absent(b, later)
    rec(c, later, 210_000)  # disputed + anomaly
    first_run = reconcile_regency(regency=regency_a)
    assert (first_run["verified"], first_run["released_cleared_by_other"], first_run["disputed"]) == (1, 1, 1)

    def snapshot():
        return (
            sorted(Pledge.objects.for_regency(regency_a).values_list("pk", "status", "updated_at")),
            ReconciliationOutcome.objects.for_regency(regency_a).count(),
            ReconciliationRun.objects.for_regency(regency_a).count(),
            Anomaly.objects.for_regency(regency_a).count(),
            AuditEvent.objects.count(),
        )

    before = snapshot()
    second = reconcile_regency(regency=regency_a)
    assert second["unchanged"] == 1  # only the disputed one is left to re-check
    assert (second["verified"], second["disputed"], second["released_cleared_by_other"], second["run"]) == (
        0, 0, 0, None)
    assert snapshot() == before


def test_other_regency_untouched(regency_a, regency_b, branch_a, branch_b, first, campaign, donor):
    p = person(regency_a, first)
    paid = pledge(p, campaign, donor, "paid", made_from=first, paid_on=PAY)
    rec(p, imp(branch_a, dt.date(2026, 9, 20)), 0)
    assert reconcile_regency(regency=regency_b)["verified"] == 0
    assert _status(paid) == PledgeStatus.PAID


def _world(regency, branch, campaign, donor, n: int, as_of: dt.date) -> None:
    start = imp(branch, as_of)
    later = imp(branch, as_of + dt.timedelta(days=20))
    for i in range(n):
        p = person(regency, start)
        pledge(p, campaign, donor, "paid" if i % 2 else "pledged", made_from=start,
               paid_on=as_of + dt.timedelta(days=2) if i % 2 else None)
        rec(p, later, 0)


def test_the_run_plans_without_jit_or_parallel_workers(regency_a, branch_a, make_campaign, donor):
    """The regencies already run on a connection per core each: a parallel plan of the decision
    only adds its workers' start (bench/README.md, session 20)."""
    from donations.reconciliation import rules

    _world(regency_a, branch_a, make_campaign(), donor, 2, D0)
    latest = newest_import(regency_a.pk)
    with transaction.atomic(), connection.cursor() as cur:
        rules.decide(regency_id=regency_a.pk, latest_import_id=latest.pk, tz=regency_a.timezone, grace_days=30)
        cur.execute("SHOW max_parallel_workers_per_gather")
        assert cur.fetchone()[0] == "0"
        cur.execute("SHOW jit")
        assert cur.fetchone()[0] == "off"
        cur.execute("DROP TABLE rc_dec")


def test_query_count_does_not_grow_with_pledges(regency_a, regency_b, branch_a, branch_b, make_campaign, donor,
                                                 django_assert_num_queries):
    _world(regency_a, branch_a, make_campaign(), donor, 1, D0)
    _world(regency_b, branch_b, make_campaign(regency=regency_b), donor, 20, D0)
    with CaptureQueriesContext(connection) as one:
        assert reconcile_regency(regency=regency_a)["released_cleared_by_other"] == 1
    with django_assert_num_queries(len(one.captured_queries)):
        result = reconcile_regency(regency=regency_b)
    assert (result["verified"], result["released_cleared_by_other"]) == (10, 10)


def test_inside_a_transaction_regencies_run_on_the_callers_connection(regency_a, regency_b, branch_a, branch_b,
                                                                      make_campaign, donor):
    # The test's transaction is open: other connections would not see these rows.
    _world(regency_a, branch_a, make_campaign(), donor, 2, D0)
    _world(regency_b, branch_b, make_campaign(regency=regency_b), donor, 2, D0)
    result = reconcile(regency_ids=[regency_a.pk, regency_b.pk], workers=2, notify=False)
    assert (result["verified"], result["released_cleared_by_other"]) == (2, 2)


def test_history_has_each_change_once_in_order(regency_a, branch_a, first, campaign, donor):
    from core.audit import audit_record
    from donations.selectors import pledge_histories

    p = pledge(person(regency_a, first), campaign, donor, "paid", made_from=first, paid_on=PAY)
    audit_record(actor=donor, verb="pledge.paid", obj=p, before={"status": "pledged"}, after={"status": "paid"})
    rec(p.participant, imp(branch_a, dt.date(2026, 9, 20)), 0)
    run = reconcile_regency(regency=regency_a)["run"]
    # What a run wrote before its outcome rows were the trail: the same change as an audit event.
    audit_record(actor=None, verb="pledge.verified", obj=p, before={"status": "paid"},
                 after={"status": "verified", "run": run})

    history = pledge_history(pledge=p)
    assert [(h.verb, h.before["status"], h.after["status"]) for h in history] == [
        ("pledge.paid", "pledged", "paid"), ("pledge.verified", "paid", "verified")]
    assert history[-1].after["run"] == run and history[-1].after["outcome"] == "verified"
    assert pledge_histories(pledges=[p]) == {p.pk: history}


@pytest.mark.parametrize("hint", [None, dt.date(2026, 10, 1), dt.date(2027, 1, 1)])
def test_newest_record_outside_the_newest_list_whatever_the_clearing_row_says(
        regency_a, branch_a, first, campaign, donor, hint):
    """The lookup starts from the month the participant's clearing row names (or the pledge's
    list); a row naming a month after every record falls back to every month: same decision."""
    from participants.models import ClearingHistory

    p = person(regency_a, first)
    pledged = pledge(p, campaign, donor, "pledged", made_from=first)
    rec(p, imp(branch_a, dt.date(2026, 10, 1)), 210_000, segment="BP")  # the newest record
    imp(branch_a, dt.date(2026, 11, 1), mode="partial")  # the newest list, without the participant
    if hint is not None:
        ClearingHistory.objects.create(regency=regency_a, participant=p, last_as_of=hint, last_months=6)
    assert reconcile_regency(regency=regency_a)["released_left_segment"] == 1
    assert _status(pledged) == PledgeStatus.RELEASED and pledged.release_reason == "left_segment"


def test_arrears_before_the_payment_from_a_list_older_than_the_pledges(regency_a, branch_a, first, campaign,
                                                                       donor):
    """The record before the payment is looked up from the pledge's list first; a pledge made from
    a list dated after its payment finds it among the older months."""
    p = person(regency_a, first, amount=700_000)  # 1 September: 700,000
    made_from = imp(branch_a, dt.date(2026, 9, 10))
    rec(p, made_from, 600_000)
    p.refresh_from_db()
    paid = pledge(p, campaign, donor, "paid", made_from=made_from, paid_on=PAY)  # paid 5 September
    rec(p, imp(branch_a, dt.date(2026, 9, 20)), 455_000)  # 245,000 less than before the payment
    assert reconcile_regency(regency=regency_a)["verified"] == 1
    assert _status(paid) == PledgeStatus.VERIFIED
