"""Writes of the assessments app: every transition locks its row, checks who may do
it (four eyes included) and writes its audit event in the same transaction."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import django.dispatch
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from assessments import questionnaire, routes
from assessments.evidence import sniff_upload
from assessments.models import (
    OPEN_STATUSES,
    Assessment,
    Evidence,
    Outcome,
    ReasonCode,
    Screening,
    ScreeningSettings,
    Status,
)
from assessments.screening import thresholds_for
from core.audit import audit_record
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.time import regency_today
from participants.models import Participant, ParticipantStatus
from regencies.models import Membership, Regency
from regencies.permissions import regency_access_for
from regencies.roles import ROLE_PERMISSIONS, Perm

ASSESSOR_ROLES = tuple(role for role, perms in ROLE_PERMISSIONS.items() if Perm.ASSESS in perms)


class InvalidTransition(Conflict):
    default_code = "invalid_transition"

# Sent inside the approving transaction (receivers enqueue through the outbox, so their work is
# committed with the decision): `assessment_id`, `regency_id`, `participant_id`, `route`. The
# donations app listens: a household routed to the write-off releases its unpaid pledge.
assessment_approved = django.dispatch.Signal()


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _require(actor: User, regency: Regency, perm: Perm) -> None:
    access = regency_access_for(user=actor, regency=regency)
    if access is None:
        raise NotFound()
    if not access.can(perm):
        raise PermissionDenied()


def _lock(assessment: Assessment) -> Assessment:
    return (
        Assessment.objects.for_regency(assessment.regency_id)
        .select_for_update(of=("self",))
        .select_related("regency")
        .get(pk=assessment.pk)
    )


def _expect(locked: Assessment, *allowed: str) -> None:
    if locked.status not in allowed:
        raise InvalidTransition(
            _("Asesmen berstatus %(status)s; tindakan ini hanya untuk status %(allowed)s.")
            % {
                "status": locked.get_status_display(),
                "allowed": ", ".join(str(Status(s).label) for s in allowed),
            }
        )


def _route(locked: Assessment) -> list[str]:
    """Set the route the answers and the newest list point to (the write-off programme in force
    today, REHAB, donors); returns the fields changed."""
    decision = routes.route_for(participant=locked.participant, answers=locked.answers,
                                on=regency_today(locked.regency))
    programme_id = decision.programme.pk if decision.programme else None
    if locked.route == decision.route and locked.writeoff_programme_id == programme_id:
        return []
    locked.route = decision.route
    locked.writeoff_programme_id = programme_id
    return ["route", "writeoff_programme"]


def _audit(locked: Assessment, *, actor: User, verb: str, before: dict, after: dict) -> None:
    audit_record(actor=actor, verb=verb, obj=locked, regency=locked.regency, before=before, after=after)


# --- settings and queue ----------------------------------------------------------


def screening_settings_update(
    *,
    regency: Regency,
    actor: User,
    cleared_min_months: int,
    relapse_within_months: int,
    short_arrears_months: int,
    validity_months: int,
) -> ScreeningSettings:
    """Change the regency's thresholds; the queue is re-screened after commit."""
    _require(actor, regency, Perm.MANAGE_SETTINGS)
    values = {
        "cleared_min_months": cleared_min_months,
        "relapse_within_months": relapse_within_months,
        "short_arrears_months": short_arrears_months,
        "validity_months": validity_months,
    }
    limits = {
        "cleared_min_months": (1, 24), "relapse_within_months": (1, 36),
        "short_arrears_months": (1, 24), "validity_months": (1, 60),
    }
    errors = {
        key: _("harus antara %(lo)s dan %(hi)s") % {"lo": lo, "hi": hi}
        for key, (lo, hi) in limits.items()
        if not isinstance(values[key], int) or not lo <= values[key] <= hi
    }
    if errors:
        raise DomainError(
            "; ".join(f"{k}: {v}" for k, v in errors.items()), code="invalid", extra={"errors": errors}
        )
    with transaction.atomic():
        row = ScreeningSettings.objects.for_regency(regency).select_for_update().first()
        if row is None:
            row = ScreeningSettings(regency=regency)
        before = {k: getattr(row, k) for k in values} if row.pk else None
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_by = actor
        row.save()
        audit_record(actor=actor, verb="screening.settings_changed", obj=row, regency=regency,
                     before=before, after=values)

        from core.outbox import enqueue_on_commit

        enqueue_on_commit("assessments.tasks.screening_regency_task", regency.pk)
    return row


def queue_assign(*, regency: Regency, actor: User, participant_ids: list[int], assignee: User | None) -> int:
    """Supervisors hand queue entries (and their open drafts) to an assessor of the regency."""
    _require(actor, regency, Perm.DECIDE_ASSESSMENT)
    if assignee is not None and not Membership.objects.for_regency(regency).filter(
        user=assignee, is_active=True, role__in=ASSESSOR_ROLES
    ).exists():
        raise DomainError(_("Penerima tugas bukan asesor di kabupaten/kota ini."), code="invalid_assignee")
    ids = sorted({int(i) for i in participant_ids})
    if not ids:
        return 0
    now = timezone.now()
    with transaction.atomic():
        entries = Screening.objects.for_regency(regency).filter(participant_id__in=ids)
        count = entries.update(assigned_to=assignee, assigned_at=now)
        Assessment.objects.for_regency(regency).filter(
            participant_id__in=ids, status=Status.DRAFT
        ).update(assigned_to=assignee)
        audit_record(
            actor=actor, verb="assessment_queue.assigned", object_type="assessments.screening",
            object_id=",".join(map(str, ids))[:64], regency=regency,
            after={"assigned_to": getattr(assignee, "pk", None), "participants": ids[:500], "count": count},
        )
    return count


# --- the state machine ------------------------------------------------------------


def assessment_start(*, regency: Regency, actor: User, participant: Participant) -> Assessment:
    """A new draft for a participant of the regency (assessors and admins)."""
    _require(actor, regency, Perm.ASSESS)
    if participant.regency_id != regency.pk:
        raise NotFound()
    today = regency_today(regency)
    with transaction.atomic():
        locked = Participant.objects.for_regency(regency).select_for_update().get(pk=participant.pk)
        if locked.status == ParticipantStatus.CLEARED:
            raise Conflict(_("Peserta tidak lagi ada di daftar tunggakan."), code="participant_cleared")
        if Assessment.objects.for_regency(regency).filter(
            participant=locked, status__in=OPEN_STATUSES
        ).exists():
            raise Conflict(_("Peserta ini sudah punya asesmen yang masih berjalan."), code="assessment_open")
        if Assessment.objects.for_regency(regency).filter(
            participant=locked, status=Status.APPROVED, valid_until__gte=today
        ).exists():
            raise Conflict(
                _("Peserta ini sudah dinyatakan layak dan masih berlaku."), code="already_eligible"
            )
        screening = (
            Screening.objects.for_regency(regency).filter(participant=locked).select_related("participant").first()
        )
        snapshot = (
            {"flags": screening.flags, "recommendation": screening.recommendation,
             "priority": screening.priority, "computed_at": screening.computed_at.isoformat()}
            if screening else {}
        )
        start_route = routes.route_for(participant=locked, answers={}, on=today)
        try:
            with transaction.atomic():
                assessment = Assessment.objects.create(
                    regency=regency,
                    participant=locked,
                    status=Status.DRAFT,
                    route=start_route.route,
                    writeoff_programme=start_route.programme,
                    questionnaire_version=questionnaire.QUESTIONNAIRE_VERSION,
                    screening_snapshot=snapshot,
                    created_by=actor,
                    assigned_to=(screening.assigned_to if screening and screening.assigned_to_id else actor),
                )
        except IntegrityError:
            raise Conflict(
                _("Peserta ini sudah punya asesmen yang masih berjalan."), code="assessment_open"
            ) from None
        assessment.regency = regency
        _audit(assessment, actor=actor, verb="assessment.created", before={},
               after={"status": Status.DRAFT, "participant": str(locked.public_id)})
    return assessment


def assessment_save_answers(*, assessment: Assessment, actor: User, answers: Any) -> Assessment:
    """Merge answers into a draft (validated against its questionnaire version).

    Consent becoming true records who and when; the audit names the keys
    changed, never the values (health answers are specific personal data).
    """
    _require(actor, assessment.regency, Perm.ASSESS)
    with transaction.atomic():
        locked = _lock(assessment)
        _expect(locked, Status.DRAFT)
        try:
            cleaned = questionnaire.validate_answers(answers, version=locked.questionnaire_version)
        except questionnaire.AnswerError as exc:
            raise DomainError(
                _("Jawaban tidak valid: %(e)s") % {"e": exc}, code="invalid_answers",
                extra={"errors": exc.errors},
            ) from None
        merged = questionnaire.merge_answers(locked.answers, cleaned)
        changed = sorted(k for k in cleaned if locked.answers.get(k) != merged.get(k))
        if not changed:
            return locked
        had_consent = locked.answers.get("consent") is True
        locked.answers = merged
        fields = ["answers", "updated_at", *_route(locked)]
        if merged.get("consent") is True and not had_consent:
            locked.consent_recorded_by = actor
            locked.consent_recorded_at = timezone.now()
            fields += ["consent_recorded_by", "consent_recorded_at"]
        elif merged.get("consent") is not True and had_consent:
            locked.consent_recorded_by = None
            locked.consent_recorded_at = None
            fields += ["consent_recorded_by", "consent_recorded_at"]
        locked.save(update_fields=fields)
        _audit(locked, actor=actor, verb="assessment.answers_saved", before={},
               after={"keys": changed, "route": locked.route})
    return locked


def assessment_submit(*, assessment: Assessment, actor: User) -> Assessment:
    _require(actor, assessment.regency, Perm.ASSESS)
    with transaction.atomic():
        locked = _lock(assessment)
        _expect(locked, Status.DRAFT)
        missing = questionnaire.missing_for_submit(locked.answers, version=locked.questionnaire_version)
        if missing:
            raise DomainError(
                _("Belum lengkap: %(m)s") % {"m": "; ".join(missing.values())},
                code="incomplete", extra={"missing": sorted(missing)},
            )
        locked.status = Status.SUBMITTED
        locked.submitted_by = actor
        locked.submitted_at = timezone.now()
        locked.save(update_fields=["status", "submitted_by", "submitted_at", "updated_at", *_route(locked)])
        _audit(locked, actor=actor, verb="assessment.submitted",
               before={"status": Status.DRAFT}, after={"status": Status.SUBMITTED})
    return locked


def _four_eyes(locked: Assessment, actor: User) -> None:
    if locked.submitted_by_id == actor.pk:
        raise PermissionDenied(
            _("Anda tidak boleh memutuskan asesmen yang Anda ajukan sendiri (prinsip empat mata)."),
            code="four_eyes",
        )


def assessment_return(*, assessment: Assessment, actor: User, note: str) -> Assessment:
    """Send a submission back to draft with a note saying what to fix."""
    _require(actor, assessment.regency, Perm.DECIDE_ASSESSMENT)
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Tulis catatan: apa yang perlu diperbaiki."), code="note_required")
    with transaction.atomic():
        locked = _lock(assessment)
        _expect(locked, Status.SUBMITTED)
        locked.status = Status.DRAFT
        locked.return_note = note[:2000]
        locked.save(update_fields=["status", "return_note", "updated_at"])
        _audit(locked, actor=actor, verb="assessment.returned",
               before={"status": Status.SUBMITTED}, after={"status": Status.DRAFT, "note": note[:2000]})
    return locked


def _decide(assessment: Assessment, actor: User, *, status: Status, outcome: Outcome, reason: str,
            note: str) -> Assessment:
    """A supervisor's decision on a submission, inside the caller's transaction: the row locked,
    still submitted, not decided by its submitter; valid for the regency's validity period."""
    locked = _lock(assessment)
    _expect(locked, Status.SUBMITTED)
    _four_eyes(locked, actor)
    months = thresholds_for(regency=locked.regency).validity_months
    locked.status = status
    locked.outcome = outcome
    locked.reason_code = reason
    locked.decision_note = note[:2000]
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.valid_until = add_months(regency_today(locked.regency), months)
    locked.save(update_fields=["status", "outcome", "reason_code", "decision_note", "decided_by",
                               "decided_at", "valid_until", "updated_at", *_route(locked)])
    return locked


def assessment_approve(*, assessment: Assessment, actor: User, note: str = "") -> Assessment:
    """Eligible, for the regency's validity period. Never by the submitter."""
    _require(actor, assessment.regency, Perm.DECIDE_ASSESSMENT)
    with transaction.atomic():
        locked = _decide(assessment, actor, status=Status.APPROVED, outcome=Outcome.ELIGIBLE, reason="",
                         note=(note or "").strip())
        _audit(locked, actor=actor, verb="assessment.approved", before={"status": Status.SUBMITTED},
               after={"status": Status.APPROVED, "outcome": Outcome.ELIGIBLE,
                      "valid_until": locked.valid_until and locked.valid_until.isoformat(), "note": locked.decision_note,
                      "route": locked.route})
        assessment_approved.send(sender=Assessment, assessment_id=locked.pk, regency_id=locked.regency_id,
                                 participant_id=locked.participant_id, route=locked.route)
    return locked


def assessment_reject(*, assessment: Assessment, actor: User, reason: str, note: str = "") -> Assessment:
    """Ineligible with a reason code (`other` needs a note). Never by the submitter."""
    _require(actor, assessment.regency, Perm.DECIDE_ASSESSMENT)
    if reason not in ReasonCode.values:
        raise DomainError(
            _("Alasan wajib dipilih: %(codes)s.") % {"codes": ", ".join(ReasonCode.values)},
            code="reason_required",
        )
    note = (note or "").strip()
    if reason == ReasonCode.OTHER and not note:
        raise DomainError(_("Alasan 'lainnya' perlu catatan."), code="note_required")
    with transaction.atomic():
        locked = _decide(assessment, actor, status=Status.REJECTED, outcome=Outcome.INELIGIBLE, reason=reason,
                         note=note)
        _audit(locked, actor=actor, verb="assessment.rejected", before={"status": Status.SUBMITTED},
               after={"status": Status.REJECTED, "outcome": Outcome.INELIGIBLE, "reason": reason,
                      "note": locked.decision_note})
    return locked


def evidence_add(*, assessment: Assessment, actor: User, upload: UploadedFile) -> Evidence:
    """Attach a photo (JPEG/PNG/WebP) or PDF to a draft. The type is read from the
    file's first bytes, not its name; the stored name is random."""
    _require(actor, assessment.regency, Perm.ASSESS)
    content_type, extension = sniff_upload(upload)
    with transaction.atomic():
        locked = _lock(assessment)
        _expect(locked, Status.DRAFT)
        original = (getattr(upload, "name", "") or "bukti").rsplit("/", 1)[-1][:200]
        evidence = Evidence(
            regency=locked.regency, assessment=locked, content_type=content_type,
            size_bytes=upload.size or 0, original_name=original, uploaded_by=actor,
        )
        upload.seek(0)
        evidence.file.save(f"bukti{extension}", upload, save=False)
        try:
            evidence.save()
        except Exception:
            evidence.file.delete(save=False)
            raise
        _audit(locked, actor=actor, verb="assessment.evidence_added", before={},
               after={"evidence": evidence.pk, "content_type": content_type, "size": upload.size})
    return evidence


def pbi_referrals_export(*, regency: Regency, actor: User) -> bytes:
    """The referral list as XLSX with full identifiers (Dinas Sosial needs them to
    propose PBI): only for those who decide, and every export is audited."""
    from assessments.export import pbi_referrals_xlsx
    from assessments.selectors import pbi_referrals

    _require(actor, regency, Perm.DECIDE_ASSESSMENT)
    from core.exports import export_record

    rows = list(pbi_referrals(regency=regency))
    export_record(kind="pbi_referrals", actor=actor, rows=len(rows), fmt="xlsx", regency=regency)
    return pbi_referrals_xlsx(rows)
