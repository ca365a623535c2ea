"""The browser side of "imports that ask first": the form defaults to a partial list; a full list
that clears too many waits on its report page with "Terapkan" (ticked confirmation) and "Batalkan"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import AuditEvent
from participants.models import ArrearsImport, ImportStatus, Participant
from tests.participants.importing import csv_text, line, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _url(name, imp):
    return reverse(name, kwargs={"branch_code": imp.branch.code, "import_id": imp.pk})


def _upload(client, branch, rows, **extra):
    data = {"file": SimpleUploadedFile("daftar.csv", csv_text(rows).encode(), content_type="text/csv"),
            "as_of": "2026-11-01", **extra}
    return client.post(reverse("import_list", kwargs={"branch_code": branch.code}), data)


def test_the_upload_form_defaults_to_a_partial_list(client, bpjs_a, branch_a):
    client.force_login(bpjs_a)
    html = client.get(reverse("import_list", kwargs={"branch_code": branch_a.code})).content.decode()
    checked = [chunk for chunk in html.split("<input") if 'name="mode"' in chunk and "checked" in chunk]
    assert len(checked) == 1 and 'value="partial"' in checked[0]


def test_terapkan_needs_the_tick_then_applies(client, bpjs_a, bpjs_b, branch_a, tmp_path,
                                              django_capture_on_commit_callbacks):
    run_import(branch_a, tmp_path, [line(n) for n in range(1, 11)], as_of=dt.date(2026, 10, 1))
    client.force_login(bpjs_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, branch_a, [line(n) for n in range(1, 8)], mode="full")
    imp = ArrearsImport.objects.latest("id")
    assert response.status_code == 302 and imp.status == ImportStatus.AWAITING_CONFIRMATION
    page = client.get(_url("import_detail", imp)).content.decode()
    assert "Pratinjau" in page and 'data-would-clear="3"' in page and 'name="understood"' in page
    assert "hx-trigger" not in page  # nothing runs: the page does not poll

    # Another branch's admin cannot confirm it.
    client.force_login(bpjs_b)
    assert client.post(_url("import_confirm", imp), {"understood": "1"}).status_code == 404
    client.force_login(bpjs_a)

    client.post(_url("import_confirm", imp))  # box not ticked
    imp.refresh_from_db()
    assert imp.status == ImportStatus.AWAITING_CONFIRMATION
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("import_confirm", imp), {"understood": "1"})
    assert response.status_code == 302
    imp.refresh_from_db()
    assert imp.status == ImportStatus.APPLIED and imp.cleared == 3
    assert Participant.all_regencies.filter(status="cleared").count() == 3


def test_batalkan_discards_and_changes_nothing(client, bpjs_a, branch_a, tmp_path,
                                               django_capture_on_commit_callbacks):
    run_import(branch_a, tmp_path, [line(n) for n in range(1, 11)], as_of=dt.date(2026, 10, 1))
    client.force_login(bpjs_a)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, branch_a, [line(n) for n in range(1, 3)], mode="full")
    imp = ArrearsImport.objects.latest("id")
    assert imp.status == ImportStatus.AWAITING_CONFIRMATION
    client.post(_url("import_discard", imp))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DISCARDED
    assert Participant.all_regencies.filter(status="cleared").count() == 0
    assert AuditEvent.objects.filter(verb="import.discarded", object_id=str(imp.pk), actor=bpjs_a).exists()
    page = client.get(_url("import_detail", imp)).content.decode()
    assert "Berkas yang sama boleh diunggah lagi" in page
