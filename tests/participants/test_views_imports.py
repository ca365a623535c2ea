"""Branch import pages: upload form, report with progress, error downloads."""

import csv
import datetime as dt
import io
import zipfile
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from participants.models import ArrearsImport, ImportRowError, ImportStatus
from tests.factories import ArrearsImportFactory

CSV_BODY = (
    b"no_kartu;nik;nama;kode_wilayah;bulan_tunggak;jumlah_tunggakan\n"
    b"0001234567890;7322014101800001;ANDI SULAIMAN;73.22;3;105000\n"
)


def _list_url(branch):
    return reverse("import_list", kwargs={"branch_code": branch.code})


def _detail_url(imp):
    return reverse("import_detail", kwargs={"branch_code": imp.branch.code, "import_id": imp.pk})


def _progress_url(imp):
    return reverse("import_progress", kwargs={"branch_code": imp.branch.code, "import_id": imp.pk})


def _today(branch):
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(branch.timezone))


def _post(client, branch, **overrides):
    data = {
        "file": SimpleUploadedFile("tunggakan.csv", CSV_BODY, content_type="text/csv"),
        "as_of": _today(branch).isoformat(),
        "mode": "full",
    }
    data.update(overrides)
    return client.post(_list_url(branch), {k: v for k, v in data.items() if v is not None})


# --- access -------------------------------------------------------------------------


def test_bpjs_admin_of_the_branch_sees_upload_form_and_history(client, bpjs_a, branch_a):
    ArrearsImportFactory(branch=branch_a, original_name="lama.csv", uploaded_by=bpjs_a,
                         status=ImportStatus.APPLIED, rows=12, is_outdated=True)
    ArrearsImportFactory(branch=branch_a, original_name="baru.csv", uploaded_by=bpjs_a)
    client.force_login(bpjs_a)
    response = client.get(_list_url(branch_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="file"' in html and 'name="as_of"' in html and 'name="mode"' in html
    assert f'value="{_today(branch_a).isoformat()}"' in html  # as-of defaults to today (branch zone)
    assert "data-max-bytes" in html
    # history newest first, with the outdated flag and the status badge
    assert html.index("baru.csv") < html.index("lama.csv")
    assert "data lama" in html
    assert 'data-status="applied"' in html


@pytest.mark.parametrize("who", ["bpjs_b", "admin_a", "staff_a"])
def test_others_get_404(client, request, branch_a, who):
    user = request.getfixturevalue(who)
    imp = ArrearsImportFactory(branch=branch_a)
    client.force_login(user)
    assert client.get(_list_url(branch_a)).status_code == 404
    assert client.get(_detail_url(imp)).status_code == 404
    assert client.get(_progress_url(imp)).status_code == 404
    csv_url = reverse("import_errors_csv", kwargs={"branch_code": "palopo", "import_id": imp.pk})
    assert client.get(csv_url).status_code == 404


def test_anonymous_is_sent_to_login(client, branch_a):
    response = client.get(_list_url(branch_a))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_import_of_another_branch_is_404(client, bpjs_a, branch_a, branch_b):
    other = ArrearsImportFactory(branch=branch_b)
    client.force_login(bpjs_a)
    url = reverse("import_detail", kwargs={"branch_code": branch_a.code, "import_id": other.pk})
    assert client.get(url).status_code == 404


# --- upload -------------------------------------------------------------------------


def test_upload_creates_import_and_redirects_to_report(client, bpjs_a, branch_a):
    client.force_login(bpjs_a)
    response = _post(client, branch_a, mode="partial")
    imp = ArrearsImport.objects.get(branch=branch_a)
    assert response.status_code == 302
    assert response["Location"] == _detail_url(imp)
    assert imp.status == ImportStatus.QUEUED
    assert imp.mode == "partial"
    assert imp.original_name == "tunggakan.csv"
    assert imp.uploaded_by == bpjs_a


def test_same_file_again_goes_to_the_first_report(client, bpjs_a, branch_a):
    client.force_login(bpjs_a)
    _post(client, branch_a)
    first = ArrearsImport.objects.get(branch=branch_a)
    response = _post(client, branch_a)
    assert response.status_code == 302
    assert response["Location"] == _detail_url(first)
    assert ArrearsImport.objects.filter(branch=branch_a).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "berkas yang sama sudah pernah diunggah" in page.lower()


def test_missing_file_is_a_field_error(client, bpjs_a, branch_a):
    client.force_login(bpjs_a)
    response = _post(client, branch_a, file=None)
    assert response.status_code == 400
    assert "Pilih berkas CSV atau XLSX" in response.content.decode()
    assert not ArrearsImport.objects.exists()


def test_wrong_extension_is_a_field_error(client, bpjs_a, branch_a):
    client.force_login(bpjs_a)
    response = _post(client, branch_a, file=SimpleUploadedFile("daftar.pdf", b"%PDF-1.4"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "daftar.pdf" in html and ".xlsx" in html
    assert not ArrearsImport.objects.exists()


def test_future_date_is_a_field_error(client, bpjs_a, branch_a):
    client.force_login(bpjs_a)
    tomorrow = _today(branch_a) + dt.timedelta(days=1)
    response = _post(client, branch_a, as_of=tomorrow.isoformat())
    assert response.status_code == 400
    assert "masa depan" in response.content.decode()
    assert not ArrearsImport.objects.exists()


def test_file_over_the_limit_is_a_field_error(client, bpjs_a, branch_a, settings):
    settings.ARREARS_MAX_UPLOAD_BYTES = 10
    client.force_login(bpjs_a)
    response = _post(client, branch_a)
    assert response.status_code == 400
    assert "terlalu besar" in response.content.decode()
    assert not ArrearsImport.objects.exists()


# --- report -------------------------------------------------------------------------


def test_queued_report_polls_and_refreshes_without_js(client, bpjs_a, branch_a):
    imp = ArrearsImportFactory(branch=branch_a, status=ImportStatus.PARSING, progress=35)
    client.force_login(bpjs_a)
    html = client.get(_detail_url(imp)).content.decode()
    assert f'hx-get="{_progress_url(imp)}"' in html
    assert 'hx-trigger="every 1s"' in html
    assert '<noscript><meta http-equiv="refresh"' in html
    assert 'aria-valuenow="35"' in html


def test_progress_fragment_polls_until_finished_then_stops(client, bpjs_a, branch_a):
    imp = ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLYING, progress=80)
    client.force_login(bpjs_a)
    running = client.get(_progress_url(imp), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in running
    assert "hx-trigger=" in running and 'aria-valuenow="80"' in running

    ArrearsImport.objects.filter(pk=imp.pk).update(status=ImportStatus.APPLIED, progress=100, rows=3, valid=3)
    done = client.get(_progress_url(imp), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done and "hx-get" not in done
    assert 'data-finished="true"' in done
    # the same fragment from the report URL
    same = client.get(_detail_url(imp) + "?fragment=progress").content.decode()
    assert "hx-trigger" not in same and "<html" not in same


def test_applied_report_shows_counts_regency_names_and_errors(client, bpjs_a, branch_a):
    imp = ArrearsImportFactory(
        branch=branch_a, status=ImportStatus.APPLIED, progress=100, rows=1234, valid=1230, invalid=4,
        new=1000, updated=200, unchanged=30, cleared=7, regency_counts={"73.22": 1000, "73.17": 230},
        is_outdated=True, error_count=2, finished_at=timezone.now(),
    )
    ImportRowError.objects.create(arrears_import=imp, row=5, column="nik", message="NIK harus 16 digit.",
                                  value="7.32207E+15")
    ImportRowError.objects.create(arrears_import=imp, row=9, column="kelas", message="Kelas tidak dikenal.",
                                  value="IV")
    client.force_login(bpjs_a)
    html = client.get(_detail_url(imp)).content.decode()
    assert "hx-trigger" not in html and "http-equiv" not in html
    for number in ("1.234", "1.230", "1.000", "200", "30", "7"):
        assert f"<strong>{number}</strong>" in html
    assert "Luwu Utara" in html and "Luwu</td>" in html
    assert 'data-outdated="true"' in html
    assert "NIK harus 16 digit." in html and "7.32207E+15" in html
    assert reverse("import_errors_csv", kwargs={"branch_code": "palopo", "import_id": imp.pk}) in html
    assert reverse("import_errors_xlsx", kwargs={"branch_code": "palopo", "import_id": imp.pk}) in html


def test_report_shows_at_most_50_errors(client, bpjs_a, branch_a):
    imp = ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLIED, error_count=60)
    ImportRowError.objects.bulk_create(
        ImportRowError(arrears_import=imp, row=n + 2, column="nama", message=f"salah-{n}") for n in range(60)
    )
    client.force_login(bpjs_a)
    html = client.get(_detail_url(imp)).content.decode()
    assert "salah-49<" in html and "salah-50<" not in html
    assert "50 kesalahan pertama dari 60" in html


def test_rejected_report_shows_the_file_message(client, bpjs_a, branch_a):
    message = "Kolom wajib tidak ada: nik, nama. Kolom yang ditemukan: no_kartu, alamat."
    imp = ArrearsImportFactory(
        branch=branch_a, status=ImportStatus.REJECTED, message=message, error_count=1,
        errors=[{"row": 0, "column": "", "message": message, "value": ""}],
    )
    client.force_login(bpjs_a)
    html = client.get(_detail_url(imp)).content.decode()
    assert "Berkas ditolak" in html
    assert "Kolom wajib tidak ada: nik, nama." in html
    assert "hx-trigger" not in html


def test_report_times_are_in_the_branch_time_zone(client, bpjs_a, branch_a):
    finished = dt.datetime(2026, 3, 1, 2, 5, tzinfo=dt.UTC)
    imp = ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLIED, finished_at=finished)
    client.force_login(bpjs_a)
    html = client.get(_detail_url(imp)).content.decode()
    assert "1 Maret 2026 10.05 WITA" in html


# --- error downloads ----------------------------------------------------------------


@pytest.fixture
def errors_import(branch_a):
    imp = ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLIED, error_count=3)
    ImportRowError.objects.create(arrears_import=imp, row=2, column="nama", message="Nama kosong.", value="")
    ImportRowError.objects.create(arrears_import=imp, row=3, column="nik", message="NIK harus 16 digit.",
                                  value="=HYPERLINK(\"http://x\")")
    ImportRowError.objects.create(arrears_import=imp, row=4, column="jumlah_tunggakan",
                                  message="Jumlah tidak valid.", value="-5000")
    return imp


def test_error_report_csv_streams_every_error_neutralised(client, bpjs_a, errors_import):
    client.force_login(bpjs_a)
    url = reverse("import_errors_csv", kwargs={"branch_code": "palopo", "import_id": errors_import.pk})
    response = client.get(url)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["baris", "kolom", "pesan", "nilai asli"]
    assert rows[1] == ["2", "nama", "Nama kosong.", ""]
    assert rows[2] == ["3", "nik", "NIK harus 16 digit.", "'=HYPERLINK(\"http://x\")"]
    assert rows[3][3] == "'-5000"
    assert len(rows) == 4


def test_error_report_xlsx_has_every_error_neutralised(client, bpjs_a, errors_import):
    from python_calamine import CalamineWorkbook

    client.force_login(bpjs_a)
    url = reverse("import_errors_xlsx", kwargs={"branch_code": "palopo", "import_id": errors_import.pk})
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    body = b"".join(response.streaming_content)
    sheet_xml = zipfile.ZipFile(io.BytesIO(body)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml  # no formula anywhere
    rows = CalamineWorkbook.from_filelike(io.BytesIO(body)).get_sheet_by_index(0).to_python()
    assert [str(c) for c in rows[0]] == ["baris", "kolom", "pesan", "nilai asli"]
    assert int(rows[1][0]) == 2
    assert rows[2][1:] == ["nik", "NIK harus 16 digit.", "'=HYPERLINK(\"http://x\")"]
    assert rows[3][3] == "'-5000"
    assert len(rows) == 4


def test_error_report_for_api_token_user(client, bpjs_a, errors_import):
    from tests.factories import api_token_for

    token = api_token_for(bpjs_a)
    url = reverse("import_errors_csv", kwargs={"branch_code": "palopo", "import_id": errors_import.pk})
    response = client.get(url, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert b"NIK harus 16 digit." in b"".join(response.streaming_content)
    assert client.get(url, HTTP_AUTHORIZATION="Token salah").status_code == 302
