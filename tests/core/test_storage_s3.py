"""Uploads on S3-compatible object storage (a real S3 server: moto's, on 127.0.0.1), configured as a
deployment configures it (AWS_STORAGE_BUCKET_NAME and friends, config/settings/base.py): the web
view stores the file in the bucket and the worker reads it back through the storage API, never
from a local path (in production the worker is another machine)."""

from __future__ import annotations

import importlib.util
import itertools
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from participants.models import ArrearsImport, ImportStatus, Participant
from tests.core import s3server

CSV_BODY = (
    b"no_kartu;nik;nama;kode_wilayah;bulan_tunggak;jumlah_tunggakan\n"
    b"0001234567890;7322014101800001;ANDI SULAIMAN;73.22;3;105000\n"
)
CSV_WITH_AN_ERROR = CSV_BODY + b"0001234567891;7322014101800002;BUDI;73.22;tiga;105000\n"
_buckets = itertools.count(1)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with s3server.s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A fresh bucket; STORAGES["default"] as base.py builds it from the environment; MEDIA_ROOT
    an empty directory that must stay empty."""
    bucket = f"satu-test-{next(_buckets)}"
    s3 = s3server.client(s3_endpoint)
    s3.create_bucket(Bucket=bucket)
    for key, value in s3server.environment(s3_endpoint, bucket).items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.find_spec("config.settings.base")
    assert spec is not None and spec.loader is not None
    base = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(base)
    media_root = tmp_path / "media"
    with override_settings(STORAGES={**base.STORAGES, "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}, MEDIA_ROOT=media_root):
        yield {"client": s3, "bucket": bucket, "media_root": media_root}


def _keys(s3: dict[str, Any], prefix: str) -> list[str]:
    listing = s3["client"].list_objects_v2(Bucket=s3["bucket"], Prefix=prefix)
    return [item["Key"] for item in listing.get("Contents", [])]


def _upload(client, branch, body: bytes, django_capture_on_commit_callbacks):
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(branch.timezone))
    url = reverse("import_list", kwargs={"branch_code": branch.code})
    with django_capture_on_commit_callbacks(execute=True):  # the queued run, as the worker does it
        response = client.post(url, {"file": SimpleUploadedFile("tunggakan.csv", body, content_type="text/csv"),
                                     "as_of": today.isoformat(), "mode": "partial"})
    assert response.status_code == 302
    return ArrearsImport.objects.get(branch=branch)


def test_the_settings_choose_s3_from_the_environment(s3):
    from storages.backends.s3 import S3Storage  # type: ignore[import-untyped]

    storage = storages["default"]
    assert isinstance(storage, S3Storage)
    assert storage.bucket_name == s3["bucket"]
    assert storage.file_overwrite is False and storage.default_acl is None


def test_an_import_uploaded_through_the_page_is_stored_in_the_bucket_and_run_from_it(
    client, bpjs_a, branch_a, s3, django_capture_on_commit_callbacks,
):
    client.force_login(bpjs_a)

    imp = _upload(client, branch_a, CSV_BODY, django_capture_on_commit_callbacks)

    imp.refresh_from_db()
    assert imp.status == ImportStatus.APPLIED, imp.message
    assert Participant.all_regencies.filter(card_number="0001234567890").exists()
    assert _keys(s3, "imports/") == [imp.file.name]
    body = s3["client"].get_object(Bucket=s3["bucket"], Key=imp.file.name)["Body"].read()
    assert body == CSV_BODY
    # Nothing of it on this machine's disk: another worker machine could not have read it.
    assert not s3["media_root"].exists()
    with pytest.raises(NotImplementedError):
        imp.file.path  # noqa: B018 - object storage has no local path, so nothing may use one


def test_the_error_report_goes_to_the_bucket_and_downloads_from_it(
    client, bpjs_a, branch_a, s3, django_capture_on_commit_callbacks,
):
    client.force_login(bpjs_a)
    imp = _upload(client, branch_a, CSV_WITH_AN_ERROR, django_capture_on_commit_callbacks)
    imp.refresh_from_db()
    assert imp.error_report.name in _keys(s3, "imports/reports/")

    url = reverse("import_errors_csv", kwargs={"branch_code": branch_a.code, "import_id": imp.pk})
    response = client.get(url)

    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "tiga" in text
    assert not s3["media_root"].exists()


def test_a_file_gone_from_the_bucket_rejects_the_import_with_a_message(bpjs_a, branch_a, s3):
    import datetime as dt

    from participants.services import import_create, import_run

    imp, duplicate = import_create(branch=branch_a, actor=bpjs_a, mode="partial", as_of=dt.date(2026, 11, 1),
                                   uploaded_file=SimpleUploadedFile("tunggakan.csv", CSV_BODY), enqueue=False)
    assert not duplicate and _keys(s3, "imports/") == [imp.file.name]
    s3["client"].delete_object(Bucket=s3["bucket"], Key=imp.file.name)

    import_run(import_id=imp.pk)

    imp.refresh_from_db()
    assert imp.status == ImportStatus.REJECTED
    assert "tidak ditemukan" in imp.message
    assert not Participant.all_regencies.exists()
