"""A flag's sentence is made when shown, in the reader's language, from the numbers screening stored;
the run's counts come from the rows it computed and match what the queue holds."""

from __future__ import annotations

from django.utils import translation

from assessments.flags import flag_reason, with_reasons
from assessments.models import Screening
from assessments.screening import flag_counts, screening_run
from tests.assessments.conftest import d, family

SICK = {"code": "pays_when_sick", "months_cleared": 8, "from": "2026-03-01", "cleared": "2026-06-01",
        "relapse": "2026-09-01", "relapse_months": 3, "months_later": 3}


def test_the_sentence_follows_the_readers_language():
    assert flag_reason(SICK) == (
        "Tunggakan 8 bulan lunas sendiri antara 1 Maret 2026 dan 1 Juni 2026, "
        "lalu menunggak lagi 3 bulan kemudian")
    with translation.override("en"):
        assert flag_reason(SICK) == (
            "Arrears of 8 months paid off by themselves between 1 March 2026 and 1 June 2026, "
            "then in arrears again 3 months later")
        assert flag_reason({"code": "family_partly_covered", "not_in_arrears": 1, "family_size": 1200}) == (
            "1 of 1,200 family members are not in arrears")
    assert flag_reason({"code": "family_partly_covered", "not_in_arrears": 1, "family_size": 1200}) == (
        "1 dari 1.200 anggota keluarga tidak menunggak")


def test_every_flag_has_a_sentence_and_old_flags_keep_theirs():
    assert flag_reason({"code": "in_rehab", "instalments_left": None}) == (
        "Daftar BPJS: sudah ikut REHAB (cicilan tunggakan)")
    assert flag_reason({"code": "higher_class", "care_class": 1}).startswith("Kelas I:")
    assert flag_reason({"code": "written_off"}).startswith("Daftar BPJS: tunggakan dihapus")
    # Stored by an older screening: the numbers missing, the sentence it was stored with.
    assert flag_reason({"code": "self_cleared_before", "reason": "teks lama"}) == "teks lama"
    assert flag_reason({"code": "unknown"}) == ""
    shown = with_reasons([{"code": "short_arrears", "months": 2, "threshold": 3, "reason": "usang"}])
    assert shown == [{"code": "short_arrears", "months": 2, "threshold": 3,
                      "reason": "Baru menunggak 2 bulan (kurang dari 3 bulan)"}]
    assert with_reasons(None) == []


def test_the_runs_counts_are_the_queues(history_a, regency_a):
    fam = family(regency_a)
    history_a.participant(regency_a, [(d("2026-03-01"), 8), (d("2026-06-01"), 0), (d("2026-09-01"), 3)])
    history_a.participant(regency_a, [(d("2026-09-01"), 2)], care_class=2)
    history_a.participant(regency_a, [(d("2026-09-01"), 10)], family=fam)
    history_a.participant(regency_a, [(d("2026-09-01"), 0)], family=fam)
    history_a.participant(regency_a, [(d("2026-09-01"), 7)])
    summary = screening_run(regency=regency_a)
    queue = flag_counts(regency=regency_a)
    assert summary["flags"] == queue["flags"]
    assert summary["recommendations"] == queue["recommendations"]
    assert summary["flags"]["pays_when_sick"] == 1 and summary["flags"]["higher_class"] == 1
    assert summary["flags"]["family_partly_covered"] == 1 and summary["flags"]["written_off"] == 0
    assert summary["screened"] == Screening.objects.for_regency(regency_a).count() == 4
    # Nothing changed: no entry written, the same counts.
    again = screening_run(regency=regency_a)
    assert again["changed"] == 0 and again["flags"] == summary["flags"]


def test_the_api_gives_each_flag_its_sentence_in_the_requests_language(history_a, regency_a, assessor_a):
    from rest_framework.test import APIClient

    p = history_a.participant(regency_a, [(d("2026-03-01"), 8), (d("2026-06-01"), 0), (d("2026-09-01"), 3)])
    screening_run(regency=regency_a)
    api = APIClient()
    api.force_authenticate(assessor_a)
    created = api.post("/api/v1/regencies/luwu-utara/assessments/", {"participant": str(p.public_id)}, format="json")
    assert created.status_code == 201, created.content
    url = f"/api/v1/assessments/{created.json()['id']}/"
    flags = {f["code"]: f for f in api.get(url, HTTP_ACCEPT_LANGUAGE="id").json()["screening"]["flags"]}
    assert flags["self_cleared_before"]["reason"] == (
        "Tunggakan 8 bulan lunas sendiri antara 1 Maret 2026 dan 1 Juni 2026")
    assert flags["self_cleared_before"]["months_cleared"] == 8
    english = {f["code"]: f for f in api.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["screening"]["flags"]}
    assert english["self_cleared_before"]["reason"] == (
        "Arrears of 8 months paid off by themselves between 1 March 2026 and 1 June 2026")
