"""Screening computes only the entries whose inputs changed (`Screening.inputs_hash`), and what it
leaves as it was is what computing everything again gives."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from assessments import screening
from assessments.models import Screening, ScreeningSettings
from assessments.screening import FLAG_BITS, screening_run
from participants.models import Participant
from tests.assessments.conftest import d, family
from tests.assessments.test_screening_history import MONTHS, _apply_year


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _entries(regency) -> dict[int, tuple]:
    """What a reader of the queue sees of each entry, and its flag bits."""
    return {
        s.participant_id: (s.flags, s.recommendation, s.priority_base, s.queue_rank, s.family_size, s.flag_bits)
        for s in Screening.objects.for_regency(regency)
    }


def _computed_afresh(regency) -> dict[int, tuple]:
    """The entries as a screening that computes every one of them gives (rolled back)."""
    with transaction.atomic():
        Screening.objects.for_regency(regency).update(inputs_hash=None)
        summary = screening_run(regency=regency)
        assert summary["computed"] == summary["screened"]
        entries = _entries(regency)
        transaction.set_rollback(True)
    return entries


def _row_versions(regency) -> dict[int, str]:
    with connection.cursor() as cur:
        cur.execute("SELECT participant_id, xmin::text FROM assessments_screening WHERE regency_id = %s",
                    [regency.pk])
        return dict(cur.fetchall())


def test_each_month_the_entries_left_as_they_were_are_what_computing_all_gives(
        branch_a, regency_a, regency_a2, tmp_path):
    computed_by_month = []
    for month in range(1, len(MONTHS) + 1):
        _apply_year(branch_a, tmp_path, start=month - 1, upto=month)  # this month's list alone
        for regency in (regency_a, regency_a2):
            summary = screening_run(regency=regency)
            if regency == regency_a:
                computed_by_month.append((summary["computed"], summary["screened"]))
            assert _entries(regency) == _computed_afresh(regency), (month, regency.code)
    # Month 1 computes every entry; later months only those whose inputs changed (a steady debtor
    # one month further in arrears is left alone), which some months are none.
    first, *later = computed_by_month
    assert first[0] == first[1] > 0
    assert sum(computed for computed, _screened in later) < sum(screened for _computed, screened in later) / 2
    assert any(computed for computed, _screened in later)


def test_a_second_screening_with_nothing_changed_computes_and_writes_nothing(
        branch_a, regency_a, regency_a2, tmp_path):
    _apply_year(branch_a, tmp_path)
    first = screening_run(regency=regency_a)
    versions = _row_versions(regency_a)
    again = screening_run(regency=regency_a)
    assert (again["computed"], again["changed"], again["removed"]) == (0, 0, 0)
    assert _row_versions(regency_a) == versions
    # The counts of the entries left alone come from their bits: the same as the first run's.
    assert (again["flags"], again["recommendations"], again["screened"]) == (
        first["flags"], first["recommendations"], first["screened"])
    for flags, *_rest, bits in _entries(regency_a).values():
        assert bits == sum(FLAG_BITS[code] for code in (f["code"] for f in flags))


def test_the_entry_of_a_participant_who_left_is_removed_without_making_the_clearing_rows_again(
        history_a, regency_a, monkeypatch):
    """The entries of nobody in arrears are found in the same pass as the participants in arrears;
    having no clearing row, they are no sign that the clearing rows fell behind."""
    stays = history_a.participant(regency_a, [(d("2026-09-01"), 7)])
    gone = history_a.participant(regency_a, [(d("2026-09-01"), 7)])
    screening_run(regency=regency_a)
    rebuilt: list = []
    monkeypatch.setattr(screening, "rebuild_clearing_history", lambda cursor, regency_ids: rebuilt.append(regency_ids))
    Participant.objects.for_regency(regency_a).filter(pk=gone.pk).update(months_in_arrears=0, status="cleared")
    summary = screening_run(regency=regency_a)
    assert (summary["removed"], rebuilt) == (1, [])
    assert list(Screening.objects.for_regency(regency_a).values_list("participant_id", flat=True)) == [stays.pk]


def test_a_change_the_import_did_not_make_is_computed(history_a, regency_a):
    home = family(regency_a)
    steady = history_a.participant(regency_a, [(d("2026-09-01"), 7)], family=home)
    relative = history_a.participant(regency_a, [(d("2026-09-01"), 5)], family=home)
    other = history_a.participant(regency_a, [(d("2026-09-01"), 9)])
    screening_run(regency=regency_a)
    assert _entries(regency_a)[steady.pk][0] == []

    # The relative paid (their row, not the steady one's, changed): the family is partly covered.
    Participant.objects.for_regency(regency_a).filter(pk=relative.pk).update(months_in_arrears=0, status="active")
    # A care class corrected by hand.
    Participant.objects.for_regency(regency_a).filter(pk=other.pk).update(care_class=1)
    summary = screening_run(regency=regency_a)
    assert (summary["computed"], summary["removed"]) == (2, 1)
    entries = _entries(regency_a)
    assert [f["code"] for f in entries[steady.pk][0]] == ["family_partly_covered"]
    assert [f["code"] for f in entries[other.pk][0]] == ["higher_class"]
    assert entries == _computed_afresh(regency_a)


def test_new_thresholds_or_new_rules_compute_every_entry(history_a, regency_a, monkeypatch):
    short = history_a.participant(regency_a, [(d("2026-09-01"), 4)])
    history_a.participant(regency_a, [(d("2026-09-01"), 9)])
    screening_run(regency=regency_a)
    assert _entries(regency_a)[short.pk][0] == []

    ScreeningSettings.objects.create(regency=regency_a, short_arrears_months=5)
    summary = screening_run(regency=regency_a)
    assert summary["computed"] == 2
    assert [f["code"] for f in _entries(regency_a)[short.pk][0]] == ["short_arrears"]

    assert screening_run(regency=regency_a)["computed"] == 0
    monkeypatch.setattr(screening, "FORMULA", screening.FORMULA + 1)
    assert screening_run(regency=regency_a)["computed"] == 2


def test_an_entry_moved_from_another_regency_is_computed_for_this_one(history_a, regency_a, regency_a2):
    p = history_a.participant(regency_a, [(d("2026-09-01"), 7)])
    screening_run(regency=regency_a)
    # The participant moved, inputs unchanged: the entry carries the old regency's hash.
    Participant.all_regencies.filter(pk=p.pk).update(regency=regency_a2)
    summary = screening_run(regency=regency_a2)
    assert (summary["computed"], summary["screened"]) == (1, 1)
    assert list(Screening.objects.for_regency(regency_a2).values_list("participant_id", flat=True)) == [p.pk]
    assert screening_run(regency=regency_a)["removed"] == 0  # already moved by the upsert


def test_one_more_month_on_the_next_list_ends_the_short_arrears(history_a, regency_a):
    from participants.models import ArrearsRecord

    p = history_a.participant(regency_a, [(d("2026-09-01"), 2)])
    screening_run(regency=regency_a)
    entry = Screening.objects.for_regency(regency_a).get(participant=p)
    assert [f["code"] for f in entry.flags] == ["short_arrears"]
    rank = entry.queue_rank

    # The next month's list: three months, one more for one month later. The rank (counted from the
    # list's month) stays; the short arrears end.
    october = history_a.import_on(d("2026-10-01"))
    ArrearsRecord.objects.create(
        regency=regency_a, arrears_import=october, participant=p, as_of=october.as_of, row_number=2,
        months_in_arrears=3, arrears_amount=3 * 35000, bpjs_status="inactive", care_class=3, segment="PBPU")
    Participant.objects.for_regency(regency_a).filter(pk=p.pk).update(months_in_arrears=3, as_of=october.as_of)
    assert screening_run(regency=regency_a)["computed"] == 1
    entry.refresh_from_db()
    assert (entry.flags, entry.queue_rank, entry.flag_bits) == ([], rank + 50, 0)


def test_the_integrity_check_finds_flag_bits_that_differ_from_the_flags(history_a, regency_a):
    from core import integrity

    check = "copy:assessments_screening.flag_bits"
    short = history_a.participant(regency_a, [(d("2026-09-01"), 2)])
    history_a.participant(regency_a, [(d("2026-09-01"), 9)], care_class=1)
    screening_run(regency=regency_a)
    assert integrity.run(only=[check]).failed == {}

    # Flags edited around the screening: the bits no longer say what the entry carries.
    Screening.objects.for_regency(regency_a).filter(participant=short).update(flags=[])
    assert integrity.run(only=[check]).failed == {check: 1}
    # What the check's description says to do: the next screening computes the entry again.
    Screening.objects.for_regency(regency_a).filter(participant=short).update(inputs_hash=None)
    assert screening_run(regency=regency_a)["computed"] == 1
    assert integrity.run(only=[check]).failed == {}
    assert _entries(regency_a)[short.pk][0][0]["code"] == "short_arrears"
