"""Writes of the participants app: arrears imports (create, run).

`import_create` stores an uploaded list once (by sha256) and queues it;
`import_run` is the whole pipeline: parse -> COPY into staging -> apply in one
transaction under a per-branch lock. Every status change is an audit event.
Other apps hook into `arrears_import_applied` (sent inside the apply transaction: receivers
queue their work with core.outbox.enqueue_on_commit, which sends it after the commit).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import django.dispatch
import psycopg2.errors
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from psycopg2 import sql

from accounts.models import User
from core.audit import audit_record
from core.errors import Conflict, DomainError
from core.formatting import format_date
from core.iterators import read_ahead
from core.uploads import local_copy, spool_dir, spool_upload
from participants.hooks import monthly_tariffs, pledges_held
from participants.imports.apply import ApplyContext, apply_staging
from participants.imports.staging import (
    PlaceKeys,
    errors_copy,
    held_copy,
    held_table_name,
    places_send,
    places_table_name,
    staging_buffer,
    staging_create,
    staging_drop,
    staging_send,
    staging_table_name,
    warnings_copy,
)
from participants.models import (
    BLOCKING_STATUSES,
    FINAL_STATUSES,
    RUNNING_STATUSES,
    TRANSITIONS,
    ArrearsImport,
    ImportMode,
    ImportRowError,
    ImportRowWarning,
    ImportStatus,
    Participant,
    ParticipantStatus,
    Standing,
)
from participants.partitions import history_partition_ensure
from regencies.models import BpjsBranch, Regency

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

logger = logging.getLogger(__name__)

# Sent (on commit) after an import was applied: `import_id`. Screening and
# reconciliation connect here.
arrears_import_applied = django.dispatch.Signal()

# Advisory lock namespaces (pg_advisory_lock(int, int)).
_LOCK_IMPORT_RUN = 73001  # session lock: one worker runs one import at a time
_LOCK_BRANCH_APPLY = 73002  # transaction lock: one apply per branch at a time
_LOCK_REGENCY_APPLY = 73004  # transaction lock: one apply per regency (a regency of two branches)

# Runs of one import that may start; a run beyond this is refused: `failed` (the dead letter).
MAX_ATTEMPTS = 2
# An apply rolled back by a deadlock with another branch's apply is tried this many times.
_APPLY_ROUNDS = 3

_PARSE_SHARE = 70  # parsing drives progress 0-70; applying 70-100
_FIRST_ERRORS = 50
# The same bytes are refused while an import of them is live or applied (failed, rejected and
# discarded ones never block a new upload).
_LIVE = BLOCKING_STATUSES


class _MovableFile(File):
    """A finished temporary file: FileSystemStorage moves it instead of copying."""

    def temporary_file_path(self) -> str:
        return self.name or ""


def import_create(
    *,
    branch: BpjsBranch,
    actor: User | None,
    uploaded_file: Any,
    as_of: dt.date,
    mode: str,
    original_name: str | None = None,
    enqueue: bool = True,
    ask_first: bool = False,
) -> tuple[ArrearsImport, bool]:
    """Store an arrears list for `branch` and queue it. Returns (import, duplicate).

    The same bytes for the branch again return the existing live or applied import with
    `duplicate=True`; nothing new is stored (a failed, rejected or discarded one does not
    count). `uploaded_file` is a Django File / UploadedFile or a filesystem path.
    `ask_first` (browser and API uploads): a full list that would clear more than the
    branch's threshold or release an active pledge stops at `awaiting_confirmation`.
    """
    if mode not in ImportMode.values:
        raise DomainError(
            _("Mode impor '%(mode)s' tidak dikenal; pilih full atau partial.") % {"mode": mode},
            code="invalid_mode",
        )
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise DomainError(_("Tanggal data (as-of) tidak valid."), code="invalid_as_of")
    limit = settings.ARREARS_MAX_UPLOAD_BYTES
    with _open_source(uploaded_file) as (source, name):
        name = original_name or name
        tmp_path, size, sha256 = _spool(source, limit=limit)
    try:
        existing = ArrearsImport.objects.filter(branch=branch, sha256=sha256, status__in=_LIVE).first()
        if existing is not None:
            return existing, True
        try:
            with transaction.atomic():
                arrears_import = ArrearsImport(
                    branch=branch,
                    uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
                    original_name=name[:255],
                    size_bytes=size,
                    sha256=sha256,
                    as_of=as_of,
                    mode=mode,
                    status=ImportStatus.QUEUED,
                    ask_first=ask_first,
                    heartbeat_at=timezone.now(),
                )
                arrears_import.file.save(name, _MovableFile(open(tmp_path, "rb"), name=tmp_path), save=False)  # noqa: SIM115
                arrears_import.save()
                audit_record(
                    actor=actor,
                    verb="import.created",
                    obj=arrears_import,
                    after={
                        "status": ImportStatus.QUEUED,
                        "branch": branch.code,
                        "as_of": as_of.isoformat(),
                        "mode": mode,
                        "ask_first": ask_first,
                        "sha256": sha256,
                        "size_bytes": size,
                        "original_name": arrears_import.original_name,
                    },
                )
                if enqueue:
                    import_id = arrears_import.pk
                    _enqueue(import_id)
        except IntegrityError:
            # The same bytes were uploaded at the same moment: that one wins.
            existing = ArrearsImport.objects.filter(branch=branch, sha256=sha256, status__in=_LIVE).first()
            if existing is None:
                raise
            return existing, True
        return arrears_import, False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_path)


def _enqueue(import_id: int) -> None:
    """Called inside the creating transaction: the run is written to the outbox with the import
    (core.outbox) and sent after the commit, or by the relay once the broker is back."""
    from core.outbox import enqueue_on_commit

    enqueue_on_commit("participants.import_run", import_id)


@contextlib.contextmanager
def _open_source(uploaded_file: Any) -> Iterator[tuple[Any, str]]:
    if isinstance(uploaded_file, str | os.PathLike):
        path = Path(uploaded_file)
        if not path.is_file():
            raise DomainError(_("Berkas %(path)s tidak ditemukan.") % {"path": path}, code="file_missing")
        with path.open("rb") as handle:
            yield handle, path.name
        return
    name = os.path.basename(getattr(uploaded_file, "name", "") or "daftar-tunggakan")
    if hasattr(uploaded_file, "seek"):
        with contextlib.suppress(Exception):
            uploaded_file.seek(0)
    yield uploaded_file, name


def _spool(source: Any, *, limit: int) -> tuple[str, int, str]:
    return spool_upload(source, folder="imports", limit=limit, too_large=_(
        "Berkas terlalu besar: lebih dari %(limit)s MB. Pecah daftar menjadi "
        "beberapa berkas (mode sebagian) atau hubungi operator."))


# --- running an import ----------------------------------------------------------


class _Progress:
    """Writes `progress` through a separate autocommit connection, at most every 0.5 s,
    so the report page sees it while the apply transaction is still open."""

    def __init__(self, import_id: int, echo: Callable[[int, str], None] | None = None) -> None:
        self.import_id = import_id
        self.echo = echo
        self.last_pct = -1
        self.last_at = 0.0
        self.conn: PgConnection | None = None
        self.phase = ""

    def __call__(self, pct: float, *, force: bool = False) -> None:
        value = max(0, min(100, int(pct)))
        if value <= self.last_pct:
            return
        now = time.monotonic()
        if not force and now - self.last_at < 0.5:
            return
        self.last_pct, self.last_at = value, now
        if self.echo:
            self.echo(value, self.phase)
        try:
            if self.conn is None:
                self.conn = connection.get_new_connection(connection.get_connection_params())
                self.conn.autocommit = True
                with self.conn.cursor() as cur:
                    cur.execute("SET lock_timeout = '300ms'")
            with self.conn.cursor() as cur:
                cur.execute(
                    "UPDATE participants_arrearsimport SET progress = %s WHERE id = %s AND progress < %s",
                    [value, self.import_id, value],
                )
        except Exception:  # progress is best effort; the import goes on
            logger.warning("import %s: progress write failed", self.import_id, exc_info=True)
            self.close()

    def parser_callback(self, *args: Any) -> None:
        """Accepts `(fraction)` in 0..1 or `(done, total)` from the parser."""
        if len(args) >= 2 and args[1]:
            fraction = float(args[0]) / float(args[1])
        elif args:
            fraction = float(args[0])
            if fraction > 1:  # a percentage
                fraction /= 100
        else:
            return
        self(min(max(fraction, 0.0), 1.0) * _PARSE_SHARE)

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None


class ImportSuperseded(Exception):
    """The import's status was changed by someone else (a discard, the sweeper): stop quietly."""


def _transition(arrears_import: ArrearsImport, status: str, *, actor: User | None = None,
                verb: str = "import.status",
                **fields: Any) -> None:
    """Move the import to `status` (with `fields`) and audit it, in one transaction.

    Only from the status the caller last saw, and only along TRANSITIONS: if the row moved
    meanwhile (discarded, swept), nothing is written and ImportSuperseded is raised."""
    before = arrears_import.status
    if status not in TRANSITIONS.get(before, ()):
        raise ValueError(f"import {arrears_import.pk}: {before} -> {status} is not a transition")
    with transaction.atomic():
        fields["status"] = status
        if not ArrearsImport.objects.filter(pk=arrears_import.pk, status=before).update(**fields):
            raise ImportSuperseded(arrears_import.pk)
        after = {"status": status}
        if fields.get("message"):
            after["message"] = fields["message"]
        if "attempts" in fields or verb != "import.status":
            after["attempts"] = fields.get("attempts", arrears_import.attempts)
        audit_record(actor=actor, verb=verb, obj=arrears_import, before={"status": before}, after=after)
    for key, value in fields.items():
        setattr(arrears_import, key, value)


# Kept for callers of the earlier name.
_set_status = _transition


def _dead_letter_message() -> str:
    return _(
        "Pemrosesan terhenti dua kali (pekerja mati atau basis data terputus). Tidak ada data yang "
        "diubah. Unggah ulang berkas ini."
    )


def _interrupted_message() -> str:
    return _(
        "Pemrosesan terputus (pekerja berhenti atau koneksi basis data terputus); tidak ada data yang "
        "diubah. Impor dicoba lagi otomatis dari berkas yang tersimpan."
    )


class _Heartbeat:
    """Writes `heartbeat_at` every ARREARS_IMPORT_HEARTBEAT_SECONDS from a thread with its own
    autocommit connection, whatever the worker is doing (a long statement writes no progress).
    It dies with the process: a killed worker stops beating and `import_sweep` notices."""

    def __init__(self, import_id: int) -> None:
        self.import_id = import_id
        self.interval = float(settings.ARREARS_IMPORT_HEARTBEAT_SECONDS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"import-{import_id}-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        conn = None
        try:
            while not self._stop.wait(self.interval):
                try:
                    if conn is None:
                        conn = connection.get_new_connection(connection.get_connection_params())
                        conn.autocommit = True
                        with conn.cursor() as cur:
                            cur.execute("SET lock_timeout = '2s'")
                    # `heartbeat_at IS NOT NULL`: once the run has written its outcome (a
                    # NULL heartbeat), a beat already under way cannot bring it back.
                    with conn.cursor() as cur:
                        cur.execute(
                            sql.SQL(
                                "UPDATE {} SET heartbeat_at = now() WHERE id = %s "
                                "AND status = ANY(%s) AND heartbeat_at IS NOT NULL"
                            ).format(sql.Identifier(ArrearsImport._meta.db_table)),
                            [self.import_id, [str(status) for status in RUNNING_STATUSES]],
                        )
                except psycopg2.errors.LockNotAvailable:
                    # The run's own apply transaction holds the import's row until it commits (a
                    # branch's list of a million rows: minutes). The run is alive, and the sweep
                    # skips a locked row; the next beat after the commit writes again.
                    logger.debug("import %s: row held by its apply, heartbeat skipped", self.import_id)
                    continue
                except Exception:  # the database is away: try again at the next beat
                    logger.warning("import %s: heartbeat not written", self.import_id, exc_info=True)
                    if conn is not None:
                        with contextlib.suppress(Exception):
                            conn.close()
                    conn = None
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
            connection.close()  # this thread's Django connection, if anything opened one


def _attempt_start(import_id: int) -> int:
    """Count one more run of the import, committed before any work: a run that kills its
    worker is counted all the same."""
    with transaction.atomic():
        ArrearsImport.objects.filter(pk=import_id).update(attempts=F("attempts") + 1, heartbeat_at=timezone.now())
        return ArrearsImport.objects.values_list("attempts", flat=True).get(pk=import_id)


def _run_unlock(import_id: int) -> None:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_IMPORT_RUN, import_id])
    except DatabaseError:  # the connection is gone, and its session lock with it
        connection.close()


def import_run(
    *, import_id: int, on_progress: Callable[[int, str], None] | None = None
) -> ArrearsImport:
    """Parse, stage and apply one import. Safe to run twice or after a crash.

    Only a queued/parsing/applying import runs (parsing/applying: left behind by a worker
    that died; it starts over from the stored file: staging is recreated, row errors of the
    earlier attempt removed, the apply transaction never committed). Each run is counted
    before it starts; a run beyond MAX_ATTEMPTS is refused and the import is `failed` (the
    dead letter). A confirmed import applies the staging it previewed when that is still whole.
    """
    arrears_import = ArrearsImport.objects.select_related("branch", "uploaded_by").get(pk=import_id)
    if arrears_import.status not in RUNNING_STATUSES:
        return arrears_import
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_IMPORT_RUN, import_id])
        got_lock = cur.fetchone()[0]
    if not got_lock:
        logger.info("import %s is being run by another worker", import_id)
        return arrears_import
    progress = _Progress(import_id, echo=on_progress)
    heartbeat = None
    try:
        arrears_import.refresh_from_db()
        if arrears_import.status not in RUNNING_STATUSES:
            return arrears_import
        arrears_import.attempts = _attempt_start(import_id)
        if arrears_import.attempts > MAX_ATTEMPTS:
            logger.error("import %s: run %s refused (dead letter)", import_id, arrears_import.attempts)
            _dead_letter(arrears_import)
            return arrears_import
        heartbeat = _Heartbeat(import_id)
        heartbeat.start()
        try:
            return _run(arrears_import, progress)
        except ImportSuperseded:
            logger.info("import %s: changed by someone else while running; stopped", import_id)
            arrears_import.refresh_from_db()
            return arrears_import
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        progress.close()
        _run_unlock(import_id)


def _dead_letter(arrears_import: ArrearsImport, *, actor: User | None = None) -> None:
    with contextlib.suppress(DatabaseError), transaction.atomic():
        staging_drop(import_id=arrears_import.pk)
    _transition(
        arrears_import, ImportStatus.FAILED, actor=actor, verb="import.dead_letter",
        message=_dead_letter_message(), finished_at=timezone.now(), heartbeat_at=None,
    )


def _run(arrears_import: ArrearsImport, progress: _Progress) -> ArrearsImport:
    started = time.monotonic()
    branch = arrears_import.branch
    regencies = list(branch.regencies.all())
    if arrears_import.confirmed_at is not None and _staging_intact(arrears_import):
        # Confirmed: apply exactly what was previewed.
        _transition(arrears_import, ImportStatus.APPLYING, progress=_PARSE_SHARE, started_at=timezone.now(),
                    message="", finished_at=None)
    else:
        if not _parse_and_stage(arrears_import, regencies, progress, started):
            return arrears_import  # rejected
        if arrears_import.mode == ImportMode.FULL:
            preview = _preview(arrears_import, regencies)
            fields: dict[str, Any] = {"preview": preview}
            if arrears_import.ask_first and arrears_import.confirmed_at is None and _asks_first(preview):
                _transition(
                    arrears_import, ImportStatus.AWAITING_CONFIRMATION, heartbeat_at=None,
                    progress=_PARSE_SHARE, message=_confirmation_message(preview), **fields,
                )
                return arrears_import
            ArrearsImport.objects.filter(pk=arrears_import.pk).update(**fields)
            arrears_import.preview = preview
        _transition(arrears_import, ImportStatus.APPLYING, progress=_PARSE_SHARE)
    progress.phase = _("menerapkan")
    for round_ in range(1, _APPLY_ROUNDS + 1):
        try:
            return _apply(arrears_import, regencies, progress, started)
        except ImportSuperseded:
            raise
        except Exception as exc:
            if round_ < _APPLY_ROUNDS and _is_lock_conflict(exc):
                # Two branches' applies met on the same rows: one of them was rolled back whole.
                logger.info("import %s: apply rolled back by a lock conflict, again (%s)", arrears_import.pk, exc)
                arrears_import.status = ImportStatus.APPLYING
                continue
            _fail(arrears_import, exc, rows=arrears_import.rows, started=started)
            raise
    raise AssertionError("unreachable")


def _parse_and_stage(arrears_import: ArrearsImport, regencies: list, progress: _Progress, started: float) -> bool:
    """Parse the stored file into fresh staging tables; False when the file was rejected."""
    from participants.imports.parse import FileRejected, parse_arrears_file

    import_id = arrears_import.pk
    _transition(
        arrears_import,
        ImportStatus.PARSING,
        progress=0,
        started_at=timezone.now(),
        message="",
        finished_at=None,
    )
    ImportRowError.objects.filter(arrears_import_id=import_id).delete()
    ImportRowWarning.objects.filter(arrears_import_id=import_id).delete()
    rows = 0
    unreadable_cards = 0
    # The stored file, copied to this worker's disk for the reader (core.uploads.local_copy).
    local = contextlib.ExitStack()
    try:
        staging_create(import_id=import_id)
        places = PlaceKeys()
        progress.phase = _("membaca berkas")
        try:
            path = local.enter_context(local_copy(arrears_import.file))
        except FileNotFoundError:
            raise FileRejected(_("Berkas tidak ditemukan."), code="not_found") from None
        parsed = parse_arrears_file(
            path,
            regency_codes={r.code for r in regencies},
            progress=progress.parser_callback,
            # Rows billed above 24 months of their class's tariff are flagged (warnings).
            monthly_tariffs=monthly_tariffs(arrears_import.as_of),
        )
        # The next chunk is parsed (polars, off the GIL) while this one goes to PostgreSQL.
        prepared = ((chunk, staging_buffer(chunk.frame, places)) for chunk in parsed)
        for chunk, buf in read_ahead(prepared):
            rows += chunk.rows
            staging_send(import_id=import_id, buf=buf)
            if chunk.errors:
                errors_copy(import_id=import_id, errors=chunk.errors)
                held_copy(import_id=import_id, cards=chunk.held_cards)
                unreadable_cards += chunk.unreadable_cards
            if chunk.warnings:
                warnings_copy(import_id=import_id, warnings=chunk.warnings)
        places_send(import_id=import_id, places=places)
        with connection.cursor() as cur:
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(staging_table_name(import_id))))
            staged = int(cur.fetchone()[0])
    except FileRejected as exc:
        _reject(arrears_import, message=_rejection_message(exc), rows=rows, started=started)
        return False
    except Exception as exc:
        _fail(arrears_import, exc, rows=rows, started=started)
        raise
    finally:
        local.close()
    warning_count, first_warnings = _warning_summary(import_id)
    fields = {"rows": rows, "staged_rows": staged, "unreadable_cards": unreadable_cards,
              "warning_count": warning_count, "warnings": first_warnings}
    ArrearsImport.objects.filter(pk=import_id).update(**fields)
    for key, value in fields.items():
        setattr(arrears_import, key, value)
    return True


def _staging_intact(arrears_import: ArrearsImport) -> bool:
    """The staging tables of a previewed import hold what the parse put there (a crash of
    PostgreSQL empties UNLOGGED tables; a sweep may have dropped them)."""
    import_id = arrears_import.pk
    with connection.cursor() as cur:
        cur.execute(
            "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL",
            [staging_table_name(import_id), held_table_name(import_id), places_table_name(import_id)],
        )
        if not cur.fetchone()[0]:
            return False
        cur.execute(
            sql.SQL("SELECT (SELECT count(*) FROM {staging}), EXISTS (SELECT 1 FROM {places})").format(
                staging=sql.Identifier(staging_table_name(import_id)),
                places=sql.Identifier(places_table_name(import_id)),
            )
        )
        staged, has_places = cur.fetchone()
    return int(staged) == arrears_import.staged_rows and (has_places or not staged)


def _newest_applied(arrears_import: ArrearsImport) -> ArrearsImport | None:
    return (
        ArrearsImport.objects.filter(branch_id=arrears_import.branch_id, status=ImportStatus.APPLIED)
        .exclude(pk=arrears_import.pk)
        .order_by("-as_of", "-id")
        .first()
    )


def _preview(arrears_import: ArrearsImport, regencies: list) -> dict:
    """What applying this full list would do to the branch: who leaves the list (per
    regency code) and how many active pledges that releases. Reads the staging tables."""
    import_id = arrears_import.pk
    regency_ids = [r.pk for r in regencies]
    newest = _newest_applied(arrears_import)
    outdated = newest is not None and newest.as_of > arrears_import.as_of
    by_regency: dict[str, int] = {}
    pledges = 0
    with transaction.atomic(), connection.cursor() as cur:
        participant_t = sql.Identifier(Participant._meta.db_table)
        # From the standing: an index-only count (the participant table has no index on status).
        cur.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE regency_id = ANY(%s) AND status <> %s").format(
                sql.Identifier(Standing._meta.db_table)),
            [regency_ids, ParticipantStatus.CLEARED.value],
        )
        participants = int(cur.fetchone()[0])
        if participants and not outdated and arrears_import.unreadable_cards == 0:
            s = sql.Identifier(staging_table_name(import_id))
            held = sql.Identifier(held_table_name(import_id))
            cur.execute(sql.SQL("SET LOCAL default_statistics_target = 10; ANALYZE {} (card_number)").format(s))
            cur.execute(
                sql.SQL(
                    "CREATE TEMP TABLE imp_preview ON COMMIT DROP AS "
                    "SELECT p.id AS participant_id, p.regency_id FROM {participant} p "
                    "WHERE p.regency_id = ANY(%s) AND p.status <> %s "
                    "AND NOT EXISTS (SELECT 1 FROM {staging} x WHERE x.card_number = p.card_number) "
                    "AND NOT EXISTS (SELECT 1 FROM {held} h WHERE h.card_number = p.card_number)"
                ).format(participant=participant_t, staging=s, held=held),
                [regency_ids, ParticipantStatus.CLEARED.value],
            )
            cur.execute(
                sql.SQL(
                    "SELECT r.code, count(*) FROM imp_preview c JOIN {} r ON r.id = c.regency_id "
                    "GROUP BY r.code ORDER BY r.code"
                ).format(sql.Identifier(Regency._meta.db_table))
            )
            by_regency = {code: int(n) for code, n in cur.fetchall()}
            pledges = pledges_held(cur, "imp_preview")
            cur.execute("DROP TABLE imp_preview")
    return {
        "would_clear": sum(by_regency.values()),
        "would_clear_by_regency": by_regency,
        "pledges_released": pledges,
        "participants": participants,
        "threshold_percent": arrears_import.branch.clear_confirm_percent,
    }


def _asks_first(preview: dict) -> bool:
    """More than the branch's share of its participants would leave the list, or a pledge be released."""
    if preview["pledges_released"]:
        return True
    return preview["would_clear"] * 100 > preview["participants"] * preview["threshold_percent"]


def _confirmation_message(preview: dict) -> str:
    # The number of pledges picks the form: "releases 1 active pledge" / "2 active pledges".
    count = preview["pledges_released"]
    return ngettext(
        "Daftar lengkap ini akan menandai %(n)s dari %(total)s peserta cabang keluar dari daftar "
        "tunggakan dan melepas %(count)s janji donasi aktif. Periksa rinciannya, lalu pilih "
        "Terapkan atau Batalkan.",
        "Daftar lengkap ini akan menandai %(n)s dari %(total)s peserta cabang keluar dari daftar "
        "tunggakan dan melepas %(count)s janji donasi aktif. Periksa rinciannya, lalu pilih "
        "Terapkan atau Batalkan.",
        count,
    ) % {"n": preview["would_clear"], "total": preview["participants"], "count": count}


def _lock_apply(branch: BpjsBranch, regencies: list[Regency]) -> None:
    """Transaction locks: the branch, then each of its regencies in id order (a regency that
    belongs to two branches is applied by one at a time; the order rules out deadlocks).
    Two branches with no regency in common apply side by side."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_BRANCH_APPLY, branch.pk])
        for regency_id in sorted(r.pk for r in regencies):
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_REGENCY_APPLY, regency_id])


def _apply(arrears_import: ArrearsImport, regencies: list, progress: _Progress, started: float) -> ArrearsImport:
    import_id = arrears_import.pk
    branch = arrears_import.branch
    # The history's partition of the list's month, made (if missing) before the apply's long
    # transaction, so that the apply writes one partition and holds no lock on the table's layout.
    history_partition_ensure(month=arrears_import.as_of, lock_timeout="10s")
    with transaction.atomic():
        _lock_apply(branch, regencies)
        newest = _newest_applied(arrears_import)
        outdated = newest is not None and newest.as_of > arrears_import.as_of
        ctx = ApplyContext(
            import_id=import_id,
            regency_ids=[r.pk for r in regencies],
            as_of=arrears_import.as_of,
            full_mode=arrears_import.mode == ImportMode.FULL,
            outdated=outdated,
            may_clear=arrears_import.unreadable_cards == 0,
            newest_full_as_of=(newest.as_of if newest is not None and outdated and newest.mode == ImportMode.FULL
                               else None),
        )
        result = apply_staging(ctx, progress=progress)
        messages = []
        if outdated and newest is not None:
            messages.append(
                _(
                    "Tanggal data %(as_of)s lebih lama dari impor terakhir cabang (%(newest)s): "
                    "disimpan sebagai riwayat saja; data tunggakan saat ini tidak diubah."
                )
                % {"as_of": format_date(arrears_import.as_of), "newest": format_date(newest.as_of)}
            )
        messages.extend(result.notes)
        error_count, invalid, first = _error_summary(import_id)
        _transition(
            arrears_import,
            ImportStatus.APPLIED,
            progress=100,
            valid=result.valid,
            invalid=invalid,
            new=result.new,
            updated=result.updated,
            unchanged=result.unchanged,
            cleared=result.cleared,
            regency_counts=result.regency_counts,
            errors=first,
            error_count=error_count,
            is_outdated=outdated,
            message="\n".join(messages),
            finished_at=timezone.now(),
            seconds=round(time.monotonic() - started, 3),
            heartbeat_at=None,
        )
        # Inside the apply transaction: receivers write their follow-up work (screening,
        # reconciliation) to the outbox, so it exists exactly when the applied list does.
        arrears_import_applied.send(sender=ArrearsImport, import_id=import_id)
    _write_error_report(arrears_import)
    return arrears_import


def _rejection_message(exc: Exception) -> str:
    return str(getattr(exc, "message", None) or exc)


def _invalid_rows(import_id: int) -> int:
    return ImportRowError.objects.filter(arrears_import_id=import_id, row__gt=0).values("row").distinct().count()


def _error_summary(import_id: int) -> tuple[int, int, list[dict]]:
    errors = ImportRowError.objects.filter(arrears_import_id=import_id)
    first = [
        {"row": e["row"], "column": e["column"], "message": e["message"], "value": e["value"]}
        for e in errors.order_by("row", "id").values("row", "column", "message", "value")[:_FIRST_ERRORS]
    ]
    return errors.count(), _invalid_rows(import_id), first


def _warning_summary(import_id: int) -> tuple[int, list[dict]]:
    """How many rows were accepted but flagged, and the first of them (row, column, message, value)."""
    warnings = ImportRowWarning.objects.filter(arrears_import_id=import_id)
    first = [
        {"row": w["row"], "column": w["column"], "message": w["message"], "value": w["value"]}
        for w in warnings.order_by("row", "id").values("row", "column", "message", "value")[:_FIRST_ERRORS]
    ]
    return (warnings.count() if len(first) == _FIRST_ERRORS else len(first)), first


def _reject(arrears_import: ArrearsImport, *, message: str, rows: int, started: float) -> ArrearsImport:
    import_id = arrears_import.pk
    staging_drop(import_id=import_id)
    ImportRowError.objects.filter(arrears_import_id=import_id).delete()
    ImportRowWarning.objects.filter(arrears_import_id=import_id).delete()
    ImportRowError.objects.create(arrears_import_id=import_id, row=0, column="", message=message[:300])
    _transition(
        arrears_import,
        ImportStatus.REJECTED,
        message=message,
        rows=rows,
        valid=0,
        invalid=0,
        errors=[{"row": 0, "column": "", "message": message, "value": ""}],
        error_count=1,
        warnings=[],
        warning_count=0,
        finished_at=timezone.now(),
        seconds=round(time.monotonic() - started, 3),
        heartbeat_at=None,
    )
    _write_error_report(arrears_import)
    return arrears_import


def _exception_chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen = 0
    while exc is not None and seen < 10:
        yield exc
        exc, seen = exc.__cause__, seen + 1


def _is_transient(exc: BaseException) -> bool:
    """The database went away (restart, terminated connection, network): not the file's fault."""
    import psycopg2

    kinds = (OperationalError, InterfaceError, psycopg2.OperationalError, psycopg2.InterfaceError)
    return any(isinstance(e, kinds) for e in _exception_chain(exc))


def _is_lock_conflict(exc: BaseException) -> bool:
    from psycopg2 import errors as pg_errors

    kinds = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)
    return any(isinstance(e, kinds) for e in _exception_chain(exc))


def _reconnect_if_broken() -> None:
    """After a terminated connection Django's wrapper may still hold the dead one."""
    if connection.in_atomic_block:
        return
    with contextlib.suppress(Exception):
        if connection.connection is not None and not connection.is_usable():
            connection.close()


def _fail(arrears_import: ArrearsImport, exc: BaseException, *, rows: int, started: float) -> None:
    """The run stopped on an error. The database went away: queued again for the sweeper (one
    more run), or the dead letter on the last attempt; any other error: `failed`. Nothing was
    applied either way (the apply is one transaction). If even this cannot be written, the
    import keeps its status, its heartbeat stops and `import_sweep` decides later."""
    from celery.exceptions import SoftTimeLimitExceeded

    logger.error("import %s failed: %s", arrears_import.pk, type(exc).__name__, exc_info=exc)
    _reconnect_if_broken()
    with contextlib.suppress(Exception):
        staging_drop(import_id=arrears_import.pk)
    seconds = round(time.monotonic() - started, 3)
    try:
        if isinstance(exc, SoftTimeLimitExceeded):
            message = _(
                "Pemrosesan melebihi batas waktu; tidak ada data yang diterapkan. Pecah daftar menjadi "
                "beberapa berkas (mode sebagian) atau hubungi operator."
            )
            _transition(arrears_import, ImportStatus.FAILED, message=message, rows=rows,
                        finished_at=timezone.now(), seconds=seconds, heartbeat_at=None)
        elif _is_transient(exc) and arrears_import.attempts < MAX_ATTEMPTS:
            # heartbeat NULL: the next sweep queues it again (after the database is back).
            _transition(arrears_import, ImportStatus.QUEUED, verb="import.interrupted",
                        message=_interrupted_message(), rows=rows, heartbeat_at=None)
        elif _is_transient(exc):
            _transition(arrears_import, ImportStatus.FAILED, verb="import.dead_letter",
                        message=_dead_letter_message(), rows=rows, finished_at=timezone.now(),
                        seconds=seconds, heartbeat_at=None)
        else:
            message = _("Impor gagal karena kesalahan sistem (%(kind)s); tidak ada data yang diterapkan.") % {
                "kind": type(exc).__name__
            }
            _transition(arrears_import, ImportStatus.FAILED, message=message, rows=rows,
                        finished_at=timezone.now(), seconds=seconds, heartbeat_at=None)
    except ImportSuperseded:
        pass
    except Exception:
        logger.warning("import %s: outcome not written; the sweeper will decide", arrears_import.pk, exc_info=True)
        _reconnect_if_broken()


def _write_error_report(arrears_import: ArrearsImport) -> None:
    """The full error report as CSV (baris, kolom, pesan, nilai) in the media storage."""
    if not arrears_import.error_count:
        return
    try:
        with tempfile.NamedTemporaryFile(dir=spool_dir("imports"), delete=False, suffix=".csv") as handle:
            handle.write(
                (",".join([_("baris"), _("kolom"), _("pesan"), _("nilai")]) + "\n").encode()
            )
            with connection.cursor() as cur:
                cur.cursor.copy_expert(
                    cur.mogrify(
                        'COPY (SELECT "row", "column", message, value FROM participants_importrowerror '
                        'WHERE arrears_import_id = %s ORDER BY "row", id) TO STDOUT WITH (FORMAT csv)',
                        [arrears_import.pk],
                    ).decode(),
                    handle,
                )
        name = default_storage.save(
            f"imports/reports/{arrears_import.pk}-kesalahan.csv",
            _MovableFile(open(handle.name, "rb"), name=handle.name),  # noqa: SIM115
        )
        ArrearsImport.objects.filter(pk=arrears_import.pk).update(error_report=name)
        arrears_import.error_report = name
    except Exception:  # the report is a convenience; the rows are in ImportRowError
        logger.warning("import %s: error report not written", arrears_import.pk, exc_info=True)
    finally:
        with contextlib.suppress(FileNotFoundError, NameError):
            os.unlink(handle.name)


def import_summary(arrears_import: ArrearsImport) -> dict:
    """The import's counters (the command's JSON, the API, seed_demo's summary)."""
    report = None
    if arrears_import.error_report:
        try:
            report = arrears_import.error_report.path
        except NotImplementedError:
            report = arrears_import.error_report.name
    return {
        "import_id": arrears_import.pk,
        "status": arrears_import.status,
        "rows": arrears_import.rows,
        "valid": arrears_import.valid,
        "invalid": arrears_import.invalid,
        "new": arrears_import.new,
        "updated": arrears_import.updated,
        "unchanged": arrears_import.unchanged,
        "cleared": arrears_import.cleared,
        "regencies": arrears_import.regency_counts,
        "errors": [
            {"row": e["row"], "column": e["column"], "message": e["message"]}
            for e in (arrears_import.errors or [])[:_FIRST_ERRORS]
        ],
        "error_report": report,
        # Rows accepted but flagged (e.g. more than 24 months billed), from the 2026 rules.
        "warnings": [
            {"row": w["row"], "column": w["column"], "message": w["message"]}
            for w in (arrears_import.warnings or [])[:_FIRST_ERRORS]
        ],
        "warning_count": arrears_import.warning_count,
        "seconds": arrears_import.seconds,
        "message": arrears_import.message,
        "is_outdated": arrears_import.is_outdated,
        "preview": _public_preview(arrears_import.preview),
    }


def _public_preview(preview: dict | None) -> dict | None:
    """The preview of a list that asks first, in its public shape."""
    if not preview:
        return None
    return {
        "would_clear": preview.get("would_clear", 0),
        "would_clear_by_regency": preview.get("would_clear_by_regency") or {},
        "pledges_released": preview.get("pledges_released", 0),
    }


# --- the lifecycle: sweeping, confirming, discarding, retrying ----------------------


def _stale_before(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(seconds=settings.ARREARS_IMPORT_STALE_SECONDS)


def import_is_running(*, import_id: int) -> bool:
    """A worker session holds the import's run lock (it dies with the worker's connection)."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_IMPORT_RUN, import_id])
        return not cur.fetchone()[0]


def import_sweep(*, now: dt.datetime | None = None) -> dict[str, list[int]]:
    """The beat job: every queued/parsing/applying import whose heartbeat is older than
    ARREARS_IMPORT_STALE_SECONDS (or NULL: interrupted) and whose worker holds no run lock
    any more is queued again from its stored file (the apply is all-or-nothing, so a re-run
    is safe), or `failed` with the dead-letter message once MAX_ATTEMPTS runs died. Then
    staging tables left by finished imports are dropped. Returns the ids per outcome."""
    done: dict[str, list[int]] = {"requeued": [], "failed": [], "dropped_staging": []}
    stale = _stale_before(now)
    candidates = list(
        ArrearsImport.objects.filter(status__in=RUNNING_STATUSES)
        .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True))
        .values_list("pk", flat=True)
    )
    for import_id in candidates:
        try:
            outcome = _sweep_one(import_id, stale)
        except Exception:  # one import must not stop the sweep of the others
            logger.warning("import %s: sweep failed", import_id, exc_info=True)
            continue
        if outcome:
            done[outcome].append(import_id)
    done["dropped_staging"] = _drop_orphan_staging()
    if done["requeued"] or done["failed"]:
        logger.warning("import sweep: requeued %s, failed %s", done["requeued"], done["failed"])
    return done


def _sweep_one(import_id: int, stale: dt.datetime) -> str | None:
    with transaction.atomic():
        arrears_import = (
            ArrearsImport.objects.select_for_update(skip_locked=True)
            .filter(pk=import_id, status__in=RUNNING_STATUSES)
            .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True))
            .first()
        )
        if arrears_import is None:
            return None
        with connection.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_IMPORT_RUN, import_id])
            if not cur.fetchone()[0]:
                return None  # its worker's session is alive (a long statement): not stale after all
        if arrears_import.attempts >= MAX_ATTEMPTS:
            _dead_letter(arrears_import)
            return "failed"
        message = _interrupted_message() if arrears_import.status != ImportStatus.QUEUED else arrears_import.message
        _transition(arrears_import, ImportStatus.QUEUED, verb="import.requeued", message=message,
                    heartbeat_at=timezone.now())
        _enqueue(import_id)
        return "requeued"


_STAGING_PATTERN = r"^import_(staging|held|places)_(\d+)$"


def _drop_orphan_staging() -> list[int]:
    """Staging tables of imports that are over (or gone): a worker died before dropping them."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT substring(relname FROM %s)::bigint FROM pg_class "
            "WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace AND relname ~ %s",
            [r"_(\d+)$", _STAGING_PATTERN],
        )
        ids = [int(row[0]) for row in cur.fetchall()]
    if not ids:
        return []
    keep = set(
        ArrearsImport.objects.filter(pk__in=ids)
        .exclude(status__in=FINAL_STATUSES)
        .values_list("pk", flat=True)
    )
    dropped = []
    for import_id in ids:
        if import_id in keep:
            continue
        with contextlib.suppress(DatabaseError), transaction.atomic():
            staging_drop(import_id=import_id)
            dropped.append(import_id)
    return dropped


def _locked(arrears_import: ArrearsImport) -> ArrearsImport:
    locked = ArrearsImport.objects.select_for_update().select_related("branch").get(pk=arrears_import.pk)
    return locked


def import_confirm(*, arrears_import: ArrearsImport, actor: User) -> ArrearsImport:
    """A BPJS admin confirms a full list that waited at `awaiting_confirmation`: it is queued
    again and applies (the staging it previewed, or the stored file parsed again)."""
    with transaction.atomic():
        locked = _locked(arrears_import)
        if locked.status != ImportStatus.AWAITING_CONFIRMATION:
            raise Conflict(
                _("Impor ini tidak sedang menunggu konfirmasi (status: %(status)s).")
                % {"status": locked.get_status_display()},
                code="not_awaiting_confirmation",
            )
        _transition(
            locked, ImportStatus.QUEUED, actor=actor, verb="import.confirmed",
            confirmed_at=timezone.now(), confirmed_by=actor if getattr(actor, "is_authenticated", False) else None,
            attempts=0, heartbeat_at=timezone.now(), message="",
        )
        _enqueue(locked.pk)
    return locked


def import_discard(
    *, arrears_import: ArrearsImport, actor: User | None, reason: str = "", only_awaiting: bool = False
) -> ArrearsImport:
    """Throw an import away without applying it: `discarded`, staging dropped; the same file
    may be uploaded again. A BPJS admin discards one that awaits confirmation; the operator
    also a failed or stuck one (never one a worker is running, never an applied one)."""
    with transaction.atomic():
        locked = _locked(arrears_import)
        if only_awaiting and locked.status != ImportStatus.AWAITING_CONFIRMATION:
            raise Conflict(
                _("Impor ini tidak sedang menunggu konfirmasi (status: %(status)s).")
                % {"status": locked.get_status_display()},
                code="not_awaiting_confirmation",
            )
        if locked.status in (ImportStatus.APPLIED, ImportStatus.REJECTED, ImportStatus.DISCARDED):
            raise Conflict(
                _("Impor dengan status %(status)s tidak dapat dibatalkan.") % {"status": locked.get_status_display()},
                code="not_discardable",
            )
        if locked.status in RUNNING_STATUSES and import_is_running(import_id=locked.pk):
            raise Conflict(_("Impor ini sedang diproses; tunggu sampai selesai."), code="import_running")
        staging_drop(import_id=locked.pk)
        message = reason or _("Dibatalkan; tidak ada data yang diterapkan. Berkas yang sama boleh diunggah lagi.")
        _transition(locked, ImportStatus.DISCARDED, actor=actor, verb="import.discarded", message=message,
                    finished_at=timezone.now(), heartbeat_at=None)
    return locked


def import_discard_unconfirmed(*, arrears_import: ArrearsImport, actor: User | None) -> ArrearsImport:
    """A BPJS admin drops a list that waits at `awaiting_confirmation` (the one click)."""
    if arrears_import.status != ImportStatus.AWAITING_CONFIRMATION:
        raise Conflict(
            _("Impor ini tidak sedang menunggu konfirmasi (status: %(status)s).")
            % {"status": arrears_import.get_status_display()},
            code="not_awaiting_confirmation",
        )
    return import_discard(arrears_import=arrears_import, actor=actor, only_awaiting=True)


def import_retry(*, arrears_import: ArrearsImport, actor: User) -> ArrearsImport:
    """The operator runs a failed (or stuck) import again from its stored file, attempts reset."""
    with transaction.atomic():
        locked = _locked(arrears_import)
        stale = locked.heartbeat_at is None or locked.heartbeat_at < _stale_before()
        stuck = locked.status in RUNNING_STATUSES and stale and not import_is_running(import_id=locked.pk)
        if locked.status != ImportStatus.FAILED and not stuck:
            raise Conflict(
                _("Hanya impor yang gagal atau macet yang dapat dicoba lagi (status: %(status)s).")
                % {"status": locked.get_status_display()},
                code="not_retryable",
            )
        if not locked.file or not default_storage.exists(locked.file.name):
            raise Conflict(_("Berkas impor ini tidak tersimpan lagi; unggah ulang."), code="file_missing")
        try:
            with transaction.atomic():
                _transition(locked, ImportStatus.QUEUED, actor=actor, verb="import.retried", attempts=0,
                            heartbeat_at=timezone.now(), message="", finished_at=None)
        except IntegrityError as exc:
            other = (
                ArrearsImport.objects.filter(branch_id=locked.branch_id, sha256=locked.sha256,
                                             status__in=BLOCKING_STATUSES)
                .exclude(pk=locked.pk)
                .first()
            )
            raise Conflict(
                _("Berkas yang sama sudah diunggah lagi (impor #%(id)s).") % {"id": other.pk if other else "?"},
                code="duplicate",
            ) from exc
        _enqueue(locked.pk)
    return locked


# --- personal data ----------------------------------------------------------------
# (added by the participant pages: the audited NIK reveal)


def participant_nik_reveal(*, participant: Participant, actor: User) -> str:
    """Return the participant's full NIK and record who saw it (`participant.nik_revealed`)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            verb="participant.nik_revealed",
            obj=participant,
            after={"public_id": str(participant.public_id), "card_number": participant.card_number},
        )
    return participant.nik
