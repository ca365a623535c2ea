"""Every import ends: faults injected into real runs, each ending in a defined state
with nothing half-applied, and a retry that works.

Worker deaths and terminated connections are real: the run is a separate Python process on the
test database, killed with SIGKILL or cut off with pg_terminate_backend while its apply
transaction is open. Small files; the 200,000-row version is bench/faults_200k.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.db.models import Sum
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from participants import services
from participants.imports import apply as apply_module
from participants.imports.staging import staging_exists, staging_table_name
from participants.models import ArrearsImport, ArrearsRecord, Family, ImportStatus, Participant
from participants.tasks import import_run_task
from tests.child_database import database_url
from tests.factories import UserFactory, api_token_for
from tests.participants.importing import card, csv_text, line, run_import, write_file

ROOT = Path(__file__).resolve().parents[2]
OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)

# The run in a child process. pause_apply: stops inside the apply transaction (after the
# participants and their history are written, before the commit), prints its backend pid and
# waits for `marker`; die_in_parse: the "poison file": the worker process dies (SIGKILL) while
# reading the file.
CHILD = r"""
import os, signal, sys, time
import django
django.setup()
from participants import services
from participants.imports import apply

mode, import_id, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if mode == "pause_apply":
    step = apply._history
    def paused(run, cur, s):
        result = step(run, cur, s)
        cur.execute("SELECT pg_backend_pid()")
        print("PAUSED", cur.fetchone()[0], flush=True)
        deadline = time.monotonic() + 60
        while not os.path.exists(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        return result
    apply._history = paused
elif mode == "die_in_parse":
    from participants.imports import parse
    def dying(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    parse.parse_arrears_file = dying
services.import_run(import_id=import_id)
"""


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _database_url() -> str:
    return database_url(connection.settings_dict)


def _child(mode: str, import_id: int, marker: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONPATH": str(ROOT),
        "ARREARS_IMPORT_HEARTBEAT_SECONDS": "0.1",
    }
    return subprocess.Popen(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", CHILD, mode, str(import_id), str(marker)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_paused(child: subprocess.Popen) -> int:
    """The child's backend pid once it holds its apply transaction open."""
    line_out = child.stdout.readline()
    if not line_out.startswith("PAUSED"):
        child.kill()
        raise AssertionError(f"child did not pause: {line_out!r} {child.stderr.read()[-3000:]}")
    return int(line_out.split()[1])


def _wait_not_running(import_id: int) -> None:
    """The killed worker's session (and its run lock) is gone."""
    deadline = time.monotonic() + 15
    while services.import_is_running(import_id=import_id):
        assert time.monotonic() < deadline, "the dead worker's session still holds the run lock"
        time.sleep(0.05)


def _create(branch, tmp_path, rows, *, as_of=NOV, mode="full", name="daftar.csv", ask_first=False):
    path = write_file(tmp_path, rows, name)
    arrears_import, duplicate = services.import_create(
        branch=branch, actor=None, uploaded_file=path, as_of=as_of, mode=mode, enqueue=False, ask_first=ask_first,
    )
    assert not duplicate
    return arrears_import


def _snapshot() -> tuple:
    """What an apply writes: nothing of it may change unless the whole apply commits."""
    return (
        Participant.all_regencies.count(),
        Participant.all_regencies.aggregate(total=Sum("arrears_amount"))["total"],
        Participant.all_regencies.filter(status="cleared").count(),
        ArrearsRecord.all_regencies.count(),
        Family.all_regencies.count(),
    )


def _later() -> dt.datetime:
    """A sweep as it runs once the heartbeat has gone stale."""
    return timezone.now() + dt.timedelta(seconds=settings.ARREARS_IMPORT_STALE_SECONDS + 1)


def _lists():
    """A first list of 30 (applied) and a second full list: 30 updated, 10 new."""
    first = [line(n) for n in range(1, 31)]
    second = [line(n, months=5) for n in range(1, 31)] + [line(n) for n in range(31, 41)]
    return first, second


@pytest.fixture
def second_waiting(branch_a, tmp_path):
    """The first list applied and the second uploaded, not run yet: its import, and `_snapshot()`
    as it stands before the apply."""
    first, second = _lists()
    run_import(branch_a, tmp_path, first, as_of=OCT)
    return _create(branch_a, tmp_path, second), _snapshot()


def _assert_second_applied(arrears_import: ArrearsImport) -> None:
    arrears_import.refresh_from_db()
    assert arrears_import.status == ImportStatus.APPLIED, arrears_import.message
    assert (arrears_import.valid, arrears_import.new, arrears_import.updated) == (40, 10, 30)
    assert Participant.all_regencies.count() == 40
    assert ArrearsRecord.all_regencies.filter(arrears_import=arrears_import).count() == 40
    assert set(Participant.all_regencies.values_list("months_in_arrears", flat=True)) == {5, 3}
    assert not staging_exists(import_id=arrears_import.pk)


# --- (a) a worker killed mid-apply ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_apply_is_swept_and_applied_once(second_waiting, tmp_path):
    imp, before = second_waiting

    child = _child("pause_apply", imp.pk, tmp_path / "go")
    _wait_paused(child)
    imp.refresh_from_db()
    assert imp.status == ImportStatus.APPLYING and imp.attempts == 1
    beat = imp.heartbeat_at
    deadline = time.monotonic() + 5
    while ArrearsImport.objects.get(pk=imp.pk).heartbeat_at == beat:  # the worker beats while it applies
        assert time.monotonic() < deadline, "no heartbeat during the apply"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    _wait_not_running(imp.pk)

    # Nothing half-applied; the import looks alive until its heartbeat goes stale.
    assert _snapshot() == before
    assert staging_exists(import_id=imp.pk)
    assert services.import_sweep()["requeued"] == []

    swept = services.import_sweep(now=_later())  # queued again; the (eager) task runs it
    assert swept["requeued"] == [imp.pk]
    _assert_second_applied(imp)
    assert imp.attempts == 2
    verbs = list(AuditEvent.objects.filter(object_type="participants.arrearsimport", object_id=str(imp.pk))
                 .values_list("verb", flat=True))
    assert "import.requeued" in verbs


# --- (b) the apply's database connection terminated --------------------------------------


def _terminated_run(imp: ArrearsImport, marker: Path) -> None:
    marker.unlink(missing_ok=True)
    child = _child("pause_apply", imp.pk, marker)
    backend = _wait_paused(child)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", [backend])
    marker.touch()
    child.wait(timeout=60)
    assert child.returncode != 0  # the run raised: its connection was gone


@pytest.mark.django_db(transaction=True)
def test_a_terminated_connection_is_retried_by_the_sweeper(second_waiting, tmp_path):
    imp, before = second_waiting

    _terminated_run(imp, tmp_path / "go")

    imp.refresh_from_db()
    assert imp.status == ImportStatus.QUEUED and imp.heartbeat_at is None
    assert "terputus" in imp.message and "dicoba lagi otomatis" in imp.message
    assert _snapshot() == before
    assert not staging_exists(import_id=imp.pk)

    assert services.import_sweep()["requeued"] == [imp.pk]  # at once: no heartbeat to wait for
    _assert_second_applied(imp)


@pytest.mark.django_db(transaction=True)
def test_terminated_twice_is_failed_and_the_same_file_uploads_again(second_waiting, branch_a, tmp_path):
    imp, before = second_waiting

    _terminated_run(imp, tmp_path / "go")
    _terminated_run(imp, tmp_path / "go")

    imp.refresh_from_db()
    assert imp.status == ImportStatus.FAILED and imp.attempts == 2
    assert imp.message == (
        "Pemrosesan terhenti dua kali (pekerja mati atau basis data terputus). Tidak ada data yang diubah. "
        "Unggah ulang berkas ini."
    )
    assert _snapshot() == before
    assert services.import_sweep(now=_later())["requeued"] == []  # failed stays failed

    again = _create(branch_a, tmp_path, _lists()[1])  # the same bytes: not a duplicate of a failed one
    assert again.pk != imp.pk and again.sha256 == imp.sha256
    services.import_run(import_id=again.pk)
    _assert_second_applied(again)


# --- (c) the same file after failed / discarded -----------------------------------------


@pytest.mark.django_db
def test_the_same_file_after_a_failed_or_discarded_import_is_accepted(branch_a, tmp_path, monkeypatch):
    rows = [line(n) for n in range(1, 6)]
    imp = _create(branch_a, tmp_path, rows)

    def broken(*args, **kwargs):
        raise ValueError("disk on fire")

    with monkeypatch.context() as patch:
        patch.setattr("participants.imports.parse.parse_arrears_file", broken)
        with pytest.raises(ValueError):
            services.import_run(import_id=imp.pk)
    imp.refresh_from_db()
    assert imp.status == ImportStatus.FAILED and "ValueError" in imp.message

    again = _create(branch_a, tmp_path, rows)
    assert again.pk != imp.pk
    services.import_run(import_id=again.pk)
    again.refresh_from_db()
    assert again.status == ImportStatus.APPLIED
    path = write_file(tmp_path, rows, "daftar.csv")
    same, duplicate = services.import_create(branch=branch_a, actor=None, uploaded_file=path, as_of=NOV,
                                             mode="full", enqueue=False)
    assert duplicate and same.pk == again.pk  # an applied one does block

    # Discarded: a full list that waited for confirmation, then thrown away.
    shorter = [line(n) for n in range(1, 3)]
    waiting = _create(branch_a, tmp_path, shorter, name="pendek.csv", ask_first=True)
    services.import_run(import_id=waiting.pk)
    waiting.refresh_from_db()
    assert waiting.status == ImportStatus.AWAITING_CONFIRMATION
    blocked = write_file(tmp_path, shorter, "pendek.csv")
    same, duplicate = services.import_create(branch=branch_a, actor=None, uploaded_file=blocked, as_of=NOV,
                                             mode="full", enqueue=False, ask_first=True)
    assert duplicate and same.pk == waiting.pk  # live: blocks
    services.import_discard_unconfirmed(arrears_import=waiting, actor=None)
    assert not staging_exists(import_id=waiting.pk)
    fresh = _create(branch_a, tmp_path, shorter, name="pendek.csv", ask_first=True)
    assert fresh.pk != waiting.pk


# --- (d) the dead letter ---------------------------------------------------------------


def _killed_twice(imp: ArrearsImport, tmp_path: Path) -> None:
    for _ in range(2):
        child = _child("die_in_parse", imp.pk, tmp_path / "unused")
        child.wait(timeout=60)
        assert child.returncode == -signal.SIGKILL
        _wait_not_running(imp.pk)
    imp.refresh_from_db()
    assert imp.status == ImportStatus.PARSING and imp.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_a_task_that_kills_its_worker_twice_is_dead_lettered(branch_a, tmp_path):
    rows = [line(n) for n in range(1, 6)]
    redelivered = _create(branch_a, tmp_path, rows, name="a.csv")
    _killed_twice(redelivered, tmp_path)

    # The broker delivers the message a third time: the run is refused, not started.
    assert import_run_task.delay(redelivered.pk).get() == ImportStatus.FAILED
    redelivered.refresh_from_db()
    assert redelivered.attempts == 3
    assert redelivered.message.startswith("Pemrosesan terhenti dua kali")
    assert not staging_exists(import_id=redelivered.pk)
    assert Participant.all_regencies.count() == 0
    assert AuditEvent.objects.filter(verb="import.dead_letter", object_id=str(redelivered.pk)).exists()

    # Nobody delivers it again: the sweeper fails it once the heartbeat is stale.
    swept = _create(branch_a, tmp_path, [line(n) for n in range(6, 9)], name="b.csv")
    _killed_twice(swept, tmp_path)
    assert services.import_sweep(now=_later())["failed"] == [swept.pk]
    swept.refresh_from_db()
    assert swept.status == ImportStatus.FAILED and swept.message.startswith("Pemrosesan terhenti dua kali")
    assert not staging_exists(import_id=swept.pk)


# --- (e) full lists that ask first ------------------------------------------------------


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


def _upload(client, branch, rows, *, mode: str | None = "full", name="tunggakan.csv"):
    data = {"file": SimpleUploadedFile(name, csv_text(rows).encode(), content_type="text/csv"),
            "branch": branch.code, "as_of": NOV.isoformat()}
    if mode is not None:
        data["mode"] = mode
    return client.post("/api/v1/imports/", data, format="multipart")


def _active_pledge(participant):
    from donations.models import ActivePledge, Audience, Campaign, CampaignStatus, Kind, Pledge

    campaign = Campaign.objects.create(regency_id=participant.regency_id, slug="peduli", title="Peduli",
                                       audience=Audience.PUBLIC, kind=Kind.BOTH, status=CampaignStatus.ACTIVE)
    pledge = Pledge.objects.create(
        regency_id=participant.regency_id, campaign=campaign, participant=participant, donor=UserFactory(),
        status="pledged", amount=105_000, arrears_amount=105_000, months_in_arrears=3, monthly_tariff=35_000,
    )
    assert ActivePledge.all_regencies.filter(participant=participant).exists()  # kept by the database
    return pledge


@pytest.mark.django_db
def test_a_full_list_that_releases_a_pledge_waits_for_confirmation(
    branch_a, bpjs_a, bpjs_b, tmp_path, django_capture_on_commit_callbacks
):
    run_import(branch_a, tmp_path, [line(n) for n in range(1, 11)], as_of=OCT)
    held = Participant.all_regencies.get(card_number=card(10))
    _active_pledge(held)
    client = _api(bpjs_a)

    # 1 of 10 would leave the list: within the 10 % threshold, but it holds a pledge.
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, branch_a, [line(n) for n in range(1, 10)])
    assert response.status_code == 202, response.content
    import_id = response.json()["id"]
    detail = client.get(f"/api/v1/imports/{import_id}/").json()
    assert detail["status"] == "awaiting_confirmation"
    assert detail["preview"] == {"would_clear": 1, "would_clear_by_regency": {"73.22": 1}, "pledges_released": 1}
    held.refresh_from_db()
    assert held.status != "cleared"  # nothing applied yet

    # The page shows the preview with both buttons.
    web = APIClient()
    web.force_login(bpjs_a)
    page = web.get(f"/branches/{branch_a.code}/imports/{import_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-would-clear="1"' in html and 'data-pledges-released="1"' in html
    assert "Terapkan" in html and "Batalkan" in html and "Luwu Utara" in html

    # Another branch's admin: 404 on both.
    other = _api(bpjs_b)
    assert other.post(f"/api/v1/imports/{import_id}/confirm/").status_code == 404
    assert other.post(f"/api/v1/imports/{import_id}/discard/").status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(f"/api/v1/imports/{import_id}/confirm/")
    assert confirmed.status_code == 202
    imp = ArrearsImport.objects.get(pk=import_id)
    assert imp.status == ImportStatus.APPLIED and imp.cleared == 1 and imp.confirmed_by == bpjs_a
    held.refresh_from_db()
    assert held.status == "cleared"
    assert client.post(f"/api/v1/imports/{import_id}/confirm/").status_code == 409
    assert AuditEvent.objects.filter(verb="import.confirmed", object_id=str(import_id), actor=bpjs_a).exists()


@pytest.mark.django_db
def test_the_threshold_and_discard(branch_a, bpjs_a, tmp_path, django_capture_on_commit_callbacks):
    run_import(branch_a, tmp_path, [line(n) for n in range(1, 11)], as_of=OCT)
    client = _api(bpjs_a)
    before = _snapshot()

    # 2 of 10 (20 %) would leave: asks; discard is one call and changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        waiting = _upload(client, branch_a, [line(n) for n in range(1, 9)]).json()["id"]
    assert ArrearsImport.objects.get(pk=waiting).status == ImportStatus.AWAITING_CONFIRMATION
    discarded = client.post(f"/api/v1/imports/{waiting}/discard/")
    assert discarded.status_code == 200 and discarded.json() == {"id": waiting, "status": "discarded"}
    assert _snapshot() == before and not staging_exists(import_id=waiting)
    assert client.post(f"/api/v1/imports/{waiting}/discard/").status_code == 409

    # The same file again is a new import (the discarded one does not block it).
    with django_capture_on_commit_callbacks(execute=True):
        again = _upload(client, branch_a, [line(n) for n in range(1, 9)])
    assert again.status_code == 202 and again.json()["id"] != waiting

    # A higher threshold lets the same kind of list through at once.
    branch_a.clear_confirm_percent = 25
    branch_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        through = _upload(client, branch_a, [line(n) for n in range(1, 9)] + [line(99)]).json()["id"]
    imp = ArrearsImport.objects.get(pk=through)
    assert imp.status == ImportStatus.APPLIED and imp.cleared == 2
    assert imp.preview["would_clear"] == 2

    # No mode: a partial list, which never clears anyone.
    with django_capture_on_commit_callbacks(execute=True):
        partial = _upload(client, branch_a, [line(1, months=7)], mode=None).json()["id"]
    imp = ArrearsImport.objects.get(pk=partial)
    assert imp.mode == "partial" and imp.status == ImportStatus.APPLIED and imp.cleared == 0


@pytest.mark.django_db
def test_the_command_applies_at_once_and_prints_the_preview(branch_a, tmp_path):
    import io
    import json

    from django.core.management import call_command

    run_import(branch_a, tmp_path, [line(n) for n in range(1, 11)], as_of=OCT)
    path = write_file(tmp_path, [line(n) for n in range(1, 6)], "lima.csv")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_arrears", str(path), "--branch", branch_a.code, "--as-of", NOV.isoformat(),
                 "--mode", "full", stdout=out, stderr=err)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["status"] == "applied" and result["cleared"] == 5
    assert result["preview"] == {"would_clear": 5, "would_clear_by_regency": {"73.22": 5}, "pledges_released": 0}
    assert "Pratinjau daftar lengkap: 5 dari 10 peserta" in err.getvalue()


# --- (f) two branches side by side --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_branches_apply_side_by_side_with_one_card_in_both(branch_a, branch_b, tmp_path, monkeypatch):
    """A's apply is held open after inserting its participants; B's apply runs meanwhile (no
    installation-wide lock: it waits only on the one card number A inserted, a row lock, not an
    advisory one) and, once A commits, reports that card as registered in A's regency."""
    shared = card(500)
    imp_a = _create(branch_a, tmp_path, [line(n) for n in range(1, 6)] + [line(500, card_number=shared)],
                    name="a.csv", mode="partial")
    rows_b = [line(n, code="52.03", kecamatan="Selong", desa="Pancor") for n in range(601, 605)]
    rows_b.append(line(500, code="52.03", kecamatan="Selong", desa="Pancor", card_number=shared))
    imp_b = _create(branch_b, tmp_path, rows_b, name="b.csv", mode="partial")

    a_inside, release_a = threading.Event(), threading.Event()
    step = apply_module._history

    def held_open(run, cur, s):
        result = step(run, cur, s)
        if s == staging_table_name(imp_a.pk):
            a_inside.set()
            release_a.wait(30)
        return result

    monkeypatch.setattr(apply_module, "_history", held_open)
    errors: list[BaseException] = []

    def runner(import_id):
        try:
            services.import_run(import_id=import_id)
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    thread_a = threading.Thread(target=runner, args=(imp_a.pk,))
    thread_a.start()
    assert a_inside.wait(30)
    thread_b = threading.Thread(target=runner, args=(imp_b.pk,))
    thread_b.start()
    # B gets past every lock of its own branch and waits on A's uncommitted card number only.
    wait_event = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT wait_event_type, wait_event FROM pg_stat_activity "
                "WHERE datname = current_database() AND state = 'active' AND wait_event_type = 'Lock'"
            )
            found = cur.fetchall()
        if found:
            wait_event = found[0]
            break
        time.sleep(0.05)
    release_a.set()
    thread_a.join(60)
    thread_b.join(60)
    assert not errors, errors
    assert wait_event is not None and wait_event[1] != "advisory", wait_event

    imp_a.refresh_from_db()
    imp_b.refresh_from_db()
    assert imp_a.status == imp_b.status == ImportStatus.APPLIED
    assert (imp_a.valid, imp_a.new) == (6, 6)
    assert (imp_b.valid, imp_b.new, imp_b.invalid) == (4, 4, 1)
    assert imp_b.errors[0]["column"] == "no_kartu" and "Luwu Utara" in imp_b.errors[0]["message"]
    moved = Participant.all_regencies.get(card_number=shared)
    assert moved.regency.code == "73.22"
    assert Participant.all_regencies.count() == 10
    assert ArrearsRecord.all_regencies.filter(participant=moved).count() == 1


# --- (6) the operator's view ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_operator_sees_stuck_and_failed_imports_and_retries_or_discards_them(branch_a, tmp_path, client):
    operator = UserFactory(email="operator@example.test", is_staff=True, is_superuser=True)
    client.force_login(operator)
    stuck = _create(branch_a, tmp_path, [line(1)], name="stuck.csv")
    ArrearsImport.objects.filter(pk=stuck.pk).update(
        status=ImportStatus.APPLYING, attempts=1, heartbeat_at=timezone.now() - dt.timedelta(minutes=10)
    )
    dead = _create(branch_a, tmp_path, [line(2)], name="dead.csv")
    ArrearsImport.objects.filter(pk=dead.pk).update(status=ImportStatus.FAILED, attempts=2,
                                                   message="Pemrosesan terhenti dua kali")
    fine = _create(branch_a, tmp_path, [line(3)], name="fine.csv")

    page = client.get("/admin/participants/arrearsimport/?health=stuck")
    assert page.status_code == 200
    shown = {obj.pk for obj in page.context["cl"].result_list}
    assert shown == {stuck.pk}
    shown = {obj.pk for obj in client.get("/admin/participants/arrearsimport/?health=dead_letter")
             .context["cl"].result_list}
    assert shown == {dead.pk}

    client.post("/admin/participants/arrearsimport/",
                {"action": "retry_imports", "_selected_action": [dead.pk, fine.pk]})
    dead.refresh_from_db()
    fine.refresh_from_db()
    assert dead.status == ImportStatus.QUEUED and dead.attempts == 0
    assert fine.status == ImportStatus.QUEUED  # queued and fresh: not retried (a warning says so)
    assert AuditEvent.objects.filter(verb="import.retried", object_id=str(dead.pk), actor=operator).exists()
    assert not AuditEvent.objects.filter(verb="import.retried", object_id=str(fine.pk)).exists()

    client.post("/admin/participants/arrearsimport/",
                {"action": "discard_imports", "_selected_action": [stuck.pk]})
    stuck.refresh_from_db()
    assert stuck.status == ImportStatus.DISCARDED
    assert AuditEvent.objects.filter(verb="import.discarded", object_id=str(stuck.pk), actor=operator).exists()


@pytest.mark.django_db(transaction=True)
def test_a_beat_never_brings_back_the_heartbeat_a_run_has_cleared(branch_a, tmp_path, settings):
    """The run writes its outcome with a NULL heartbeat while its heartbeat thread may still be
    beating: a later beat must leave it NULL (or the sweeper waits a whole stale period)."""
    settings.ARREARS_IMPORT_HEARTBEAT_SECONDS = 0.05
    imp = _create(branch_a, tmp_path, [line(1)])
    ArrearsImport.objects.filter(pk=imp.pk).update(heartbeat_at=None)  # the outcome: queued, no heartbeat

    beat = services._Heartbeat(imp.pk)
    beat.start()
    time.sleep(0.4)
    beat.stop()
    imp.refresh_from_db()
    assert imp.status == ImportStatus.QUEUED and imp.heartbeat_at is None

    stale = timezone.now() - dt.timedelta(hours=1)
    ArrearsImport.objects.filter(pk=imp.pk).update(heartbeat_at=stale)  # a run under way
    beat = services._Heartbeat(imp.pk)
    beat.start()
    time.sleep(0.4)
    beat.stop()
    imp.refresh_from_db()
    assert imp.heartbeat_at is not None and imp.heartbeat_at > stale


@pytest.mark.django_db(transaction=True)
def test_a_beat_while_the_apply_holds_the_row_is_skipped_quietly(branch_a, tmp_path, settings, caplog):
    """A long apply holds its import's row until it commits: the beats meanwhile wait their
    lock timeout and skip (no warning with a traceback every beat), and beat again after."""
    settings.ARREARS_IMPORT_HEARTBEAT_SECONDS = 0.05
    imp = _create(branch_a, tmp_path, [line(1)])
    stale = timezone.now() - dt.timedelta(hours=1)
    ArrearsImport.objects.filter(pk=imp.pk).update(heartbeat_at=stale)  # a run under way
    holder = connection.get_new_connection(connection.get_connection_params())
    try:
        with holder.cursor() as cur:  # the apply's transaction: the row locked
            cur.execute("SELECT 1 FROM participants_arrearsimport WHERE id = %s FOR UPDATE", [imp.pk])
        beat = services._Heartbeat(imp.pk)
        with caplog.at_level(logging.DEBUG, logger="participants.services"):
            beat.start()
            time.sleep(2.6)  # past the beat's lock timeout (2 s)
            imp.refresh_from_db()
            assert imp.heartbeat_at == stale
            holder.rollback()
            time.sleep(0.4)
            beat.stop()
    finally:
        holder.close()
    imp.refresh_from_db()
    assert imp.heartbeat_at > stale
    assert "heartbeat skipped" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "heartbeat" in r.getMessage()]
