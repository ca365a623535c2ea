"""Screening flags on constructed import histories."""

from __future__ import annotations

from assessments.flags import flag_reason
from assessments.models import Screening, ScreeningSettings
from assessments.screening import screening_run, screening_run_for_import
from tests.assessments.conftest import d, family


def _screen(regency, participant):
    screening_run(regency=regency)
    return Screening.objects.for_regency(regency).get(participant=participant)


def _codes(s):
    return [f["code"] for f in s.flags]


def _flag(s, code):
    """The stored flag with the sentence it is shown with (Indonesian, the tests' language)."""
    flag = next(f for f in s.flags if f["code"] == code)
    assert "reason" not in flag  # made when shown, in the reader's language
    return {**flag, "reason": flag_reason(flag)}


def test_steady_arrears_has_no_flags(history_a, regency_a):
    p = history_a.participant(
        regency_a, [(d("2026-03-01"), 5), (d("2026-06-01"), 8), (d("2026-09-01"), 11)]
    )
    s = _screen(regency_a, p)
    assert s.flags == []
    assert s.recommendation == "assess"
    assert s.family_size == 1


def test_steady_payer_is_not_queued_and_a_new_debtor_has_no_flags(history_a, regency_a):
    payer = history_a.participant(regency_a, [(d("2026-03-01"), 0), (d("2026-06-01"), 0)])
    newcomer = history_a.participant(
        regency_a, [(d("2026-03-01"), 0), (d("2026-06-01"), 0), (d("2026-09-01"), 4)]
    )
    screening_run(regency=regency_a)
    assert not Screening.objects.for_regency(regency_a).filter(participant=payer).exists()
    assert Screening.objects.for_regency(regency_a).get(participant=newcomer).flags == []


def test_self_cleared_before(history_a, regency_a):
    p = history_a.participant(
        regency_a, [(d("2026-03-01"), 8), (d("2026-06-01"), 0), (d("2027-03-01"), 9)]
    )
    s = _screen(regency_a, p)
    assert _codes(s) == ["self_cleared_before"]
    flag = _flag(s, "self_cleared_before")
    assert flag["reason"] == "Tunggakan 8 bulan lunas sendiri antara 1 Maret 2026 dan 1 Juni 2026"
    assert flag["months_cleared"] == 8
    assert s.recommendation == "low_priority"


def test_pays_when_sick(history_a, regency_a):
    p = history_a.participant(
        regency_a, [(d("2026-03-01"), 8), (d("2026-06-01"), 0), (d("2026-09-01"), 3)]
    )
    s = _screen(regency_a, p)
    assert set(_codes(s)) == {"pays_when_sick", "self_cleared_before"}
    assert _flag(s, "pays_when_sick")["reason"] == (
        "Tunggakan 8 bulan lunas sendiri antara 1 Maret 2026 dan 1 Juni 2026, "
        "lalu menunggak lagi 3 bulan kemudian"
    )
    assert s.recommendation == "likely_ineligible"


def test_absence_from_a_full_import_counts_as_clearing(history_a, regency_a):
    p = history_a.participant(
        regency_a, [(d("2026-03-01"), 6), (d("2026-04-01"), None), (d("2026-07-01"), 2)]
    )
    s = _screen(regency_a, p)
    assert "pays_when_sick" in _codes(s)
    assert "antara 1 Maret 2026 dan 1 April 2026" in _flag(s, "pays_when_sick")["reason"]


def test_absence_from_a_partial_import_is_not_a_clearing(history_a, regency_a):
    p = history_a.participant(regency_a, [(d("2026-03-01"), 6)])
    history_a.import_on(d("2026-04-01"), mode="partial")
    history_a.participant(regency_a, [(d("2026-04-01"), 2)], mode="partial")
    s = _screen(regency_a, p)
    assert s.flags == []


def test_small_clearing_below_n_is_not_flagged(history_a, regency_a):
    p = history_a.participant(
        regency_a, [(d("2026-03-01"), 2), (d("2026-04-01"), 0), (d("2026-09-01"), 5)]
    )
    assert _screen(regency_a, p).flags == []


def test_relapse_after_m_months_is_only_self_cleared(history_a, regency_a):
    p = history_a.participant(
        regency_a, [(d("2026-01-01"), 4), (d("2026-02-01"), 0), (d("2026-09-01"), 7)]
    )
    assert _codes(_screen(regency_a, p)) == ["self_cleared_before"]


def test_short_arrears_and_higher_class(history_a, regency_a):
    p = history_a.participant(regency_a, [(d("2026-09-01"), 2)], care_class=2)
    s = _screen(regency_a, p)
    assert set(_codes(s)) == {"short_arrears", "higher_class"}
    assert _flag(s, "short_arrears")["reason"] == "Baru menunggak 2 bulan (kurang dari 3 bulan)"
    assert _flag(s, "higher_class")["reason"].startswith("Kelas II")
    assert s.recommendation == "low_priority"


def test_family_partly_covered_and_priority(history_a, regency_a):
    fam = family(regency_a)
    a = history_a.participant(regency_a, [(d("2026-09-01"), 10)], family=fam)
    history_a.participant(regency_a, [(d("2026-09-01"), 10)], family=fam)
    history_a.participant(regency_a, [(d("2026-09-01"), 0)], family=fam)
    single = history_a.participant(regency_a, [(d("2026-09-01"), 10)])
    screening_run(regency=regency_a)
    s = Screening.objects.for_regency(regency_a).get(participant=a)
    assert _codes(s) == ["family_partly_covered"]
    assert _flag(s, "family_partly_covered")["reason"] == "1 dari 3 anggota keluarga tidak menunggak"
    assert s.family_size == 3
    assert s.priority > Screening.objects.for_regency(regency_a).get(participant=single).priority


def test_thresholds_are_per_regency(history_a, history_b, regency_a, regency_b):
    points = [(d("2026-03-01"), 4), (d("2026-05-01"), 0), (d("2026-08-01"), 4)]
    pa = history_a.participant(regency_a, points)
    pb = history_b.participant(regency_b, points)
    ScreeningSettings.objects.create(
        regency=regency_b, cleared_min_months=6, relapse_within_months=2, short_arrears_months=5
    )
    sa = _screen(regency_a, pa)
    sb = _screen(regency_b, pb)
    assert set(_codes(sa)) == {"pays_when_sick", "self_cleared_before"}
    assert _codes(sb) == ["short_arrears"]
    assert _flag(sb, "short_arrears")["reason"] == "Baru menunggak 4 bulan (kurang dari 5 bulan)"


def test_rerun_is_idempotent_keeps_assignment_and_prunes_cleared(history_a, regency_a, assessor_a):
    p = history_a.participant(regency_a, [(d("2026-09-01"), 7)])
    gone = history_a.participant(regency_a, [(d("2026-09-01"), 7)])
    first = screening_run(regency=regency_a)
    assert first["screened"] == 2
    Screening.objects.for_regency(regency_a).filter(participant=p).update(assigned_to=assessor_a)
    gone.status = "cleared"
    gone.months_in_arrears = 0
    gone.save()
    second = screening_run(regency=regency_a)
    assert second["removed"] == 1
    rows = list(Screening.objects.for_regency(regency_a).all())
    assert [r.participant_id for r in rows] == [p.pk]
    assert rows[0].assigned_to == assessor_a


def test_screening_for_import_covers_every_regency_of_the_branch(history_a, regency_a, regency_a2):
    pa = history_a.participant(regency_a, [(d("2026-09-01"), 7)])
    pa2 = history_a.participant(regency_a2, [(d("2026-09-01"), 7)])
    imp = history_a.import_on(d("2026-09-01"))
    result = screening_run_for_import(import_id=imp.pk)
    assert set(result["regencies"]) == {"73.22", "73.17"}
    assert Screening.objects.for_regency(regency_a).get(participant=pa).arrears_import_id == imp.pk
    assert Screening.objects.for_regency(regency_a2).filter(participant=pa2).exists()


def test_relapse_is_the_first_record_in_arrears_after_the_clearing_not_after_the_record(history_a, regency_a):
    # Two lists at zero, then arrears: the relapse is counted from the first list at zero.
    p = history_a.participant(
        regency_a, [(d("2026-03-01"), 8), (d("2026-04-01"), 0), (d("2026-05-01"), 0), (d("2026-07-01"), 3)]
    )
    flag = _flag(_screen(regency_a, p), "pays_when_sick")
    assert (flag["cleared"], flag["relapse"], flag["months_later"], flag["relapse_months"]) == (
        "2026-04-01", "2026-07-01", 3, 3)


def test_relapse_after_an_absence_then_a_list_at_zero(history_a, regency_a):
    # Absent from the April full list (cleared then), at zero in May, in arrears in June.
    p = history_a.participant(
        regency_a, [(d("2026-03-01"), 6), (d("2026-04-01"), None), (d("2026-05-01"), 0), (d("2026-06-01"), 2)]
    )
    flag = _flag(_screen(regency_a, p), "pays_when_sick")
    assert (flag["from"], flag["cleared"], flag["relapse"], flag["months_later"]) == (
        "2026-03-01", "2026-04-01", "2026-06-01", 2)


def test_the_newest_clearing_and_its_relapse_are_shown(history_a, regency_a):
    p = history_a.participant(
        regency_a,
        [(d("2026-01-01"), 5), (d("2026-02-01"), 0), (d("2026-03-01"), 4), (d("2026-04-01"), 0),
         (d("2026-05-01"), 3)],
    )
    s = _screen(regency_a, p)
    sick = _flag(s, "pays_when_sick")
    assert (sick["from"], sick["cleared"], sick["relapse"], sick["months_cleared"]) == (
        "2026-03-01", "2026-04-01", "2026-05-01", 4)
    assert _flag(s, "self_cleared_before")["cleared"] == "2026-04-01"


def test_rescreening_rewrites_only_the_entries_whose_result_changed(history_a, regency_a):
    same = history_a.participant(regency_a, [(d("2026-09-01"), 7)])
    grew = history_a.participant(regency_a, [(d("2026-09-01"), 7)])
    first = screening_run(regency=regency_a)
    assert (first["screened"], first["changed"]) == (2, 2)
    before = {s.participant_id: (s.computed_at, s.priority)
              for s in Screening.objects.for_regency(regency_a)}
    grew.months_in_arrears = 8
    grew.save()
    second = screening_run(regency=regency_a)
    assert (second["screened"], second["changed"]) == (2, 1)
    after = {s.participant_id: (s.computed_at, s.priority)
             for s in Screening.objects.for_regency(regency_a)}
    # The same result keeps when it was computed; the changed one is computed again.
    assert after[same.pk] == before[same.pk]
    assert after[grew.pk][0] > before[grew.pk][0]
    assert after[grew.pk][1] == before[grew.pk][1] + 10
