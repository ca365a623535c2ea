"""Bank statements of a collected-route campaign: upload (stored, queued) and processing (parse,
then match and record in one transaction under the regency's row lock), plus the page's reads.

`statement_upload` is the treasurer's (or the regency admin's) write; `statement_process` is
what the Celery task and `manage.py import_statement` run. Processing is idempotent: a statement
that is done or rejected is left as it is, and one that a crashed worker left `processing` is
run again (its apply was one transaction: nothing of it stayed)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import audit_record
from core.errors import DomainError, PermissionDenied
from core.uploads import local_copy, spool_upload
from donations.models import BankStatement, Campaign, StatementStatus
from donations.money.statements.match import statement_match
from donations.money.statements.parse import FileRejected, ParsedStatement, parse_statement_file
from donations.money.statements.selectors import may_manage_money
from regencies.models import Regency

FINISHED = (StatementStatus.DONE, StatementStatus.REJECTED)


def _max_bytes() -> int:
    return int(getattr(settings, "STATEMENT_MAX_UPLOAD_BYTES", settings.ARREARS_MAX_UPLOAD_BYTES))


def _spool(source: IO[bytes] | File, *, limit: int) -> tuple[str, int, str]:
    return spool_upload(source, folder="statements", limit=limit)


def statement_upload(*, regency: Regency, campaign: Campaign, actor: User | None,
                     file: File | str | os.PathLike[str], original_name: str | None = None,
                     enqueue: bool = True) -> BankStatement:
    """Store a statement of `campaign`'s collecting account and queue its processing (the outbox:
    sent after the commit).
    `file` is an uploaded file or a filesystem path. The actor needs MANAGE_MONEY in the regency
    (a treasurer or the regency admin); the campaign must be of the collected route."""
    if campaign.regency_id != regency.pk:
        raise Http404("campaign")
    if actor is not None and not may_manage_money(actor, regency):
        raise PermissionDenied(_("Hanya bendahara atau admin Pemda yang dapat mengunggah mutasi rekening."),
                               code="not_treasurer")
    if not campaign.is_collected:
        raise DomainError(_("Kampanye %(c)s dibayar langsung ke VA keluarga: tidak ada rekening penampung yang "
                            "mutasinya perlu dicocokkan.") % {"c": campaign.title}, code="not_collected")
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        if not path.is_file():
            raise DomainError(_("Berkas %(path)s tidak ditemukan.") % {"path": path}, code="file_missing")
        name = original_name or path.name
        with path.open("rb") as source:
            tmp_path, _size, sha256 = _spool(source, limit=_max_bytes())
    else:
        name = original_name or os.path.basename(getattr(file, "name", "") or "mutasi")
        with contextlib.suppress(Exception):
            file.seek(0)
        tmp_path, _size, sha256 = _spool(file, limit=_max_bytes())
    try:
        with transaction.atomic():
            statement = BankStatement(regency=regency, campaign=campaign, original_name=name[:255], sha256=sha256,
                                      status=StatementStatus.QUEUED,
                                      uploaded_by=actor if getattr(actor, "is_authenticated", False) else None)
            with open(tmp_path, "rb") as handle:
                statement.file.save(name, File(handle, name=name), save=False)
            statement.save()
            audit_record(actor=actor, verb="statement.uploaded", obj=statement, regency=regency,
                         after={"campaign": campaign.slug, "sha256": sha256, "original_name": statement.original_name,
                                "status": StatementStatus.QUEUED})
            if enqueue:  # written with the statement (core.outbox), sent after the commit
                _enqueue(statement.pk)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_path)
    return statement


def _enqueue(statement_id: int) -> None:
    from core.outbox import enqueue_on_commit
    from donations.tasks import statement_process_task

    enqueue_on_commit(statement_process_task, statement_id)


def statement_process(*, statement_id: int, now: dt.datetime | None = None) -> BankStatement:
    """Parse the stored file, then match and record its lines (donations.money.statements.match)
    in one transaction under the regency's row lock. A file-level problem rejects the statement
    and records nothing; row problems are kept in `errors` and the valid lines are recorded."""
    statement = BankStatement.all_regencies.select_related("regency", "campaign").get(pk=statement_id)
    if statement.status in FINISHED:
        return statement
    BankStatement.all_regencies.filter(pk=statement.pk, status__in=[StatementStatus.QUEUED,
                                                                    StatementStatus.PROCESSING]).update(
        status=StatementStatus.PROCESSING)
    rejected: FileRejected | None = None
    parsed = None
    try:
        # Through the storage API: the file may be on object storage, uploaded on another machine.
        with local_copy(statement.file) as path:
            parsed = parse_statement_file(path)
    except FileRejected as exc:
        rejected = exc
    except FileNotFoundError:
        rejected = FileRejected(_("Berkas mutasi yang diunggah tidak ditemukan lagi; unggah ulang."),
                                code="not_found")
    except Exception:
        _give_up(statement)
        raise
    try:
        return _apply(statement, parsed=parsed, rejected=rejected, now=now)
    except Exception:
        _give_up(statement)
        raise


def _give_up(statement: BankStatement) -> None:
    """An unexpected failure: nothing of the apply stayed (one transaction); say so rather than
    leave the statement `processing` for ever (the error itself goes to the log)."""
    BankStatement.all_regencies.filter(pk=statement.pk, status=StatementStatus.PROCESSING).update(
        status=StatementStatus.REJECTED, finished_at=timezone.now(),
        errors=[{"row": 0, "column": "", "message": str(_(
            "Pemrosesan gagal karena kesalahan sistem; tidak ada yang dicatat. Unggah ulang berkas ini."))}])


def _apply(statement: BankStatement, *, parsed: ParsedStatement | None, rejected: FileRejected | None,
           now: dt.datetime | None) -> BankStatement:
    from donations.services import _lock_regency

    with transaction.atomic():
        _lock_regency(statement.regency_id)
        locked = BankStatement.all_regencies.select_for_update(of=("self",)).select_related(
            "regency", "campaign").get(pk=statement.pk)
        if locked.status in FINISHED:  # another worker finished it meanwhile
            return locked
        if rejected is not None:
            locked.status = StatementStatus.REJECTED
            locked.errors = [{"row": 0, "column": "", "message": rejected.message}]
        else:
            assert parsed is not None  # a file that was not rejected was parsed
            result = statement_match(statement=locked, lines=parsed.lines, now=now)
            errors = sorted([*parsed.errors, *result.errors], key=lambda e: e.row)
            locked.status = StatementStatus.DONE
            locked.lines = parsed.credit_lines
            locked.matched, locked.unmatched = result.matched, result.unmatched
            locked.duplicates, locked.amount_matched = result.duplicates, result.amount_matched
            locked.errors = [{"row": e.row, "column": e.column, "message": e.message, "value": e.value}
                             for e in errors]
        locked.finished_at = now or timezone.now()
        locked.save(update_fields=["status", "lines", "matched", "unmatched", "duplicates", "amount_matched",
                                   "errors", "finished_at"])
        audit_record(actor=None, verb=f"statement.{locked.status}", obj=locked, regency=locked.regency,
                     after={"lines": locked.lines, "matched": locked.matched, "unmatched": locked.unmatched,
                            "duplicates": locked.duplicates, "amount_matched": locked.amount_matched,
                            "errors": len(locked.errors)})
    return locked
