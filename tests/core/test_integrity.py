"""`manage.py check_integrity` (core.integrity): each check finds a row planted with raw SQL,
passes on clean data, and costs one query whatever the number of rows."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import integrity
from core.models import AuditEvent
from core.tasks import check_integrity_task
from donations import services, tallies
from tests.donations.conftest import _campaign, approve
from tests.donations.reconciliation_world import imp, person
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 22)


@pytest.fixture
def world(regency_a, branch_a, admin_a):
    """`n` participants of regency A, each with a confirmed pledge paid in full (receipt, ledger row)."""
    campaign = _campaign(regency_a, slug="lutra-peduli", title="Lutra Peduli")
    donor = UserFactory(email="donatur.integritas@example.test")
    services.donor_profile_ensure(user=donor)
    first = imp(branch_a, dt.date(2026, 11, 1))

    def make(n: int) -> list:
        pledges = []
        for _ in range(n):
            p = person(regency_a, first)
            approve(p, by=admin_a)
            reserved = services.pledge_reserve(campaign=campaign, participant=p, donor=donor)
            pledge = services.pledge_confirm(pledge=reserved, actor=donor)
            services.payment_record(pledge=pledge, actor=donor, amount=pledge.amount,
                                    reference=f"R-{pledge.pk}", paid_on=DAY)
            pledges.append(pledge)
        return pledges

    return make


def _bad(report: integrity.Report) -> dict[str, int]:
    return report.failed


def _plant(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cur:
        cur.execute(statement, params or [])


def test_clean_data_passes_every_check(world):
    world(3)
    report = integrity.run()
    assert report.ok, report.failed
    names = set(report.checks)
    # Every unconstrained foreign key is checked (found through the app registry).
    assert "orphan:participants_arrearsrecord.participant_id" in names
    assert "orphan:core_auditevent.regency_id" in names
    assert sum(name.startswith("orphan:") for name in names) >= 24
    assert {"money:ledger_waiting_negative", "money:pledge_paid_amount", "money:payment_received_rows",
            "money:handover_totals", "money:receipt_numbers"} <= names


def test_query_count_is_one_per_check_whatever_the_rows(world):
    world(1)
    with CaptureQueriesContext(connection) as small:
        one = integrity.run()
    world(19)
    with CaptureQueriesContext(connection) as large:
        twenty = integrity.run()
    assert len(small.captured_queries) == len(large.captured_queries) == len(one.checks) == len(twenty.checks)


@pytest.mark.parametrize(("check", "statement"), [
    ("orphan:participants_arrearsrecord.participant_id",
     "UPDATE participants_arrearsrecord SET participant_id = 999999999"),
    ("orphan:participants_participant.family_id", "UPDATE participants_participant SET family_id = 999999999"),
    ("orphan:participants_arrearsrecord.arrears_import_id",
     "UPDATE participants_arrearsrecord SET arrears_import_id = 999999999"),
    ("orphan:core_auditevent.regency_id", "UPDATE core_auditevent SET regency_id = 999999999"),
])
def test_an_orphan_is_found(world, check, statement):
    world(1)
    # Append-only tables refuse UPDATE: the audit trail's orphan is an INSERT.
    if check.startswith("orphan:core_auditevent"):
        statement = ("INSERT INTO core_auditevent (regency_id, verb, object_type, object_id, created_at)"
                     " VALUES (999999999, 'x', 'x', 'x', now())")
    _plant(statement)
    report = integrity.run()
    assert report.failed == {check: 1}


def test_a_participant_write_that_went_around_the_standings_triggers_is_found(world):
    world(2)
    _plant("ALTER TABLE participants_participant DISABLE TRIGGER participants_standing_update")
    _plant("UPDATE participants_participant SET months_in_arrears = months_in_arrears + 1")
    _plant("ALTER TABLE participants_participant ENABLE TRIGGER participants_standing_update")
    assert integrity.run().failed == {"copy:participants_standing": 2}


def test_a_record_of_another_regency_is_found(world, regency_b):
    world(1)
    _plant("UPDATE participants_arrearsrecord SET regency_id = %s", [regency_b.pk])
    assert integrity.run().failed == {"regency:participants_arrearsrecord.newest": 1}


def test_a_pledge_of_another_regency_than_its_campaign_is_found(world, regency_b):
    (pledge,) = world(1)
    _plant("UPDATE donations_campaign SET regency_id = %s WHERE id = %s", [regency_b.pk, pledge.campaign_id])
    failed = integrity.run().failed
    assert failed["regency:donations_pledge.campaign_id"] == 1
    assert failed["regency:donations_ledgerentry.campaign_id"] >= 1  # the pledge's ledger rows


def test_paid_amount_that_is_not_the_sum_of_payments_is_found(world):
    (pledge,) = world(1)
    _plant("UPDATE donations_pledge SET paid_amount = paid_amount + 1 WHERE id = %s", [pledge.pk])
    assert integrity.run().failed == {"money:pledge_paid_amount": 1}


def test_an_unfinished_pledge_without_its_row_or_a_finished_one_with_a_row_is_found(world):
    missing, finished = world(2)
    _plant("DELETE FROM donations_unfinishedpledge WHERE pledge_id = %s", [missing.pk])
    _plant("UPDATE donations_pledge SET status = 'verified' WHERE id = %s", [finished.pk])
    _plant("INSERT INTO donations_unfinishedpledge (pledge_id, regency_id) SELECT id, regency_id"
           " FROM donations_pledge WHERE id = %s", [finished.pk])
    assert integrity.run().failed == {"money:unfinished_pledges": 2}
    tallies.rebuild()  # the operator's repair (manage.py rebuild_pledge_tallies)
    assert integrity.run().ok


def test_a_payment_with_two_received_rows_is_found(world):
    pledge, _other = world(2)
    # The ledger is append-only: the planted fault is a second `received` row for one payment.
    _plant("INSERT INTO donations_ledgerentry (regency_id, campaign_id, kind, source, amount, pledge_id, payment_id,"
           " note, created_at) SELECT regency_id, campaign_id, kind, source, amount, pledge_id, payment_id, note, now()"
           " FROM donations_ledgerentry WHERE pledge_id = %s AND kind = 'received'", [pledge.pk])
    assert integrity.run().failed == {"money:payment_received_rows": 1}


def test_more_paid_out_than_received_is_found(world):
    (pledge,) = world(1)
    _plant("INSERT INTO donations_ledgerentry (regency_id, campaign_id, kind, source, amount, note, created_at)"
           " VALUES (%s, %s, 'refunded', 'refund', 999999999, '', now())", [pledge.regency_id, pledge.campaign_id])
    assert integrity.run().failed == {"money:ledger_waiting_negative": 1}


def test_a_gap_in_the_receipt_numbers_is_found(world):
    world(3)
    _plant("UPDATE donations_receiptcounter SET last = last + 1")
    assert integrity.run().failed == {"money:receipt_numbers": 1}


def test_a_transferred_handover_without_ledger_rows_is_found(world, admin_a):
    (pledge,) = world(1)
    _plant("INSERT INTO donations_handover (regency_id, campaign_id, number, status, families, total, reference,"
           " transferred_at, created_by_id, created_at) VALUES (%s, %s, 'H-1', 'transferred', 1, 245000, 'T', %s,"
           " %s, now())", [pledge.regency_id, pledge.campaign_id, DAY, admin_a.pk])
    assert integrity.run().failed == {"money:handover_totals": 1}


def test_command_prints_json_and_exits_by_the_result(world, capsys):
    world(1)
    call_command("check_integrity", "--json")
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["ok"] is True and set(out) == {"ok", "checks", "seconds"}
    assert not any(out["checks"].values())

    _plant("UPDATE participants_participant SET family_id = 999999999")
    with pytest.raises(SystemExit) as exit_:
        call_command("check_integrity")
    assert exit_.value.code == 1
    captured = capsys.readouterr()
    out = json.loads(captured.out.strip().splitlines()[-1])
    assert out["ok"] is False and out["checks"]["orphan:participants_participant.family_id"] == 1
    assert "orphan:participants_participant.family_id" in captured.err


def test_nightly_task_records_a_failure_for_the_operator(world):
    world(1)
    assert check_integrity_task()["ok"] is True
    assert not AuditEvent.objects.filter(verb="integrity.failed").exists()
    _plant("UPDATE participants_participant SET family_id = 999999999")
    assert check_integrity_task()["ok"] is False
    event = AuditEvent.objects.get(verb="integrity.failed")
    assert event.after["failed"] == {"orphan:participants_participant.family_id": 1}
