"""Screening over a year of real imports: the clearings the apply keeps per participant give
the flags, recommendations and priorities the rules give over the whole history (clearings by a
list at zero and by absence from a full list, relapses within and after M months, clearings
below N, absence from a partial list, several clearings, a move to another regency of the
branch, an older list applied late)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from psycopg2 import sql

from assessments.models import Screening
from assessments.screening import screening_run
from participants.imports.apply import (
    clearing_history_matches_imports,
    clearing_row_behind,
    rebuild_clearing_history,
)
from participants.models import ClearingHistory, Participant
from tests.participants.importing import card, line, run_import

MONTHS = [dt.date(2026, m, 1) for m in range(1, 10)]  # 1 Jan ... 1 Sep 2026, full lists
PARTIAL = dt.date(2026, 5, 15)  # a partial list between May and June

# Per participant: months in arrears on each monthly full list (None: not on it).
PLAN: dict[int, list[int | None]] = {
    1: [3, 4, 5, 6, 7, 8, 9, 10, 11],  # steady
    2: [8, 0, 0, 4, 5, 6, 7, 8, 9],  # 8 months cleared Jan->Feb, back in Apr: relapse
    3: [6, None, None, None, None, None, None, 3, 4],  # absent Feb->Jul, back 1 Aug: exactly M
    4: [5, 6, 7, 8, 9, 10, 11, 12, 13],  # absent from the partial list only
    5: [2, 0, 5, 6, 7, 8, 9, 10, 11],  # a clearing below N
    6: [5, 0, 0, 0, 0, 0, 0, 0, 4],  # back after more than M months
    7: [4, 0, 3, 6, None, None, None, None, 5],  # two clearings, the newest one shown
    8: [9, None, 0, 0, 0, 0, 0, 0, 5],  # absence then zero: cleared by the absence
    9: [3, 4, 5, 6, 7, 8, 9, 10, None],  # left the list: cleared, not queued
    10: [None, None, None, None, None, None, None, 5, 0],  # paid: not queued
    11: [7, 0, 0, 0, 0, 0, 0, 3, 4],  # at zero from Feb, back 1 Aug: within M
    12: [5, 6, 7, 8, 0, 3, 4, 5, 6],  # moves to the other regency in May (see _line)
}
MOVED = 12


def _line(n: int, month_index: int, months: int) -> dict[str, str]:
    if n == MOVED and month_index >= 4:
        return line(n, months=months, code="73.17.01.2001", kecamatan="Belopa", desa="Tampumia")
    return line(n, months=months)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _apply_year(branch, tmp_path, *, upto: int = len(MONTHS), start: int = 0) -> None:
    """The year's lists MONTHS[start:upto] (with the partial list after May's)."""
    for i, as_of in enumerate(MONTHS[:upto]):
        if i < start:
            continue
        rows = [_line(n, i, months) for n, plan in PLAN.items() if (months := plan[i]) is not None]
        imp = run_import(branch, tmp_path, rows, as_of=as_of)
        assert imp.status == "applied", imp.status
        if as_of == dt.date(2026, 5, 1):
            # A partial list naming participant 1 only: nobody else is cleared by it.
            partial = run_import(branch, tmp_path, [line(1, months=7)], as_of=PARTIAL, mode="partial")
            assert partial.status == "applied"


def clearing_history_is_current(cur, regency_id: int) -> bool:
    """Whether the regency's clearing rows reflect its applied imports (their mark) and cover every
    participant in arrears, as screening checks them (`clearing_row_behind`)."""
    if not clearing_history_matches_imports(cur, regency_id):
        return False
    cur.execute(sql.SQL(
        "SELECT count(*) FROM {participant} p "
        "LEFT JOIN {clearing} c ON c.participant_id = p.id AND c.regency_id = p.regency_id "
        "WHERE p.regency_id = %s AND p.status <> 'cleared' AND p.months_in_arrears > 0 AND {behind}"
    ).format(participant=sql.Identifier(Participant._meta.db_table),
             clearing=sql.Identifier(ClearingHistory._meta.db_table), behind=clearing_row_behind("p", "c")),
        [regency_id])
    return cur.fetchone()[0] == 0


def _queue(regency) -> dict[int, tuple[list[dict], str, int]]:
    rows = Screening.objects.for_regency(regency).select_related("participant")
    by_card = {card(n): n for n in PLAN}
    return {by_card[s.participant.card_number]: (s.flags, s.recommendation, s.priority) for s in rows}


def _codes(entry) -> list[str]:
    return [f["code"] for f in entry[0]]


def _flag(entry, code) -> dict:
    return next(f for f in entry[0] if f["code"] == code)


def _history_rows(regency_ids) -> list[tuple]:
    return sorted(
        ClearingHistory.all_regencies.filter(regency_id__in=regency_ids).values_list(
            "participant_id", "regency_id", "last_as_of", "last_months", "last_cleared", "awaiting_next", "clearings"
        )
    )


def test_a_year_of_lists_gives_the_flags_of_the_whole_history(branch_a, regency_a, regency_a2, tmp_path):
    _apply_year(branch_a, tmp_path)
    screening_run(regency=regency_a)
    screening_run(regency=regency_a2)
    queue = _queue(regency_a)

    # Months 11, one person's family (+5), no flag.
    assert queue[1] == ([], "assess", 115)
    assert queue[4] == ([], "assess", 135)  # the partial list did not clear participant 4

    # Cleared by the list at zero of 1 Feb, in arrears again on 1 Apr (within 6 months).
    assert _codes(queue[2]) == ["pays_when_sick", "self_cleared_before"]
    sick = _flag(queue[2], "pays_when_sick")
    assert (sick["months_cleared"], sick["from"], sick["cleared"]) == (8, "2026-01-01", "2026-02-01")
    assert (sick["relapse"], sick["relapse_months"], sick["months_later"]) == ("2026-04-01", 4, 2)
    assert queue[2][1:] == ("likely_ineligible", 9 * 10 + 5 - 60 - 120)

    # Absent from the full list of 1 Feb (cleared then), back on 1 Aug: exactly M months later.
    assert _codes(queue[3]) == ["pays_when_sick", "self_cleared_before"]
    sick = _flag(queue[3], "pays_when_sick")
    assert (sick["cleared"], sick["relapse"], sick["relapse_months"]) == ("2026-02-01", "2026-08-01", 3)
    assert queue[3][1:] == ("likely_ineligible", 4 * 10 + 5 - 60 - 120)

    # 2 months cleared: below N (3), no clearing.
    assert queue[5] == ([], "assess", 115)

    # Back 7 months after the clearing: only cleared before.
    assert _codes(queue[6]) == ["self_cleared_before"]
    assert _flag(queue[6], "self_cleared_before")["cleared"] == "2026-02-01"
    assert queue[6][1:] == ("low_priority", 4 * 10 + 5 - 60)

    # Two clearings (Jan->Feb, then 6 months Apr->May by absence); the newest one and its relapse.
    assert _codes(queue[7]) == ["pays_when_sick", "self_cleared_before"]
    cleared = _flag(queue[7], "self_cleared_before")
    assert (cleared["months_cleared"], cleared["from"], cleared["cleared"]) == (6, "2026-04-01", "2026-05-01")
    sick = _flag(queue[7], "pays_when_sick")
    assert (sick["from"], sick["relapse"], sick["relapse_months"]) == ("2026-04-01", "2026-09-01", 5)
    assert queue[7][1:] == ("likely_ineligible", 5 * 10 + 5 - 60 - 120)

    # Absent on 1 Feb, then at zero: cleared by the absence; back on 1 Sep, 7 months later.
    assert _codes(queue[8]) == ["self_cleared_before"]
    cleared = _flag(queue[8], "self_cleared_before")
    assert (cleared["months_cleared"], cleared["from"], cleared["cleared"]) == (9, "2026-01-01", "2026-02-01")
    assert queue[8][1:] == ("low_priority", 5 * 10 + 5 - 60)

    # Left the list, paid: not in the queue.
    assert 9 not in queue and 10 not in queue

    # At zero from 1 Feb to 1 Jul, back 1 Aug: 6 months after 1 Feb, within M.
    assert _codes(queue[11]) == ["pays_when_sick", "self_cleared_before"]
    assert _flag(queue[11], "pays_when_sick")["relapse"] == "2026-08-01"

    # Moved to Luwu at zero in May: its history there has no clearing; Luwu Utara's clearing
    # (absent from its part of the full list) stays with Luwu Utara.
    assert 12 not in queue
    assert _queue(regency_a2) == {12: ([], "assess", 65)}


def test_the_apply_keeps_what_a_rebuild_from_the_history_gives(branch_a, regency_a, regency_a2, tmp_path):
    _apply_year(branch_a, tmp_path)
    regs = [regency_a.pk, regency_a2.pk]
    kept = _history_rows(regs)
    assert len(kept) == len(PLAN) + 1  # participant 12 in both regencies
    with connection.cursor() as cur:
        assert clearing_history_is_current(cur, regency_a.pk)
        rebuild_clearing_history(cur, regs)
    assert _history_rows(regs) == kept
    p7 = Participant.objects.for_regency(regency_a).get(card_number=card(7))
    assert ClearingHistory.objects.for_regency(regency_a).get(participant=p7).clearings == [
        {"from": "2026-01-01", "months": 4, "cleared": "2026-02-01", "next": "2026-03-01", "next_months": 3},
        {"from": "2026-04-01", "months": 6, "cleared": "2026-05-01", "next": "2026-09-01", "next_months": 5},
    ]


def test_an_older_full_list_applied_late_is_a_clearing_too(branch_a, regency_a, tmp_path):
    _apply_year(branch_a, tmp_path, upto=4)
    # A full list of 15 Feb without participant 1, applied after April's: the history now has
    # participant 1 absent between 1 Feb and 1 Mar.
    rows = [line(n, months=months) for n, plan in PLAN.items() if n != 1 and (months := plan[1]) is not None]
    late = run_import(branch_a, tmp_path, rows, as_of=dt.date(2026, 2, 15))
    assert late.status == "applied" and late.is_outdated
    screening_run(regency=regency_a)
    entry = _queue(regency_a)[1]
    assert _codes(entry) == ["pays_when_sick", "self_cleared_before"]
    sick = _flag(entry, "pays_when_sick")
    assert (sick["from"], sick["cleared"], sick["relapse"]) == ("2026-02-01", "2026-02-15", "2026-03-01")


def test_records_written_outside_the_apply_are_read_from_the_history(branch_a, regency_a, tmp_path):
    _apply_year(branch_a, tmp_path, upto=3)
    ClearingHistory.all_regencies.filter(regency=regency_a).delete()
    with connection.cursor() as cur:
        assert not clearing_history_is_current(cur, regency_a.pk)
    screening_run(regency=regency_a)
    assert _codes(_queue(regency_a)[7]) == ["pays_when_sick", "self_cleared_before"]
    with connection.cursor() as cur:
        assert clearing_history_is_current(cur, regency_a.pk)


def test_a_clearing_row_behind_its_participant_is_made_again_before_the_queue_is_written(
        branch_a, regency_a, tmp_path):
    # The imports' mark still matches, so only screening's own statement can see that one
    # participant's row was not kept: it writes nothing, the rows are made again, then it runs.
    _apply_year(branch_a, tmp_path, upto=3)
    screening_run(regency=regency_a)
    before = _queue(regency_a)
    p7 = Participant.objects.for_regency(regency_a).get(card_number=card(7))
    ClearingHistory.objects.for_regency(regency_a).filter(participant=p7).update(
        last_as_of=MONTHS[0], clearings=[])
    Screening.objects.for_regency(regency_a).filter(participant=p7).update(inputs_hash=None, flags=[])
    with connection.cursor() as cur:
        assert not clearing_history_is_current(cur, regency_a.pk)
    summary = screening_run(regency=regency_a)
    assert _codes(_queue(regency_a)[7]) == ["pays_when_sick", "self_cleared_before"]
    assert _queue(regency_a) == before
    assert (summary["computed"], summary["removed"]) == (1, 0)
    with connection.cursor() as cur:
        assert clearing_history_is_current(cur, regency_a.pk)
