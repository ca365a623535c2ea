"""The import report says "sedang diproses" only while the import runs: the words live in the
fragment that htmx polls, so the fragment that carries the final status no longer has them, and
no flash message repeats them above the report once the import has finished."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from participants.models import ArrearsImport, ImportStatus
from tests.factories import ArrearsImportFactory
from tests.participants.importing import csv_text, line, run_import

pytestmark = pytest.mark.django_db

PROCESSING = "sedang diproses"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _url(name: str, imp: ArrearsImport) -> str:
    return reverse(name, kwargs={"branch_code": imp.branch.code, "import_id": imp.pk})


@pytest.mark.parametrize("status", [ImportStatus.QUEUED, ImportStatus.PARSING, ImportStatus.APPLYING])
def test_a_running_import_says_it_is_being_processed(client, bpjs_a, branch_a, status):
    imp = ArrearsImportFactory(branch=branch_a, status=status, progress=40)
    client.force_login(bpjs_a)
    fragment = client.get(_url("import_progress", imp), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-processing="true"' in fragment and PROCESSING in fragment
    assert "hx-trigger" in fragment


@pytest.mark.parametrize("status", [ImportStatus.APPLIED, ImportStatus.REJECTED, ImportStatus.FAILED,
                                    ImportStatus.DISCARDED])
def test_the_fragment_with_a_final_status_drops_the_message(client, bpjs_a, branch_a, status):
    imp = ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLYING, progress=90)
    client.force_login(bpjs_a)
    assert PROCESSING in client.get(_url("import_progress", imp), HTTP_HX_REQUEST="true").content.decode()

    ArrearsImport.objects.filter(pk=imp.pk).update(status=status, progress=100, finished_at=timezone.now())
    fragment = client.get(_url("import_progress", imp), HTTP_HX_REQUEST="true").content.decode()
    assert f'data-status="{status}"' in fragment
    assert PROCESSING not in fragment and "data-processing" not in fragment
    assert "hx-trigger" not in fragment
    page = client.get(_url("import_detail", imp)).content.decode()
    assert PROCESSING not in page


def test_after_an_upload_that_has_finished_nothing_says_processing(client, bpjs_a, branch_a,
                                                                   django_capture_on_commit_callbacks):
    """The worker may finish before the browser follows the redirect (here: Celery runs eagerly).
    The report then shows "Diterapkan" and the upload's flash message does not contradict it."""
    client.force_login(bpjs_a)
    data = {"file": SimpleUploadedFile("daftar.csv", csv_text([line(1), line(2)]).encode(),
                                       content_type="text/csv"),
            "as_of": "2026-11-01", "mode": "partial"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import_list", kwargs={"branch_code": branch_a.code}), data)
    imp = ArrearsImport.objects.get(branch=branch_a)
    assert response.status_code == 302 and imp.status == ImportStatus.APPLIED
    page = client.get(response["Location"]).content.decode()
    assert "Berkas diterima." in page
    assert 'data-status="applied"' in page
    assert PROCESSING not in page and "data-processing" not in page


def test_after_a_confirmation_that_has_finished_nothing_says_it_is_being_applied(
    client, bpjs_a, branch_a, tmp_path, django_capture_on_commit_callbacks
):
    run_import(branch_a, tmp_path, [line(n) for n in range(1, 11)], as_of=dt.date(2026, 10, 1))
    client.force_login(bpjs_a)
    data = {"file": SimpleUploadedFile("daftar.csv", csv_text([line(n) for n in range(1, 8)]).encode(),
                                       content_type="text/csv"),
            "as_of": "2026-11-01", "mode": "full"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_list", kwargs={"branch_code": branch_a.code}), data)
    imp = ArrearsImport.objects.latest("id")
    assert imp.status == ImportStatus.AWAITING_CONFIRMATION
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("import_confirm", imp), {"understood": "1"})
    imp.refresh_from_db()
    assert imp.status == ImportStatus.APPLIED
    page = client.get(response["Location"]).content.decode()
    assert "Dikonfirmasi." in page and 'data-status="applied"' in page
    assert "sedang diterapkan" not in page and PROCESSING not in page
