"""Pages: queue (ordering, filters, query counts, bulk assign), form autosave, review, settings, PBI."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from python_calamine import CalamineWorkbook

from assessments import services
from assessments.models import Screening, ScreeningSettings, Status
from assessments.screening import screening_run
from assessments.selectors import QueueFilters, queue, queue_page
from regencies.models import Membership
from tests.assessments.conftest import VALID_ANSWERS, d
from tests.factories import DistrictFactory


@pytest.fixture
def client_a(client, assessor_a):
    client.force_login(assessor_a)
    return client


def _queue_url(**params):
    from urllib.parse import urlencode

    return "/r/luwu-utara/assessments/" + (f"?{urlencode(params)}" if params else "")


def test_queue_orders_by_priority_and_my_districts_first(
    history_a, regency_a, district_a, assessor_a
):
    other = DistrictFactory(regency=regency_a, name="Sabbang")
    low = history_a.participant(regency_a, [(d("2026-09-01"), 4)], district=district_a)
    high = history_a.participant(regency_a, [(d("2026-09-01"), 20)], district=other)
    mid = history_a.participant(regency_a, [(d("2026-09-01"), 10)], district=other)
    screening_run(regency=regency_a)
    ids = [s.participant_id for s in queue(regency=regency_a, user=assessor_a)]
    assert ids == [high.pk, mid.pk, low.pk]
    Membership.objects.for_regency(regency_a).get(user=assessor_a).districts.add(district_a)
    ids = [s.participant_id for s in queue(regency=regency_a, user=assessor_a)]
    assert ids == [low.pk, high.pk, mid.pk]


def test_queue_excludes_open_and_valid_decisions_and_filters(
    history_a, regency_a, assessor_a, supervisor_a, participant_a
):
    p2 = history_a.participant(regency_a, [(d("2026-09-01"), 2)], care_class=1)
    screening_run(regency=regency_a)
    draft = services.assessment_start(regency=regency_a, actor=assessor_a, participant=participant_a)
    todo = [s.participant_id for s in queue(regency=regency_a, user=assessor_a)]
    assert todo == [p2.pk]
    drafts = queue_page(regency=regency_a, user=assessor_a, filters=QueueFilters(status="draft"))
    assert [(s.open_id, s.open_status, s.eligibility) for s in drafts] == [(draft.pk, "draft", "pending")]
    flagged = queue(regency=regency_a, user=assessor_a,
                    filters=QueueFilters(status="all", flag="higher_class"))
    assert [s.participant_id for s in flagged] == [p2.pk]
    low = queue(regency=regency_a, user=assessor_a,
                filters=QueueFilters(status="all", recommendation="low_priority"))
    assert [s.participant_id for s in low] == [p2.pk]
    services.assessment_save_answers(assessment=draft, actor=assessor_a, answers=VALID_ANSWERS)
    services.assessment_submit(assessment=draft, actor=assessor_a)
    services.assessment_approve(assessment=draft, actor=supervisor_a)
    eligible = queue(regency=regency_a, user=assessor_a, filters=QueueFilters(status="eligible"))
    assert [s.participant_id for s in eligible] == [participant_a.pk]


def test_queue_page_query_count_is_constant(client_a, history_a, regency_a, district_a):
    history_a.participant(regency_a, [(d("2026-09-01"), 9)], district=district_a)
    screening_run(regency=regency_a)
    client_a.get(_queue_url())  # the first page of a session fills per-user caches (the menu)
    with CaptureQueriesContext(connection) as one:
        assert client_a.get(_queue_url()).status_code == 200
    for i in range(15):
        history_a.participant(regency_a, [(d("2026-09-01"), 5 + i)], district=district_a)
    screening_run(regency=regency_a)
    with CaptureQueriesContext(connection) as many:
        r = client_a.get(_queue_url())
    assert r.status_code == 200
    assert r.content.decode().count("data-participant=") == 16
    assert len(many) == len(one), [q["sql"][:120] for q in many.captured_queries]


def test_queue_page_shows_masked_nik_flags_and_days_waiting(client_a, history_a, regency_a):
    p = history_a.participant(
        regency_a, [(d("2026-03-01"), 8), (d("2026-06-01"), 0), (d("2026-09-01"), 3)]
    )
    screening_run(regency=regency_a)
    html = client_a.get(_queue_url(status="all")).content.decode()
    assert p.nik not in html and p.nik_masked in html
    assert "lalu menunggak lagi 3 bulan kemudian" in html
    assert "menunggu 0 hari" in html


def test_supervisor_bulk_assigns_and_assessor_cannot(
    client, history_a, regency_a, supervisor_a, assessor_a, participant_a
):
    screening_run(regency=regency_a)
    client.force_login(assessor_a)
    r = client.post(_queue_url(), {"participants": [participant_a.pk], "assignee": assessor_a.pk})
    assert r.status_code == 403
    client.force_login(supervisor_a)
    r = client.post(_queue_url(), {"participants": [participant_a.pk], "assignee": assessor_a.pk})
    assert r.status_code == 302
    assert Screening.objects.for_regency(regency_a).get(participant=participant_a).assigned_to == assessor_a
    client.force_login(assessor_a)
    html = client.get(_queue_url(mine="1")).content.decode()
    assert str(participant_a.public_id) in html


def test_start_autosave_and_submit_from_the_form(client_a, regency_a, participant_a, assessor_a):
    r = client_a.post(f"/r/luwu-utara/assessments/start/{participant_a.public_id}/")
    assert r.status_code == 302
    detail = r["Location"]
    html = client_a.get(detail).content.decode()
    assert 'id="assessment-form"' in html and "assessment-form.js" in html
    assert participant_a.nik not in html
    save = detail + "save/"
    bad = client_a.post(save, {"household_size": "x"}, HTTP_X_REQUESTED_WITH="fetch")
    assert bad.status_code == 400 and "household_size" in bad.json()["errors"]
    ok = client_a.post(save, {"household_size": "4", "consent": "true", "consent__present": "1"},
                       HTTP_X_REQUESTED_WITH="fetch")
    assert ok.status_code == 200 and ok.json()["ok"] is True
    form = {k: (v if not isinstance(v, bool) else str(v).lower()) for k, v in VALID_ANSWERS.items()}
    form["assets__present"] = "1"
    r = client_a.post(detail + "submit/", form)
    assert r.status_code == 302
    a = participant_a.assessments.get()
    assert a.status == Status.SUBMITTED and a.answers["household_size"] == 4


def test_review_page_and_decision(client, submitted_a, supervisor_a, assessor_a):
    url = f"/r/luwu-utara/assessments/{submitted_a.pk}/"
    client.force_login(assessor_a)
    html = client.get(url).content.decode()
    assert "prinsip empat mata" in html and "Simpan keputusan" not in html
    client.force_login(supervisor_a)
    html = client.get(url).content.decode()
    assert "Simpan keputusan" in html and "Hasil penyaringan" in html and "Riwayat" in html
    r = client.post(url + "decide/", {"action": "reject"})
    # A rejection without a reason: the page again, the message at the reasons.
    assert r.status_code == 400
    assert 'id="id_reason_error" data-error-for="reason"><p>Pilih alasan penolakan.</p>' in r.content.decode()
    submitted_a.refresh_from_db()
    assert submitted_a.status == Status.SUBMITTED
    client.post(url + "decide/", {"action": "reject", "reason": "refer_pbi"})
    submitted_a.refresh_from_db()
    assert submitted_a.status == Status.REJECTED and submitted_a.reason_code == "refer_pbi"


def test_evidence_served_only_inside_the_regency(client, draft_a, assessor_a, assessor_b, staff_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    ev = services.evidence_add(assessment=draft_a, actor=assessor_a,
                               upload=SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\n1234"))
    url = f"/r/luwu-utara/assessments/{draft_a.pk}/evidence/{ev.pk}/"
    client.force_login(assessor_a)
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert r["X-Content-Type-Options"] == "nosniff"
    client.force_login(staff_a)
    assert client.get(url).status_code == 403
    client.force_login(assessor_b)
    assert client.get(url).status_code == 404
    assert client.get(f"/r/lombok-timur/assessments/{draft_a.pk}/evidence/{ev.pk}/").status_code == 404


def test_other_regency_pages_are_404(client, draft_b, assessor_a):
    client.force_login(assessor_a)
    assert client.get(f"/r/luwu-utara/assessments/{draft_b.pk}/").status_code == 404
    assert client.get(f"/r/lombok-timur/assessments/{draft_b.pk}/").status_code == 404
    assert client.get("/r/lombok-timur/assessments/").status_code == 404


def test_settings_page_admin_only_and_rescreens(
    client, admin_a, assessor_a, regency_a, history_a, django_capture_on_commit_callbacks
):
    p = history_a.participant(regency_a, [(d("2026-09-01"), 4)])
    screening_run(regency=regency_a)
    assert Screening.objects.for_regency(regency_a).get(participant=p).flags == []
    client.force_login(assessor_a)
    assert client.get("/r/luwu-utara/assessments/settings/").status_code == 403
    client.force_login(admin_a)
    assert client.get("/r/luwu-utara/assessments/settings/").status_code == 200
    data = {"cleared_min_months": 3, "relapse_within_months": 6, "short_arrears_months": 6,
            "validity_months": 12}
    bad = client.post("/r/luwu-utara/assessments/settings/", {**data, "short_arrears_months": 99})
    assert bad.status_code == 200 and not ScreeningSettings.objects.for_regency(regency_a).exists()
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/r/luwu-utara/assessments/settings/", data)
    assert r.status_code == 302
    assert ScreeningSettings.objects.for_regency(regency_a).get().short_arrears_months == 6
    flags = Screening.objects.for_regency(regency_a).get(participant=p).flags
    assert [f["code"] for f in flags] == ["short_arrears"]


def test_pbi_list_and_xlsx_export(client, regency_a, history_a, assessor_a, supervisor_a):
    made = []
    for name, decile, reason in (("=HYPERLINK(1)", 3, "able_to_pay"), ("Budi", 8, "refer_pbi"),
                                 ("Siti", 9, "able_to_pay")):
        p = history_a.participant(regency_a, [(d("2026-09-01"), 6)])
        p.name = name
        p.save()
        a = services.assessment_start(regency=regency_a, actor=assessor_a, participant=p)
        services.assessment_save_answers(assessment=a, actor=assessor_a,
                                         answers={**VALID_ANSWERS, "dtsen_decile": decile})
        services.assessment_submit(assessment=a, actor=assessor_a)
        services.assessment_reject(assessment=a, actor=supervisor_a, reason=reason)
        made.append(p)
    client.force_login(assessor_a)
    html = client.get("/r/luwu-utara/assessments/pbi/").content.decode()
    assert "Budi" in html and "Siti" not in html and made[0].nik not in html
    assert client.get("/r/luwu-utara/assessments/pbi/export/").status_code == 403
    client.force_login(supervisor_a)
    r = client.get("/r/luwu-utara/assessments/pbi/export/")
    assert r.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(r.content)).get_sheet_by_index(0).to_python()
    names = [row[3] for row in rows[1:]]
    assert names == ["'=HYPERLINK(1)", "Budi"]
    assert rows[1][1] == made[0].nik
