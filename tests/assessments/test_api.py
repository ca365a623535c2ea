"""The assessments API (CONTRACT.md shapes, four eyes, cross-regency 404)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from assessments.models import Status
from tests.assessments.conftest import VALID_ANSWERS


def client_for(user):
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.fixture
def api_a(assessor_a):
    return client_for(assessor_a)


def test_create_list_and_detail_shape(api_a, participant_a, regency_a):
    r = api_a.post("/api/v1/regencies/luwu-utara/assessments/", {"participant": str(participant_a.public_id)},
                   format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert {"id", "participant", "status", "screening", "questions", "answers", "history"} <= set(body)
    assert body["status"] == "draft"
    assert set(body["screening"]) >= {"flags", "recommendation"}
    q = body["questions"][0]
    assert {"key", "type", "required", "choices"} <= set(q)
    assert body["participant"]["nik_masked"].count("*") == 8
    assert "nik" not in body["participant"]
    assert [h["verb"] for h in body["history"]] == ["assessment.created"]

    listing = api_a.get("/api/v1/regencies/luwu-utara/assessments/?status=draft").json()
    assert set(listing) == {"count", "next", "previous", "results"}
    assert listing["count"] == 1 and listing["results"][0]["id"] == body["id"]
    assert api_a.get("/api/v1/regencies/luwu-utara/assessments/?status=approved").json()["count"] == 0
    bad = api_a.get("/api/v1/regencies/luwu-utara/assessments/?status=nonsense")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_create_twice_is_409_and_unknown_participant_404(api_a, participant_a):
    url = "/api/v1/regencies/luwu-utara/assessments/"
    assert api_a.post(url, {"participant": str(participant_a.public_id)}, format="json").status_code == 201
    r = api_a.post(url, {"participant": str(participant_a.public_id)}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "assessment_open"
    r = api_a.post(url, {"participant": "00000000-0000-0000-0000-000000000000"}, format="json")
    assert r.status_code == 404
    assert api_a.post(url, {"participant": "x"}, format="json").status_code == 400


def test_staff_and_branch_admin_cannot_use_assessments(staff_a, bpjs_a, participant_a):
    for user in (staff_a, bpjs_a):
        r = client_for(user).get("/api/v1/regencies/luwu-utara/assessments/")
        assert r.status_code in (403, 404)


def test_patch_validates_and_names_the_key(api_a, draft_a):
    url = f"/api/v1/assessments/{draft_a.pk}/"
    r = api_a.patch(url, {"answers": {"household_size": "banyak", "warna": "merah"}}, format="json")
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid_answers"
    assert set(body["errors"]) == {"household_size", "warna"}
    r = api_a.patch(url, {"answers": {"household_size": 5}}, format="json")
    assert r.status_code == 200 and r.json()["answers"] == {"household_size": 5}
    assert api_a.patch(url, {"jawaban": {}}, format="json").status_code == 400


def test_submit_lists_missing_then_full_flow_with_four_eyes(api_a, draft_a, supervisor_a, assessor_a):
    base = f"/api/v1/assessments/{draft_a.pk}/"
    r = api_a.post(base + "submit/")
    assert r.status_code == 400 and r.json()["code"] == "incomplete"
    assert "consent" in r.json()["missing"]
    api_a.patch(base, {"answers": VALID_ANSWERS}, format="json")
    assert api_a.post(base + "submit/").json()["status"] == "submitted"

    own = api_a.post(base + "approve/")  # an assessor may not decide at all
    assert own.status_code == 403

    sup = client_for(supervisor_a)
    r = sup.post(base + "reject/", {}, format="json")
    assert r.status_code == 400  # reason required
    r = sup.post(base + "return/", {"note": "Lengkapi foto"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "draft"
    assert api_a.post(base + "submit/").status_code == 200
    r = sup.post(base + "approve/", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == Status.APPROVED
    verbs = [h["verb"] for h in r.json()["history"]]
    assert verbs[-3:] == ["assessment.returned", "assessment.submitted", "assessment.approved"]


def test_four_eyes_in_the_api(regency_a, participant_a, supervisor_a):
    sup = client_for(supervisor_a)
    created = sup.post("/api/v1/regencies/luwu-utara/assessments/",
                       {"participant": str(participant_a.public_id)}, format="json").json()
    base = f"/api/v1/assessments/{created['id']}/"
    sup.patch(base, {"answers": VALID_ANSWERS}, format="json")
    assert sup.post(base + "submit/").status_code == 200
    for action, data in (("approve/", {}), ("reject/", {"reason": "able_to_pay"})):
        r = sup.post(base + action, data, format="json")
        assert r.status_code == 403
        assert r.json()["code"] == "four_eyes"


def test_other_regency_assessment_is_404(draft_b, api_a, admin_a):
    base = f"/api/v1/assessments/{draft_b.pk}/"
    for client in (api_a, client_for(admin_a)):
        assert client.get(base).status_code == 404
        assert client.patch(base, {"answers": {"dependants": 1}}, format="json").status_code == 404
        for action in ("submit/", "approve/", "reject/", "return/"):
            assert client.post(base + action, {"reason": "moved", "note": "x"}, format="json").status_code == 404
    assert api_a.get("/api/v1/regencies/lombok-timur/assessments/").status_code == 404


def test_evidence_upload_api(api_a, draft_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = f"/api/v1/assessments/{draft_a.pk}/evidence/"
    r = api_a.post(url, {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.4 hello")}, format="multipart")
    assert r.status_code == 201 and r.json()["content_type"] == "application/pdf"
    r = api_a.post(url, {"file": SimpleUploadedFile("a.pdf", b"MZ\x90\x00 not a pdf")}, format="multipart")
    assert r.status_code == 400 and r.json()["code"] == "evidence_type"


def test_schema_builds(api_a):
    r = api_a.get("/api/v1/schema/?format=json")
    assert r.status_code == 200
    assert "/api/v1/assessments/{assessment_id}/approve/" in r.json()["paths"]
