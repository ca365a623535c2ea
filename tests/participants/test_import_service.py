"""import_create / import_run: duplicates, limits, audit, crash re-runs, rejection, progress, demo seed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from psycopg2 import sql

from core.errors import DomainError
from core.models import AuditEvent, OutboxMessage
from participants import services
from participants.demo import seed_participants
from participants.imports import apply as apply_module
from participants.imports.staging import staging_create, staging_exists, staging_table_name
from participants.models import (
    ArrearsImport,
    ArrearsRecord,
    BpjsStatus,
    ImportRowError,
    Participant,
    Segment,
)
from tests.participants.importing import csv_text, line, run_import, write_file

OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _create(branch, path_or_file, *, as_of=OCT, mode="full", actor=None):
    return services.import_create(
        branch=branch, actor=actor, uploaded_file=path_or_file, as_of=as_of, mode=mode, enqueue=False
    )


@pytest.mark.django_db
def test_the_same_bytes_again_are_a_duplicate_and_store_nothing(branch_a, bpjs_a, tmp_path, settings):
    path = write_file(tmp_path, [line(1), line(2)])
    first, duplicate = _create(branch_a, path, actor=bpjs_a)
    assert not duplicate
    services.import_run(import_id=first.pk)
    stored = sorted(p.name for p in (tmp_path / "media").rglob("*.csv"))

    upload = SimpleUploadedFile("lagi.csv", path.read_bytes(), content_type="text/csv")
    again, duplicate = _create(branch_a, upload, as_of=NOV, actor=bpjs_a)

    assert duplicate and again.pk == first.pk
    assert ArrearsImport.objects.count() == 1
    assert sorted(p.name for p in (tmp_path / "media").rglob("*.csv")) == stored
    assert not list((tmp_path / "media" / "imports" / "tmp").iterdir())


@pytest.mark.django_db
def test_the_same_bytes_for_another_branch_are_not_a_duplicate(branch_a, branch_b, tmp_path):
    path = write_file(tmp_path, [line(1)])
    _create(branch_a, path)
    _imp, duplicate = _create(branch_b, path)
    assert not duplicate


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused(branch_a, tmp_path, settings):
    settings.ARREARS_MAX_UPLOAD_BYTES = 100
    path = write_file(tmp_path, [line(1), line(2)])
    with pytest.raises(DomainError) as excinfo:
        _create(branch_a, path)
    assert excinfo.value.code == "file_too_large"
    assert ArrearsImport.objects.count() == 0


@pytest.mark.django_db
def test_bad_mode_and_empty_file_are_refused(branch_a, tmp_path):
    with pytest.raises(DomainError, match="Mode"):
        _create(branch_a, write_file(tmp_path, [line(1)]), mode="semua")
    empty = tmp_path / "kosong.csv"
    empty.write_bytes(b"")
    with pytest.raises(DomainError) as excinfo:
        _create(branch_a, empty)
    assert excinfo.value.code == "file_empty"


@pytest.mark.django_db
def test_create_audits_and_enqueues_on_commit(branch_a, bpjs_a, tmp_path, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(
        "participants.tasks.import_run_task.apply_async", lambda args=(), kwargs=None, **o: queued.append(args[0])
    )
    upload = SimpleUploadedFile("Daftar Oktober.csv", csv_text([line(1)]).encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        imp, _duplicate = services.import_create(
            branch=branch_a, actor=bpjs_a, uploaded_file=upload, as_of=OCT, mode="partial"
        )
    assert queued == [imp.pk]
    # Through the transactional outbox (core.outbox): written with the import, sent after commit.
    message = OutboxMessage.objects.get(task="participants.import_run")
    assert message.args == [imp.pk] and message.queue == "imports" and message.sent_at is not None
    assert imp.original_name == "Daftar Oktober.csv" and imp.uploaded_by == bpjs_a
    assert imp.file.name.startswith(f"imports/palopo/{imp.sha256[:2]}/")
    event = AuditEvent.objects.get(verb="import.created")
    assert event.actor == bpjs_a and event.after["status"] == "queued"


@pytest.mark.django_db
def test_every_status_change_is_audited_and_the_signal_fires(branch_a, tmp_path, django_capture_on_commit_callbacks):
    received = []

    def listener(sender, import_id, **kwargs):
        received.append(import_id)

    services.arrears_import_applied.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            imp = run_import(branch_a, tmp_path, [line(1)])
    finally:
        services.arrears_import_applied.disconnect(listener)
    assert received == [imp.pk]
    changes = [
        (e.before["status"], e.after["status"])
        for e in AuditEvent.objects.filter(verb="import.status", object_id=str(imp.pk)).order_by("id")
    ]
    assert changes == [("queued", "parsing"), ("parsing", "applying"), ("applying", "applied")]


@pytest.mark.django_db
def test_running_an_applied_import_again_does_nothing(branch_a, tmp_path):
    imp = run_import(branch_a, tmp_path, [line(1), line(2)])
    again = services.import_run(import_id=imp.pk)
    assert again.status == "applied"
    assert ArrearsRecord.all_regencies.count() == 2
    assert AuditEvent.objects.filter(verb="import.status").count() == 3


@pytest.mark.django_db
def test_a_crashed_import_finishes_exactly_once_on_rerun(branch_a, tmp_path):
    path = write_file(tmp_path, [line(1), line(2), line(2), line(3)])
    imp, _duplicate = _create(branch_a, path)
    # A worker died while applying: status left behind, a stale staging table with
    # half-loaded rows, row errors of the first attempt.
    ArrearsImport.objects.filter(pk=imp.pk).update(status="applying", progress=80)
    staging_create(import_id=imp.pk)
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL(
                "INSERT INTO {} (row_number, card_number, nik, name, sex,"
                " family_number, relationship, care_class, segment, address, months_in_arrears,"
                " arrears_amount, bpjs_status, place_key, public_id) VALUES (2, '0000000000001', '1', 'X',"
                " '', '', '', 3, %s, '', 1, 1, %s, 0, gen_random_uuid())"
            ).format(sql.Identifier(staging_table_name(imp.pk))),
            [Segment.PBPU.value, BpjsStatus.INACTIVE.value],
        )
    ImportRowError.objects.create(arrears_import=imp, row=9, column="nik", message="lama")

    done = services.import_run(import_id=imp.pk)

    assert done.status == "applied"
    assert (done.valid, done.invalid, done.new) == (3, 1, 3)
    assert ArrearsRecord.all_regencies.filter(arrears_import=done).count() == 3
    assert list(ImportRowError.objects.filter(arrears_import=done).values_list("row", flat=True)) == [4]
    assert Participant.all_regencies.get(card_number="0000000000001").name == "PESERTA 1"
    assert not staging_exists(import_id=imp.pk)
    services.import_run(import_id=imp.pk)
    assert ArrearsRecord.all_regencies.count() == 3


@pytest.mark.django_db
def test_an_import_being_run_elsewhere_is_left_alone(branch_a, tmp_path):
    imp, _duplicate = _create(branch_a, write_file(tmp_path, [line(1)]))
    other = connection.get_new_connection(connection.get_connection_params())
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s, %s)", [services._LOCK_IMPORT_RUN, imp.pk])
        result = services.import_run(import_id=imp.pk)
        assert result.status == "queued"
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", [services._LOCK_IMPORT_RUN, imp.pk])
    finally:
        other.close()
    assert services.import_run(import_id=imp.pk).status == "applied"


@pytest.mark.django_db
def test_a_file_missing_required_columns_is_rejected_whole(branch_a, tmp_path):
    path = tmp_path / "salah.csv"
    path.write_text("nama,alamat\nANDI,Jl. Poros\n", encoding="utf-8")
    imp, _duplicate = _create(branch_a, path)

    done = services.import_run(import_id=imp.pk)

    assert done.status == "rejected"
    assert "no_kartu" in done.message
    assert Participant.all_regencies.count() == 0
    assert list(ImportRowError.objects.filter(arrears_import=done).values_list("row", flat=True)) == [0]
    assert not staging_exists(import_id=imp.pk)
    # A rejected file may be uploaded again (after the limits change, say): not a duplicate.
    _again, duplicate = _create(branch_a, path)
    assert not duplicate


@pytest.mark.django_db
def test_an_error_report_csv_is_written(branch_a, tmp_path):
    imp = run_import(branch_a, tmp_path, [line(1), line(1)])
    text = Path(imp.error_report.path).read_text(encoding="utf-8").splitlines()
    assert text[0] == "baris,kolom,pesan,nilai"
    assert text[1].startswith("3,no_kartu,")


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_apply_transaction_is_open(branch_a, tmp_path, monkeypatch):
    seen = {}
    original = apply_module._participants

    def peek(*args, **kwargs):
        params = connection.get_connection_params()
        other = psycopg2.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})
        try:
            with other.cursor() as cur:
                cur.execute("SELECT status, progress FROM participants_arrearsimport")
                seen["row"] = cur.fetchone()
        finally:
            other.close()
        return original(*args, **kwargs)

    monkeypatch.setattr(apply_module, "_participants", peek)
    monkeypatch.setattr(services._Progress, "__call__", _unthrottled(services._Progress.__call__))
    run_import(branch_a, tmp_path, [line(1), line(2)])

    status, progress = seen["row"]
    assert status == "applying"
    assert 70 <= progress < 100
    assert Participant.all_regencies.count() == 2


def _unthrottled(call):
    def wrapper(self, pct, *, force=False):
        return call(self, pct, force=True)

    return wrapper


@pytest.mark.django_db
def test_seed_participants_runs_a_generated_list_through_the_pipeline(branch_a, tmp_path):
    summary = seed_participants(branch=branch_a, per_regency=15, seed=3)

    assert summary["status"] == "applied"
    assert summary["rows"] == 30
    assert summary["valid"] == 30 and summary["invalid"] == 0
    assert set(summary["regencies"]) <= {"73.22", "73.17"}
    assert Participant.all_regencies.count() == 30
    assert seed_participants(branch=branch_a, per_regency=15, seed=3)["import_id"] == summary["import_id"]
    assert ArrearsImport.objects.count() == 1
