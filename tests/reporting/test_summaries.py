"""The summary tables follow the jobs that change the figures: the import, screening and
reconciliation in their transactions, an approval through the outbox, and the command."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import Screening
from assessments.screening import screening_done, screening_run
from assessments.services import assessment_approved
from core.models import OutboxMessage
from donations.models import (
    Audience,
    Campaign,
    CampaignStatus,
    Kind,
    Pledge,
    PledgeStatus,
    ReconciliationRun,
    ReconciliationTrigger,
)
from donations.reconciliation.services import reconcile_regency, reconciliation_done
from donations.services import payment_record
from participants.models import Participant
from reporting import figures
from reporting.models import RegencySummary
from reporting.summaries import summary_refresh
from tests.factories import UserFactory
from tests.participants.importing import line, run_import


@pytest.fixture
def listed(tmp_path, branch_a, regency_a):
    """One full list: 1-4 in arrears (1 for many months: screened), 5 active."""
    rows = [line(1, months=14), *(line(n, months=3) for n in (2, 3, 4)), line(5, months=0, status="AKTIF")]
    run_import(branch_a, tmp_path, rows, as_of=dt.date(2026, 10, 1))
    return RegencySummary.objects.for_regency(regency_a).get()


def test_the_import_refreshes_every_regency_of_its_branch(listed, regency_a, regency_a2):
    assert (listed.participants, listed.in_arrears, listed.last_list_as_of) == (5, 4, dt.date(2026, 10, 1))
    # The branch's other regency (no rows on this list) has its summary too.
    assert RegencySummary.objects.for_regency(regency_a2).get().participants == 0


def test_screening_updates_the_queue_size_in_two_statements(listed, regency_a):
    assert listed.screened == 0
    screening_run(regency=regency_a)
    summary = RegencySummary.objects.for_regency(regency_a).get()
    assert summary.screened == Screening.objects.for_regency(regency_a).count() > 0
    with CaptureQueriesContext(connection) as queries:
        screening_done.send(sender=Screening, regency_id=regency_a.pk, import_id=None)
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 4  # the regency, the lock, the count, the update


def _paid_pledge(regency, card_number: str, *, paid_on: dt.date, amount: int = 210_000) -> Pledge:
    """A donor's pledge of the participant, paid on `paid_on` (reconciliation decides it)."""
    campaign = Campaign.objects.create(regency=regency, slug=f"ringkasan-{card_number}-{paid_on:%m%d}",
                                       title="Kampanye", audience=Audience.PUBLIC, kind=Kind.ONE_TO_ONE,
                                       status=CampaignStatus.ACTIVE)
    participant = Participant.objects.for_regency(regency).get(card_number=card_number)
    donor: Any = UserFactory()
    pledge = Pledge.objects.create(
        regency=regency, campaign=campaign, participant=participant, donor=donor,
        status=PledgeStatus.PLEDGED, amount=amount, arrears_amount=participant.arrears_amount,
        months_in_arrears=participant.months_in_arrears, monthly_tariff=35_000,
    )
    payment_record(pledge=pledge, actor=donor, amount=amount, reference=f"REF-{pledge.pk}", paid_on=paid_on,
                   now=dt.datetime.combine(paid_on, dt.time(3), tzinfo=dt.UTC))
    return pledge


def _summary_is_the_full_count(regency) -> RegencySummary:
    summary = RegencySummary.objects.for_regency(regency).get()
    full = figures.list_figures(regency=regency)
    assert (summary.reactivated_by_donors, summary.reactivated_class3_by_donors) == (
        full["reactivated_by_donors"], full["reactivated_class3_by_donors"])
    return summary


def test_reconciliation_adds_what_it_verified_to_the_figures_of_pledges(listed, regency_a, tmp_path, branch_a):
    # Paid in October; the November list: 2 paid up (active), 3 still in arrears, 5 never was.
    pledges = {card: _paid_pledge(regency_a, card, paid_on=dt.date(2026, 10, 15))
               for card in ("0000000000002", "0000000000003", "0000000000005")}
    rows = [line(1, months=15), line(2, months=0, status="AKTIF"), line(3, months=4), line(4, months=4),
            line(5, months=0, status="AKTIF")]
    run_import(branch_a, tmp_path, rows, as_of=dt.date(2026, 11, 1))
    before = RegencySummary.objects.for_regency(regency_a).get()
    assert (before.reactivated, before.reactivated_by_donors) == (1, 0)

    result = reconcile_regency(regency=regency_a, trigger=ReconciliationTrigger.MANUAL, notify=False)
    assert result["verified"] == 2  # 2 and 5: no arrears on the list after the payment
    assert Pledge.objects.for_regency(regency_a).get(pk=pledges["0000000000003"].pk).status == PledgeStatus.PAID
    # Only 2: active again after a list in arrears (3 is still in arrears, 5 never was).
    summary = _summary_is_the_full_count(regency_a)
    assert (summary.reactivated_by_donors, summary.reactivated_class3_by_donors) == (1, 1)
    assert summary.refreshed_at > before.refreshed_at

    # A second donor's pledge of 2, verified by a later run, adds nobody: 2 was counted already.
    _paid_pledge(regency_a, "0000000000002", paid_on=dt.date(2026, 10, 20), amount=35_000)
    again = reconcile_regency(regency=regency_a, trigger=ReconciliationTrigger.MANUAL, notify=False)
    assert again["verified"] == 1
    summary = _summary_is_the_full_count(regency_a)
    assert (summary.reactivated_by_donors, summary.reactivated_class3_by_donors) == (1, 1)


def test_reconciliation_reads_the_pledges_not_every_participant(listed, regency_a):
    with CaptureQueriesContext(connection) as queries:
        reconciliation_done.send(sender=ReconciliationRun, regency_id=regency_a.pk, run_id=0)
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 5  # the regency, the clearing rows' mark, the lock, the donor figures, the update
    donors = statements[3]
    assert "participants_clearinghistory" in donors and "donations_pledge" in donors
    assert "participants_arrearsrecord" not in donors  # not every month of the history
    assert not any("participants_district" in sql or "reporting_districtsummary" in sql for sql in statements)


def test_reconciliation_in_a_regency_without_a_summary_makes_one(listed, regency_a):
    RegencySummary.objects.for_regency(regency_a).delete()
    reconciliation_done.send(sender=ReconciliationRun, regency_id=regency_a.pk, run_id=0)
    assert RegencySummary.objects.for_regency(regency_a).get().in_arrears == 4


def test_an_approval_queues_a_refresh_through_the_outbox(listed, regency_a):
    assessment_approved.send(sender=None, assessment_id=1, regency_id=regency_a.pk, participant_id=1, route="donor")
    message = OutboxMessage.objects.latest("pk")
    assert (message.task, message.args) == ("reporting.tasks.summary_refresh_task", [regency_a.pk])


def test_the_refresh_is_a_fixed_number_of_statements(listed, regency_a, tmp_path, branch_a):
    with CaptureQueriesContext(connection) as few:
        summary_refresh(regency=regency_a, all_months=True)
    more = [line(n, months=5) for n in range(1, 60)]
    run_import(branch_a, tmp_path, more, as_of=dt.date(2026, 11, 1))
    with CaptureQueriesContext(connection) as many:
        summary_refresh(regency=regency_a, all_months=True)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert RegencySummary.objects.for_regency(regency_a).get().in_arrears == 59


def test_refresh_summaries_command(listed, regency_a, capsys):
    RegencySummary.objects.for_regency(regency_a).update(in_arrears=0)
    call_command("refresh_summaries", "--regency", regency_a.code)
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["regencies"] == {regency_a.code: 4}
    assert RegencySummary.objects.for_regency(regency_a).get().in_arrears == 4
    with pytest.raises(CommandError) as refused:
        call_command("refresh_summaries", "--regency", "99.99")
    assert refused.value.returncode == 2
