"""The queue's rank over monthly lists: a participant one month further in arrears keeps the entry
screening wrote (no row rewritten), while the queue's order and each entry's priority follow the
months of the newest list, past the 24 months billed too (there the rank alone is rewritten)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from assessments import selectors
from assessments.models import Screening
from assessments.screening import screening_run
from assessments.selectors import QueueFilters
from tests.participants.importing import card, line, run_import

MONTHS = [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)]
FAMILY = "7322010101299999"
# Per participant: (family card or None, months in arrears on each monthly list).
PLAN: dict[int, tuple[str | None, list[int]]] = {
    1: (None, [30, 31, 32]),  # past the 24 billed: priority 24 * 10 + 5, all year
    2: (FAMILY, [22, 23, 24]),  # a family of two: 22 -> 24 months, overtakes 1 in March
    3: (FAMILY, [5, 6, 7]),
    4: (None, [5, 6, 7]),
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _list(branch, tmp_path, month_index: int) -> None:
    rows = []
    for n, (kk, months) in PLAN.items():
        m = months[month_index]
        rows.append(line(n, months=m, kk=kk, amount=35_000 * min(m, 24)))
    imp = run_import(branch, tmp_path, rows, as_of=MONTHS[month_index])
    assert imp.status == "applied", imp.status


def _by_card(regency) -> dict[int, Screening]:
    numbers = {card(n): n for n in PLAN}
    rows = Screening.objects.for_regency(regency).select_related("participant")
    return {numbers[s.participant.card_number]: s for s in rows}


def _queue(regency, user) -> list[int]:
    numbers = {card(n): n for n in PLAN}
    entries = selectors.queue(regency=regency, user=user, filters=QueueFilters(status="all"))
    return [numbers[s.participant.card_number] for s in entries.select_related("participant")]


def test_a_month_further_in_arrears_keeps_the_entry_and_the_order_follows(
        branch_a, regency_a, assessor_a, tmp_path):
    _list(branch_a, tmp_path, 0)
    assert screening_run(regency=regency_a)["changed"] == 4
    first = _by_card(regency_a)
    assert {n: s.priority for n, s in first.items()} == {1: 245, 2: 230, 3: 60, 4: 55}
    assert _queue(regency_a, assessor_a) == [1, 2, 3, 4]

    _list(branch_a, tmp_path, 1)
    # Only the entry past the 24 months billed is written again: its rank falls behind the
    # arrears still growing, whose ranks stay. Its rank alone: nothing of it is computed again.
    summary = screening_run(regency=regency_a)
    assert (summary["changed"], summary["computed"]) == (1, 0)
    second = _by_card(regency_a)
    assert {n: s.priority for n, s in second.items()} == {1: 245, 2: 240, 3: 70, 4: 65}
    for n in (2, 3, 4):
        assert (second[n].computed_at, second[n].arrears_import_id, second[n].queue_rank) == (
            first[n].computed_at, first[n].arrears_import_id, first[n].queue_rank)
    assert second[1].queue_rank == first[1].queue_rank - 10
    assert second[1].arrears_import_id != first[1].arrears_import_id
    assert _queue(regency_a, assessor_a) == [1, 2, 3, 4]

    _list(branch_a, tmp_path, 2)
    # 1's rank moves again; 2 reaches the 24 months billed: computed once (its rank is what the
    # months gave it, so its result stays).
    summary = screening_run(regency=regency_a)
    assert (summary["changed"], summary["computed"]) == (1, 1)
    third = _by_card(regency_a)
    # 24 months for the family's 2 (240 + 10 for the family) now come before 1's 245.
    assert {n: s.priority for n, s in third.items()} == {1: 245, 2: 250, 3: 80, 4: 75}
    assert _queue(regency_a, assessor_a) == [2, 1, 3, 4]
    assert third[2].computed_at == first[2].computed_at


def test_the_same_list_again_rewrites_nothing_and_a_correction_rewrites_its_entry(
        branch_a, regency_a, assessor_a, tmp_path):
    _list(branch_a, tmp_path, 0)
    screening_run(regency=regency_a)
    assert screening_run(regency=regency_a)["changed"] == 0
    # A list of the same month with participant 4's arrears one month longer: the month did not
    # move on, so the longer arrears are a new priority, written and ranked.
    rows = [line(n, months=m + (n == 4), kk=kk, amount=35_000 * min(m + (n == 4), 24))
            for n, (kk, months) in PLAN.items() for m in [months[0]]]
    imp = run_import(branch_a, tmp_path, rows, as_of=MONTHS[0] + dt.timedelta(days=10), name="koreksi.csv")
    assert imp.status == "applied"
    assert screening_run(regency=regency_a)["changed"] == 1
    assert _by_card(regency_a)[4].priority == 65
    assert _queue(regency_a, assessor_a) == [1, 2, 4, 3]


@pytest.mark.django_db
def test_the_queue_and_the_clearing_histories_leave_room_on_their_pages():
    """Half of each page free (fillfactor 50), so that the new version of an entry (or a history
    row) that a month's list rewrites goes on the old one's page, and a regency's rows stay on the
    pages they were first written to, not wherever a vacuum freed room (bench/README.md)."""
    with connection.cursor() as cur:
        cur.execute("SELECT relname, reloptions FROM pg_class WHERE relname IN %s ORDER BY relname",
                    [("assessments_screening", "participants_clearinghistory")])
        assert cur.fetchall() == [("assessments_screening", ["fillfactor=50"]),
                                  ("participants_clearinghistory", ["fillfactor=50"])]
