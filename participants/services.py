"""Writes of the participants app: arrears imports (create, run).

`import_create` stores an uploaded list once (by sha256) and queues it;
`import_run` is the whole pipeline: parse -> COPY into staging -> apply in one
transaction under a per-branch lock. Every status change is an audit event.
Later issues hook into `arrears_import_applied` (sent after the apply commits).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django.dispatch
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import DomainError
from core.formatting import format_date
from core.iterators import read_ahead
from participants.imports.apply import ApplyContext, apply_staging
from participants.imports.staging import (
    PlaceKeys,
    errors_copy,
    held_copy,
    places_send,
    staging_buffer,
    staging_create,
    staging_drop,
    staging_send,
)
from participants.models import ArrearsImport, ImportMode, ImportRowError, ImportStatus

logger = logging.getLogger(__name__)

# Sent (on commit) after an import was applied: `import_id`. Screening and
# reconciliation connect here.
arrears_import_applied = django.dispatch.Signal()

# Advisory lock namespaces (pg_advisory_lock(int, int)).
_LOCK_IMPORT_RUN = 73001  # session lock: one worker runs one import at a time
_LOCK_BRANCH_APPLY = 73002  # transaction lock: one apply per branch at a time

_PARSE_SHARE = 70  # parsing drives progress 0-70; applying 70-100
_FIRST_ERRORS = 50
_LIVE = (ImportStatus.QUEUED, ImportStatus.PARSING, ImportStatus.APPLYING, ImportStatus.APPLIED)


class _MovableFile(File):
    """A finished temporary file: FileSystemStorage moves it instead of copying."""

    def temporary_file_path(self) -> str:
        return self.name


def import_create(
    *,
    branch,
    actor,
    uploaded_file: Any,
    as_of: dt.date,
    mode: str,
    original_name: str | None = None,
    enqueue: bool = True,
) -> tuple[ArrearsImport, bool]:
    """Store an arrears list for `branch` and queue it. Returns (import, duplicate).

    The same bytes for the branch again return the existing live import with
    `duplicate=True`; nothing new is stored. `uploaded_file` is a Django File /
    UploadedFile or a filesystem path.
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
                        "sha256": sha256,
                        "size_bytes": size,
                        "original_name": arrears_import.original_name,
                    },
                )
                if enqueue:
                    import_id = arrears_import.pk
                    transaction.on_commit(lambda: _enqueue(import_id))
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
    from participants.tasks import import_run_task

    import_run_task.delay(import_id)


@contextlib.contextmanager
def _open_source(uploaded_file: Any):
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
    """Copy to a temporary file beside the storage, hashing as it streams."""
    spool_dir = Path(settings.MEDIA_ROOT) / "imports" / "tmp"
    spool_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    handle = tempfile.NamedTemporaryFile(dir=spool_dir, delete=False, suffix=".part")  # noqa: SIM115
    try:
        with handle:
            chunks = source.chunks() if hasattr(source, "chunks") else iter(lambda: source.read(1 << 20), b"")
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise DomainError(
                        _(
                            "Berkas terlalu besar: lebih dari %(limit)s MB. Pecah daftar menjadi "
                            "beberapa berkas (mode sebagian) atau hubungi operator."
                        )
                        % {"limit": limit // (1024 * 1024)},
                        code="file_too_large",
                    )
                digest.update(chunk)
                handle.write(chunk)
        if size == 0:
            raise DomainError(_("Berkas kosong: tidak ada isi yang bisa dibaca."), code="file_empty")
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)
        raise
    return handle.name, size, digest.hexdigest()


# --- running an import ----------------------------------------------------------


class _Progress:
    """Writes `progress` through a separate autocommit connection, at most every 0.5 s,
    so the report page sees it while the apply transaction is still open."""

    def __init__(self, import_id: int, echo: Callable[[int, str], None] | None = None) -> None:
        self.import_id = import_id
        self.echo = echo
        self.last_pct = -1
        self.last_at = 0.0
        self.conn = None
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


def _set_status(arrears_import: ArrearsImport, status: str, *, actor=None, **fields: Any) -> None:
    """Change the status (and fields) with its audit event, in one transaction."""
    before = arrears_import.status
    with transaction.atomic():
        fields["status"] = status
        ArrearsImport.objects.filter(pk=arrears_import.pk).update(**fields)
        for key, value in fields.items():
            setattr(arrears_import, key, value)
        after = {"status": status}
        if fields.get("message"):
            after["message"] = fields["message"]
        audit_record(
            actor=actor, verb="import.status", obj=arrears_import, before={"status": before}, after=after
        )


def import_run(
    *, import_id: int, on_progress: Callable[[int, str], None] | None = None
) -> ArrearsImport:
    """Parse, stage and apply one import. Safe to run twice or after a crash.

    applied/rejected/failed: nothing to do. queued, or parsing/applying left
    behind by a crashed worker: starts over (staging is recreated, row errors
    of the earlier attempt are removed; the apply transaction never committed).
    """
    arrears_import = ArrearsImport.objects.select_related("branch", "uploaded_by").get(pk=import_id)
    if arrears_import.is_finished:
        return arrears_import
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_IMPORT_RUN, import_id])
        got_lock = cur.fetchone()[0]
    if not got_lock:
        logger.info("import %s is being run by another worker", import_id)
        return arrears_import
    progress = _Progress(import_id, echo=on_progress)
    try:
        arrears_import.refresh_from_db()
        if arrears_import.is_finished:
            return arrears_import
        return _run(arrears_import, progress)
    finally:
        progress.close()
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_IMPORT_RUN, import_id])


def _run(arrears_import: ArrearsImport, progress: _Progress) -> ArrearsImport:
    from participants.imports.parse import FileRejected, parse_arrears_file

    started = time.monotonic()
    import_id = arrears_import.pk
    branch = arrears_import.branch
    _set_status(
        arrears_import,
        ImportStatus.PARSING,
        progress=0,
        started_at=timezone.now(),
        message="",
        finished_at=None,
    )
    ImportRowError.objects.filter(arrears_import_id=import_id).delete()
    regencies = list(branch.regencies.all())
    rows = 0
    unreadable_cards = 0
    try:
        staging_create(import_id=import_id)
        places = PlaceKeys()
        progress.phase = _("membaca berkas")
        parsed = parse_arrears_file(
            arrears_import.file.path,
            regency_codes={r.code for r in regencies},
            progress=progress.parser_callback,
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
        places_send(import_id=import_id, places=places)
    except FileRejected as exc:
        return _reject(arrears_import, message=_rejection_message(exc), rows=rows, started=started)
    except Exception as exc:
        _fail(arrears_import, exc, rows=rows, started=started)
        raise

    _set_status(arrears_import, ImportStatus.APPLYING, progress=_PARSE_SHARE, rows=rows)
    progress.phase = _("menerapkan")
    try:
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_BRANCH_APPLY, branch.pk])
            newest = (
                ArrearsImport.objects.filter(branch=branch, status=ImportStatus.APPLIED)
                .exclude(pk=import_id)
                .order_by("-as_of", "-id")
                .first()
            )
            outdated = newest is not None and newest.as_of > arrears_import.as_of
            ctx = ApplyContext(
                import_id=import_id,
                regency_ids=[r.pk for r in regencies],
                as_of=arrears_import.as_of,
                full_mode=arrears_import.mode == ImportMode.FULL,
                outdated=outdated,
                may_clear=unreadable_cards == 0,
                newest_full_as_of=newest.as_of if outdated and newest.mode == ImportMode.FULL else None,
            )
            result = apply_staging(ctx, progress=progress)
            messages = []
            if outdated:
                messages.append(
                    _(
                        "Tanggal data %(as_of)s lebih lama dari impor terakhir cabang (%(newest)s): "
                        "disimpan sebagai riwayat saja; data tunggakan saat ini tidak diubah."
                    )
                    % {"as_of": format_date(arrears_import.as_of), "newest": format_date(newest.as_of)}
                )
            messages.extend(result.notes)
            error_count, invalid, first = _error_summary(import_id)
            _set_status(
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
            )
            transaction.on_commit(
                lambda: arrears_import_applied.send(sender=ArrearsImport, import_id=import_id)
            )
    except Exception as exc:
        _fail(arrears_import, exc, rows=rows, started=started)
        raise
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


def _reject(arrears_import: ArrearsImport, *, message: str, rows: int, started: float) -> ArrearsImport:
    import_id = arrears_import.pk
    staging_drop(import_id=import_id)
    ImportRowError.objects.filter(arrears_import_id=import_id).delete()
    ImportRowError.objects.create(arrears_import_id=import_id, row=0, column="", message=message[:300])
    _set_status(
        arrears_import,
        ImportStatus.REJECTED,
        message=message,
        rows=rows,
        valid=0,
        invalid=0,
        errors=[{"row": 0, "column": "", "message": message, "value": ""}],
        error_count=1,
        finished_at=timezone.now(),
        seconds=round(time.monotonic() - started, 3),
    )
    _write_error_report(arrears_import)
    return arrears_import


def _fail(arrears_import: ArrearsImport, exc: Exception, *, rows: int, started: float) -> None:
    logger.exception("import %s failed", arrears_import.pk)
    with contextlib.suppress(Exception):
        staging_drop(import_id=arrears_import.pk)
    message = _("Impor gagal karena kesalahan sistem (%(kind)s); tidak ada data yang diterapkan.") % {
        "kind": type(exc).__name__
    }
    _set_status(
        arrears_import,
        ImportStatus.FAILED,
        message=message,
        rows=rows,
        finished_at=timezone.now(),
        seconds=round(time.monotonic() - started, 3),
    )


def _write_error_report(arrears_import: ArrearsImport) -> None:
    """The full error report as CSV (baris, kolom, pesan, nilai) in the media storage."""
    if not arrears_import.error_count:
        return
    spool_dir = Path(settings.MEDIA_ROOT) / "imports" / "tmp"
    spool_dir.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.NamedTemporaryFile(dir=spool_dir, delete=False, suffix=".csv") as handle:
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
    """The counters CONTRACT.md names (the command's JSON, seed_demo's summary)."""
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
        "seconds": arrears_import.seconds,
        "message": arrears_import.message,
        "is_outdated": arrears_import.is_outdated,
    }


# --- personal data ----------------------------------------------------------------
# (added by the participant pages: the audited NIK reveal)


def participant_nik_reveal(*, participant, actor) -> str:
    """Return the participant's full NIK and record who saw it (`participant.nik_revealed`)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            verb="participant.nik_revealed",
            obj=participant,
            after={"public_id": str(participant.public_id), "card_number": participant.card_number},
        )
    return participant.nik
