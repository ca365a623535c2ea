"""`/api/v1/imports/`: upload, list, detail, errors."""

import datetime as dt
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from participants.models import ArrearsImport, ImportRowError, ImportStatus
from tests.factories import ArrearsImportFactory, api_token_for

CSV_BODY = (
    b"no_kartu;nik;nama;kode_wilayah;bulan_tunggak;jumlah_tunggakan\n"
    b"0001234567890;7322014101800001;ANDI SULAIMAN;73.22;3;105000\n"
)


def _api(user=None):
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


def _today(branch):
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(branch.timezone))


def _upload(client, target, **overrides):
    data = {
        "file": SimpleUploadedFile("tunggakan.csv", CSV_BODY, content_type="text/csv"),
        "branch": target.code,
        "as_of": _today(target).isoformat(),
        "mode": "full",
    }
    data.update(overrides)
    return client.post("/api/v1/imports/", {k: v for k, v in data.items() if v is not None}, format="multipart")


def test_post_queues_the_import(bpjs_a, branch_a):
    response = _upload(_api(bpjs_a), branch_a)
    assert response.status_code == 202, response.content
    imp = ArrearsImport.objects.get(branch=branch_a)
    assert response.json() == {"id": imp.pk, "status": "queued"}
    assert imp.uploaded_by == bpjs_a and imp.mode == "full"


def test_post_same_file_again_is_a_duplicate(bpjs_a, branch_a):
    client = _api(bpjs_a)
    first = _upload(client, branch_a).json()
    again = _upload(client, branch_a)
    assert again.status_code == 200
    assert again.json() == {"id": first["id"], "status": "queued", "duplicate": True}
    assert ArrearsImport.objects.count() == 1


def test_post_to_a_branch_not_ones_own_is_404(bpjs_b, branch_a):
    response = _upload(_api(bpjs_b), branch_a)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not ArrearsImport.objects.exists()


def test_post_by_regency_staff_is_404(admin_a, branch_a):
    assert _upload(_api(admin_a), branch_a).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"file": None}, "file"),
        ({"file": SimpleUploadedFile("daftar.pdf", b"%PDF")}, "file"),
        ({"as_of": "22-11-2026x"}, "as_of"),
        ({"as_of": None}, "as_of"),
        ({"mode": "semua"}, "mode"),
        ({"branch": None}, "branch"),
    ],
)
def test_post_validation_errors_name_the_field(bpjs_a, branch_a, overrides, field):
    response = _upload(_api(bpjs_a), branch_a, **overrides)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"]
    assert body["detail"].startswith(f"{field}:")
    assert not ArrearsImport.objects.exists()


def test_post_future_date_is_400(bpjs_a, branch_a):
    tomorrow = _today(branch_a) + dt.timedelta(days=1)
    response = _upload(_api(bpjs_a), branch_a, as_of=tomorrow.isoformat())
    assert response.status_code == 400
    assert "as_of" in response.json()["errors"]


def test_post_too_large_is_400(bpjs_a, branch_a, settings):
    settings.ARREARS_MAX_UPLOAD_BYTES = 10
    response = _upload(_api(bpjs_a), branch_a)
    assert response.status_code == 400
    assert "file" in response.json()["errors"]


def test_anonymous_is_401():
    assert APIClient().get("/api/v1/imports/").status_code == 401


def test_list_is_scoped_to_the_users_branches_newest_first(bpjs_a, bpjs_b, branch_a, branch_b, admin_a):
    old = ArrearsImportFactory(branch=branch_a)
    new = ArrearsImportFactory(branch=branch_a)
    ArrearsImportFactory(branch=branch_b)
    body = _api(bpjs_a).get("/api/v1/imports/").json()
    assert set(body) == {"count", "count_exact", "next", "previous", "results"}
    assert [item["id"] for item in body["results"]] == [new.pk, old.pk]
    assert body["results"][0]["branch"] == "palopo"
    assert _api(bpjs_b).get("/api/v1/imports/").json()["count"] == 1
    assert _api(admin_a).get("/api/v1/imports/").json()["count"] == 0


def test_detail_shape(bpjs_a, branch_a):
    imp = ArrearsImportFactory(
        branch=branch_a, status=ImportStatus.APPLIED, progress=100, rows=5, valid=4, invalid=1, new=3,
        updated=1, unchanged=0, cleared=2, regency_counts={"73.22": 4}, error_count=1,
        message="", is_outdated=False,
    )
    ImportRowError.objects.create(arrears_import=imp, row=3, column="nik", message="NIK harus 16 digit.",
                                  value="123")
    response = _api(bpjs_a).get(f"/api/v1/imports/{imp.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"id", "status", "progress", "summary", "errors_url"}
    assert body["id"] == imp.pk and body["status"] == "applied" and body["progress"] == 100
    assert body["summary"] == {
        "rows": 5, "valid": 4, "invalid": 1, "new": 3, "updated": 1, "unchanged": 0, "cleared": 2,
        "regencies": {"73.22": 4}, "is_outdated": False, "message": "",
        "warning_count": 0, "warnings": [],  # rows accepted but flagged
    }
    assert body["errors_url"] == f"http://testserver/branches/palopo/imports/{imp.pk}/errors.csv"
    # the token client can download it, and page through the JSON errors
    csv_response = _api(bpjs_a).get(body["errors_url"])
    assert csv_response.status_code == 200
    assert b"NIK harus 16 digit." in b"".join(csv_response.streaming_content)
    errors = _api(bpjs_a).get(body["errors_api_url"]).json()
    assert errors["count"] == 1
    assert errors["results"] == [{"row": 3, "column": "nik", "message": "NIK harus 16 digit.", "value": "123"}]


def test_detail_without_errors_has_null_errors_url(bpjs_a, branch_a):
    imp = ArrearsImportFactory(branch=branch_a, status=ImportStatus.QUEUED)
    body = _api(bpjs_a).get(f"/api/v1/imports/{imp.pk}/").json()
    assert body["status"] == "queued" and body["progress"] == 0
    assert body["errors_url"] is None


def test_detail_of_another_branch_is_404(bpjs_b, branch_a):
    imp = ArrearsImportFactory(branch=branch_a)
    assert _api(bpjs_b).get(f"/api/v1/imports/{imp.pk}/").status_code == 404
    assert _api(bpjs_b).get(f"/api/v1/imports/{imp.pk}/errors/").status_code == 404


def test_schema_documents_the_import_endpoints(bpjs_a):
    response = _api(bpjs_a).get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/imports/" in text and "imports_create" in text and "regencies_participants_list" in text
