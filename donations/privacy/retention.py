"""Retention (UU 27/2022: data kept no longer than its purpose needs): the nightly purge.

`personal_data_purge` (beat task `donations.tasks.privacy_purge_task`, command
`manage.py purge_personal_data [--dry-run]`):

1. per regency, anonymises the participants whose last arrears list is older than the regency's
   `retention_years` (default 5) and who have no open pledge (`subject.participant_anonymise`,
   reason `retention`);
2. deletes the uploaded files of imports and bank statements that finished more than
   `PRIVACY_UPLOAD_RETENTION_DAYS` (default 90) ago: the arrears list file and its error report
   (the rows carry NIK, names, card numbers), the statement file; the rows and their summaries
   stay, the file fields are cleared. The values quoted in the import's row errors are blanked and
   any staging table left behind is dropped.

Payment receipts (transfer proofs) are part of the money trail and are kept.

Idempotent: what was anonymised or purged is not selected again; a file is deleted before its
field is cleared, so a crash in between leaves a field pointing at nothing, which the next run
clears. A real run writes one audit event `privacy.purge` with the counts.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.audit import audit_record
from core.errors import DomainError
from core.time import regency_today
from donations.models import ActivePledge, BankStatement, StatementStatus
from participants.imports.staging import staging_drop
from participants.models import FINAL_STATUSES, ArrearsImport, ArrearsRecord, Participant
from participants.privacy_models import Anonymisation, AnonymisationReason
from regencies.models import Regency

logger = logging.getLogger(__name__)


def upload_retention_days() -> int:
    return int(getattr(settings, "PRIVACY_UPLOAD_RETENTION_DAYS", 90))


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def retention_cutoff(*, regency: Regency, today: dt.date) -> dt.date:
    return years_before(today, regency.retention_years or 5)


def retention_candidates(*, regency: Regency, today: dt.date) -> QuerySet[Participant]:
    """Participants whose last list is before the cutoff, with no open pledge, not yet anonymised."""
    cutoff = retention_cutoff(regency=regency, today=today)
    recent = ArrearsRecord.objects.for_regency(regency).filter(participant=OuterRef("pk"), as_of__gte=cutoff)
    held = ActivePledge.objects.for_regency(regency).filter(participant=OuterRef("pk"))
    done = Anonymisation.objects.for_regency(regency).filter(participant=OuterRef("pk"))
    return (
        Participant.objects.for_regency(regency)
        .filter(created_at__date__lt=cutoff)
        .filter(Q(as_of__isnull=True) | Q(as_of__lt=cutoff))
        .exclude(Exists(recent)).exclude(Exists(held)).exclude(Exists(done))
        .order_by("pk")
    )


def _imports_to_purge(now: dt.datetime) -> QuerySet[ArrearsImport]:
    cutoff = now - dt.timedelta(days=upload_retention_days())
    finished = Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    return (ArrearsImport.objects.filter(status__in=list(FINAL_STATUSES)).filter(finished)
            .filter(~Q(file="") | ~Q(error_report="")).order_by("pk"))


def _statements_to_purge(now: dt.datetime) -> QuerySet[BankStatement]:
    cutoff = now - dt.timedelta(days=upload_retention_days())
    finished = Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    return (BankStatement.all_regencies.filter(status__in=[StatementStatus.DONE, StatementStatus.REJECTED])
            .filter(finished).exclude(file="").order_by("pk"))


def _delete_file(name: str) -> None:
    if name and default_storage.exists(name):
        default_storage.delete(name)


def _row_detail_models() -> list:
    """The per-row problem tables of an import (errors, and warnings where they exist)."""
    models = []
    for name in ("row_errors", "row_warnings"):
        try:
            models.append(ArrearsImport._meta.get_field(name).related_model)
        except FieldDoesNotExist:
            continue
    return models


@dataclass
class PurgeResult:
    dry_run: bool
    participants_anonymised: int = 0
    participants_skipped: int = 0
    import_files_deleted: int = 0
    statement_files_deleted: int = 0
    row_values_blanked: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def personal_data_purge(*, dry_run: bool = False, now: dt.datetime | None = None) -> PurgeResult:
    """One run over every regency (see the module docstring). `dry_run` counts and changes nothing."""
    from donations.privacy.subject import participant_anonymise

    now = now or timezone.now()
    result = PurgeResult(dry_run=dry_run)
    for regency in Regency.objects.order_by("pk"):
        today = regency_today(regency, now)
        candidates = retention_candidates(regency=regency, today=today)
        if dry_run:
            result.participants_anonymised += candidates.count()
            continue
        for participant in candidates.iterator(chunk_size=500):
            try:
                participant_anonymise(regency=regency, participant=participant, actor=None,
                                      reason=AnonymisationReason.RETENTION)
            except DomainError as exc:  # a pledge made since the selection, or anonymised meanwhile
                logger.info("privacy purge: participant %s skipped (%s)", participant.pk, exc.code)
                result.participants_skipped += 1
            else:
                result.participants_anonymised += 1

    imports = list(_imports_to_purge(now))
    statements = list(_statements_to_purge(now))
    if dry_run:
        result.import_files_deleted = sum(bool(i.file.name) + bool(i.error_report.name) for i in imports)
        result.statement_files_deleted = len(statements)
        return result

    for arrears_import in imports:
        for field in (arrears_import.file, arrears_import.error_report):
            if field.name:
                _delete_file(field.name)
                result.import_files_deleted += 1
        staging_drop(import_id=arrears_import.pk)
        with transaction.atomic():
            ArrearsImport.objects.filter(pk=arrears_import.pk).update(file="", error_report="")
            for model in _row_detail_models():
                result.row_values_blanked += (model.objects.filter(arrears_import_id=arrears_import.pk)
                                              .exclude(value="").update(value=""))
    for statement in statements:
        _delete_file(statement.file.name)
        BankStatement.all_regencies.filter(pk=statement.pk).update(file="")
        result.statement_files_deleted += 1

    with transaction.atomic():
        audit_record(actor=None, verb="privacy.purge", object_type="core.privacy_purge",
                     object_id=now.strftime("%Y%m%dT%H%M%S"), after=result.as_dict())
    return result
