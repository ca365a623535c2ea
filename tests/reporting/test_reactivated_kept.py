"""`reactivated` reads "once in arrears" from what the import keeps (`ClearingHistory.once_in_arrears`)
and gives, list after list, the figures the whole history gives (`record_in_arrears_q` over every
ArrearsRecord of the regency): clearings by a list at zero and by absence from a full list, a
relapse, a partial list, a participant who moved between the branch's regencies, a record in
arrears at zero months and one active with months, an older list applied late, and records made
by factories (not by the apply). The figures no longer read the history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from participants.imports.apply import rebuild_clearing_history
from participants.models import (
    ArrearsRecord,
    ClearingHistory,
    ImportStatus,
    Participant,
    ParticipantStatus,
)
from participants.selectors import (
    in_arrears_q,
    left_otherwise_q,
    reactivated_q,
    record_in_arrears_q,
)
from reporting import figures
from reporting.summaries import summary_refresh
from tests.factories import ArrearsImportFactory, ParticipantFactory
from tests.participants.importing import card, line, run_import

MONTHS = [dt.date(2026, m, 1) for m in range(1, 7)]  # 1 Jan ... 1 Jun 2026, full lists
PARTIAL = dt.date(2026, 3, 15)  # a partial list naming participant 1 only
LATE = dt.date(2026, 2, 15)  # a full list applied after June's

ACT, OWE = "AKTIF", "TIDAK AKTIF"
# Per participant: (status, months) on each monthly full list (None: not on it).
PLAN: dict[int, list[tuple[str, int] | None]] = {
    1: [(OWE, 3), (OWE, 4), (OWE, 5), (OWE, 6), (OWE, 7), (OWE, 8)],  # steady in arrears
    2: [(OWE, 6), (ACT, 0), (ACT, 0), (ACT, 0), (ACT, 0), (ACT, 0)],  # paid in February: reactivated
    3: [(OWE, 5), (OWE, 6), None, None, None, None],  # absent from the full lists: cleared, reactivated
    4: [(ACT, 0), (ACT, 0), (ACT, 0), (ACT, 0), (ACT, 0), (ACT, 0)],  # never in arrears (until a factory record)
    5: [(OWE, 4), (ACT, 0), (ACT, 0), (OWE, 2), (OWE, 3), (OWE, 4)],  # relapse: in arrears again
    6: [(OWE, 4), (OWE, 5), (ACT, 0), (ACT, 0), (ACT, 0), (ACT, 0)],  # moves to Luwu in April (see _line), active
    7: [(ACT, 3), (ACT, 3), (ACT, 0), (ACT, 0), (ACT, 0), (ACT, 0)],  # months owed but listed active: never in arrears
    8: [(OWE, 0), (ACT, 0), (ACT, 0), (ACT, 0), (ACT, 0), (ACT, 0)],  # listed not active at zero months: once in arrears
    9: [None, None, (OWE, 3), (OWE, 4), (OWE, 5), (ACT, 0)],  # new in March, moves to Luwu in May in arrears, then pays
    10: [(ACT, 0), (ACT, 0), (ACT, 0), (ACT, 0), (ACT, 0), (ACT, 0)],  # in arrears only on the late list of 15 Feb
    11: [(OWE, 2), (OWE, 3), (OWE, 4), (OWE, 5), (OWE, 6), (OWE, 7)],  # participant 2's family: still in arrears
    12: [(OWE, 9), (OWE, 9), (ACT, 0), (ACT, 0), (ACT, 0), (ACT, 0)],  # participant 4's family, in Sabbang
}
FAMILY = {11: 2, 12: 4}  # member -> the participant whose family (KK) it shares
SABBANG = {4, 12}
MOVES = {6: 3, 9: 4}  # participant -> the month index from which its line is Luwu's (73.17)


def _line(n: int, month_index: int, status: str, months: int) -> dict[str, str]:
    kk = f"73220101012{FAMILY.get(n, n):05d}"
    if month_index >= MOVES.get(n, len(MONTHS)):
        return line(n, months=months, status=status, kk=kk, code="73.17.01.2001", kecamatan="Belopa",
                    desa="Tampumia")
    if n in SABBANG:
        return line(n, months=months, status=status, kk=kk, code="73.22.02.2001", kecamatan="Sabbang",
                    desa="Dandang")
    return line(n, months=months, status=status, kk=kk)


def _rows(month_index: int, *, without: set[int] = frozenset()) -> list[dict[str, str]]:  # type: ignore[assignment]
    return [
        _line(n, month_index, *entry) for n, plan in PLAN.items()
        if n not in without and (entry := plan[month_index]) is not None
    ]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _from_the_history(*, regency: Any) -> Q:
    """The definition as it read the history: some ArrearsRecord of the regency listed not active."""
    once_in_arrears = ArrearsRecord.objects.for_regency(regency).filter(record_in_arrears_q()).values("participant_id")
    return ~in_arrears_q() & Q(pk__in=once_in_arrears) & ~left_otherwise_q()


def _figures(regency) -> tuple:
    return (
        figures.list_figures(regency=regency),
        figures.families_reactivated(regency=regency),
        figures.district_figures(regency=regency),
        figures.reactivated(regency=regency),
    )


def _assert_as_the_history_says(monkeypatch, *regencies) -> dict[str, tuple]:
    kept = {r.code: _figures(r) for r in regencies}
    with monkeypatch.context() as m:
        m.setattr(figures, "reactivated_q", _from_the_history)
        history = {r.code: _figures(r) for r in regencies}
    assert kept == history
    return kept


def _reactivated_cards(regency) -> set[int]:
    rows = Participant.objects.for_regency(regency).filter(reactivated_q(regency=regency))
    return {int(p.card_number) for p in rows}


def _flags(regency_ids) -> list[tuple]:
    return sorted(
        ClearingHistory.all_regencies.filter(regency_id__in=regency_ids, once_in_arrears=True)
        .values_list("participant_id", "regency_id")
    )


def test_list_after_list_the_kept_flag_gives_the_figures_of_the_history(
    monkeypatch, branch_a, regency_a, regency_a2, tmp_path,
):
    for i, as_of in enumerate(MONTHS):
        imp = run_import(branch_a, tmp_path, _rows(i), as_of=as_of)
        assert imp.status == "applied", imp.status
        if as_of == dt.date(2026, 3, 1):
            # Participant 1 only, in arrears: nobody else is cleared or reactivated by it.
            partial = run_import(branch_a, tmp_path, [_line(1, i, OWE, 6)], as_of=PARTIAL, mode="partial")
            assert partial.status == "applied"
        _assert_as_the_history_says(monkeypatch, regency_a, regency_a2)

    # What the lists say, in each regency (a participant counts where it is now).
    assert _reactivated_cards(regency_a) == {2, 3, 8, 12}
    assert _reactivated_cards(regency_a2) == {9}  # 6 moved active: never in arrears in Luwu
    kept = _assert_as_the_history_says(monkeypatch, regency_a, regency_a2)
    luwu_utara = kept[regency_a.code]
    assert luwu_utara[0]["reactivated"] == luwu_utara[3] == 4
    assert luwu_utara[1] == 3  # 3's, 8's and 12's (with 4, never in arrears); not 2's (11 owes)
    assert {row["district__name"]: row["reactivated"] for row in luwu_utara[2]} == {"Masamba": 3, "Sabbang": 1}

    # What the apply kept is what a rebuild from the whole history gives.
    regs = [regency_a.pk, regency_a2.pk]
    applied = _flags(regs)
    with connection.cursor() as cur:
        rebuild_clearing_history(cur, regs)
    assert _flags(regs) == applied

    # An older full list applied late (rebuilt from the history): 10 listed in arrears on 15 Feb, 3
    # not on it (already cleared on 1 Mar, it changes nothing for 3).
    late_rows = [*_rows(1, without={3, 10}), _line(10, 1, OWE, 2)]
    late = run_import(branch_a, tmp_path, late_rows, as_of=LATE, name="late.csv")
    assert late.status == "applied" and late.is_outdated
    assert _reactivated_cards(regency_a) == {2, 3, 8, 10, 12}
    _assert_as_the_history_says(monkeypatch, regency_a, regency_a2)


def test_records_made_by_factories_count_as_the_history_says(monkeypatch, branch_a, regency_a, regency_a2, tmp_path):
    for i, as_of in enumerate(MONTHS[:3]):
        run_import(branch_a, tmp_path, _rows(i), as_of=as_of)
    assert _reactivated_cards(regency_a) == {2, 3, 5, 6, 8, 12}  # 5 relapses in April
    # A list the apply never saw: participant 4 (never in arrears) listed not active on it, and a
    # participant made by a factory, active now, in arrears on that list.
    outside = ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLIED, as_of=dt.date(2026, 3, 20))
    four = Participant.objects.for_regency(regency_a).get(card_number=card(4))
    made = ParticipantFactory(regency=regency_a, status=ParticipantStatus.ACTIVE, months_in_arrears=0)
    for n, participant in enumerate((four, made), start=1):
        ArrearsRecord.objects.create(
            regency=regency_a, arrears_import=outside, participant=participant, as_of=outside.as_of,
            row_number=n, months_in_arrears=3, arrears_amount=105_000, bpjs_status="inactive",
            care_class=participant.care_class, segment=participant.segment,
        )
    kept = _assert_as_the_history_says(monkeypatch, regency_a, regency_a2)
    assert kept[regency_a.code][0]["reactivated"] == 8
    assert _reactivated_cards(regency_a) == {2, 3, 4, 5, 6, 8, 12, int(str(made.card_number))}
    # The summary (the dashboards' figures) too, and the next list keeps it from there.
    assert summary_refresh(regency=regency_a).reactivated == 8
    run_import(branch_a, tmp_path, _rows(3), as_of=MONTHS[3])
    _assert_as_the_history_says(monkeypatch, regency_a, regency_a2)


def test_the_figures_do_not_read_the_history(branch_a, regency_a, tmp_path):
    for i, as_of in enumerate(MONTHS[:2]):
        run_import(branch_a, tmp_path, _rows(i), as_of=as_of)
    history = ArrearsRecord._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        _figures(regency_a)
        summary_refresh(regency=regency_a)
    read = [q["sql"] for q in queries.captured_queries if history in q["sql"]]
    # Only the trend's counts of one list month (`_trend_refresh`, not run here) may name it.
    assert read == []
