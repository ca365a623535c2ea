"""A participant as a data subject: what is held (export), correction requests, anonymisation."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.flags import with_reasons
from assessments.models import Assessment, Evidence, Screening, Status
from core.audit import audit_record
from core.errors import Conflict, DomainError, get_or_404
from core.exports import export_record
from core.outbox import enqueue_on_commit
from core.time import regency_today
from donations.models import ActivePledge, Payment, Pledge
from participants.models import ArrearsRecord, Family, Participant
from participants.privacy_models import (
    Anonymisation,
    AnonymisationReason,
    CorrectionRequest,
    CorrectionStatus,
)

ANONYMISED_NAME = "Dianonimkan"
REDACTED_TEXT = "(dianonimkan)"
POOLED_DONOR = "dana-bersama"


# --- placeholders -----------------------------------------------------------------------------


def placeholder_card_number(participant_pk: int) -> str:
    """`X` + 12 digits of the row's id: unique (the id is), never a real card number (digits only)."""
    return f"X{participant_pk:012d}"


def placeholder_nik(participant_pk: int) -> str:
    return f"X{participant_pk:015d}"


def placeholder_family_number(family_pk: int) -> str:
    return f"X{family_pk:015d}"


def donor_pseudonym(user_id: int | None) -> str:
    """A stable id for a donor that says nothing about them (HMAC of the id with the secret key)."""
    if user_id is None:
        return POOLED_DONOR
    digest = hmac.new(settings.SECRET_KEY.encode(), f"donor:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"donatur-{digest[:10]}"


def is_anonymised(participant: Participant) -> bool:
    return Anonymisation.objects.for_regency(participant.regency_id).filter(participant=participant).exists()


# --- what is held (export) --------------------------------------------------------------------


def _iso(value):
    return value.isoformat() if value is not None else None


def participant_data(*, regency, participant: Participant) -> dict:
    """Everything the system holds about `participant` (a regency's participant), as JSON-ready data.

    Donors appear by a pseudonymous id only; their personal data is theirs, not the participant's.
    """
    p = (Participant.objects.for_regency(regency).select_related("family", "district", "village")
         .get(pk=participant.pk))
    records = (ArrearsRecord.objects.for_regency(regency).filter(participant=p)
               .select_related("arrears_import").order_by("as_of", "id"))
    assessments = list(Assessment.objects.for_regency(regency).filter(participant=p).order_by("created_at", "id"))
    evidence: dict[int, list] = {}
    for ev in Evidence.objects.for_regency(regency).filter(assessment__in=assessments).order_by("uploaded_at", "id"):
        evidence.setdefault(ev.assessment_id, []).append({
            "file_name": ev.original_name, "content_type": ev.content_type, "size_bytes": ev.size_bytes,
            "uploaded_at": _iso(ev.uploaded_at),
        })
    screening = Screening.objects.for_regency(regency).filter(participant=p).first()
    pledges = list(Pledge.objects.for_regency(regency).filter(participant=p).select_related("campaign")
                   .order_by("created_at", "id"))
    payments: dict[int, list] = {}
    for pay in Payment.objects.for_regency(regency).filter(pledge__in=pledges).order_by("created_at", "id"):
        payments.setdefault(pay.pledge_id, []).append({
            "amount": pay.amount, "paid_on": _iso(pay.paid_on), "source": pay.source,
            "receipt_number": pay.receipt_number, "recorded_at": _iso(pay.created_at),
        })
    anonymisation = Anonymisation.objects.for_regency(regency).filter(participant=p).first()
    return {
        "generated_at": _iso(timezone.now()),
        "regency": {"code": regency.code, "name": regency.name},
        "participant": {
            "public_id": str(p.public_id), "card_number": p.card_number, "nik": p.nik, "name": p.name,
            "birth_date": _iso(p.birth_date), "sex": p.sex, "relationship": p.relationship,
            "care_class": p.care_class, "segment": p.segment,
            "family_number": p.family.number if p.family else None,
            "district": p.district.name if p.district else None,
            "village": p.village.name if p.village else None, "address": p.address,
            "months_in_arrears": p.months_in_arrears, "arrears_amount": p.arrears_amount,
            "last_paid_date": _iso(p.last_paid_date), "bpjs_status": p.bpjs_status, "status": p.status,
            "cleared_at": _iso(p.cleared_at), "as_of": _iso(p.as_of), "written_off": p.written_off,
            "in_rehab": p.in_rehab, "rehab_instalments_left": p.rehab_instalments_left,
            "created_at": _iso(p.created_at), "updated_at": _iso(p.updated_at),
            "anonymised": anonymisation is not None,
            "anonymised_at": _iso(anonymisation.created_at) if anonymisation else None,
        },
        "arrears_records": [
            {"as_of": _iso(r.as_of), "import_id": r.arrears_import_id, "row_number": r.row_number,
             "months_in_arrears": r.months_in_arrears, "arrears_amount": r.arrears_amount,
             "bpjs_status": r.bpjs_status, "last_paid_date": _iso(r.last_paid_date), "care_class": r.care_class,
             "segment": r.segment, "written_off": r.written_off, "in_rehab": r.in_rehab,
             "rehab_instalments_left": r.rehab_instalments_left}
            for r in records
        ],
        "screening": None if screening is None else {
            "recommendation": screening.recommendation, "flags": with_reasons(screening.flags),
            "computed_at": _iso(screening.computed_at),
        },
        "assessments": [
            {"id": a.pk, "status": a.status, "questionnaire_version": a.questionnaire_version,
             "answers": a.answers, "outcome": a.outcome, "reason_code": a.reason_code,
             "decision_note": a.decision_note, "return_note": a.return_note, "valid_until": _iso(a.valid_until),
             "created_at": _iso(a.created_at), "submitted_at": _iso(a.submitted_at),
             "decided_at": _iso(a.decided_at), "consent_recorded_at": _iso(a.consent_recorded_at),
             "evidence": evidence.get(a.pk, [])}
            for a in assessments
        ],
        "pledges": [
            {"public_id": str(pl.public_id), "campaign": pl.campaign.title, "donor": donor_pseudonym(pl.donor_id),
             "is_pooled": pl.is_pooled, "status": pl.status, "amount": pl.amount,
             "arrears_amount": pl.arrears_amount, "months_in_arrears": pl.months_in_arrears,
             "monthly_tariff": pl.monthly_tariff, "months_ahead": pl.months_ahead, "paid_amount": pl.paid_amount,
             "created_at": _iso(pl.created_at), "pledged_at": _iso(pl.pledged_at), "paid_at": _iso(pl.paid_at),
             "verified_at": _iso(pl.verified_at), "closed_at": _iso(pl.closed_at),
             "payments": payments.get(pl.pk, [])}
            for pl in pledges
        ],
        "correction_requests": [
            {"id": c.pk, "field": c.field, "requested_value": c.requested_value, "status": c.status,
             "note": c.note, "created_at": _iso(c.created_at), "resolved_at": _iso(c.resolved_at)}
            for c in CorrectionRequest.objects.for_regency(regency).filter(participant=p).order_by("created_at", "id")
        ],
    }


def participant_data_export(*, regency, participant: Participant, actor) -> dict:
    """The data of `participant`, with the audit event `export.participant_data` (who, whose, how much)."""
    data = participant_data(regency=regency, participant=participant)
    rows = 1 + sum(len(data[k]) for k in ("arrears_records", "assessments", "pledges", "correction_requests"))
    export_record(kind="participant_data", actor=actor, rows=rows, fmt="json", regency=regency,
                  scope=f"participant:{participant.public_id}",
                  extra={"participant": str(participant.public_id)})
    return data


# --- correction requests ----------------------------------------------------------------------


def correction_request_create(*, regency, participant: Participant, actor, field: str,
                              requested_value: str) -> CorrectionRequest:
    value = (requested_value or "").strip()
    if not value:
        raise DomainError(_("Tuliskan isi yang diminta atau uraian koreksinya."), code="correction_empty")
    with transaction.atomic():
        request = CorrectionRequest.objects.create(
            regency=regency, participant=participant, field=field, requested_value=value[:1000],
            requested_by=actor,
        )
        # The requested value may itself be personal data: the trail names the field only.
        audit_record(actor=actor, verb="participant.correction_requested", obj=request, regency=regency,
                     after={"participant": str(participant.public_id), "field": field, "status": request.status})
    return request


def correction_request_get(*, regency, participant: Participant, correction_id: int) -> CorrectionRequest:
    return get_or_404(CorrectionRequest.objects.for_regency(regency), what="correction request",
                      participant=participant, pk=correction_id)


def correction_request_resolve(*, regency, correction: CorrectionRequest, actor, status: str,
                               note: str) -> CorrectionRequest:
    if status not in (CorrectionStatus.DONE, CorrectionStatus.REJECTED):
        raise DomainError(_("Pilih hasilnya: selesai atau ditolak."), code="correction_status")
    note = (note or "").strip()
    if status == CorrectionStatus.REJECTED and not note:
        raise DomainError(_("Tuliskan alasan penolakan."), code="correction_note_required")
    with transaction.atomic():
        locked = CorrectionRequest.objects.for_regency(regency).select_for_update().get(pk=correction.pk)
        if not locked.is_open:
            raise Conflict(_("Permintaan koreksi ini sudah diselesaikan."), code="correction_closed")
        locked.status, locked.note = status, note[:1000]
        locked.resolved_by, locked.resolved_at = actor, timezone.now()
        locked.save(update_fields=["status", "note", "resolved_by", "resolved_at"])
        audit_record(actor=actor, verb="participant.correction_resolved", obj=locked, regency=regency,
                     before={"status": CorrectionStatus.OPEN}, after={"status": status})
    return locked


# --- anonymisation ----------------------------------------------------------------------------


def participant_anonymise(*, regency, participant: Participant, actor,
                          reason: str = AnonymisationReason.REQUEST, note: str = "") -> Anonymisation:
    """Replace the participant's personal data, irreversibly; keep the money trail.

    Replaced: name, NIK, card number (placeholders that keep the unique rules), birth date,
    address, the KK number once no member of the family keeps theirs, every assessment's answers
    and notes (health data), the texts of correction requests; evidence rows are removed and
    their files deleted from storage after the commit; an approved assessment still valid ends
    (the participant is no longer offered to donors). Kept: district and village (not personal
    on their own), class, segment, the arrears history (amounts and dates), pledges, payments,
    receipts and ledger rows (their participant is now the anonymised row). Refused while the
    participant has an open pledge (reserved, pledged or paid).
    """
    with transaction.atomic():
        locked = (Participant.objects.for_regency(regency).select_for_update(of=("self",))
                  .get(pk=participant.pk))
        if Anonymisation.objects.for_regency(regency).filter(participant=locked).exists():
            raise Conflict(_("Data peserta ini sudah dianonimkan."), code="already_anonymised")
        if ActivePledge.objects.for_regency(regency).filter(participant=locked).exists():
            raise Conflict(
                _("Peserta ini masih memiliki janji donasi yang berjalan (dipesan, dijanjikan atau dibayar "
                  "tetapi belum terverifikasi). Anonimisasi dapat dilakukan setelah janji itu selesai."),
                code="open_pledge",
            )
        locked.name = ANONYMISED_NAME
        locked.nik = placeholder_nik(locked.pk)
        locked.card_number = placeholder_card_number(locked.pk)
        locked.birth_date = None
        locked.address = ""
        locked.save(update_fields=["name", "nik", "card_number", "birth_date", "address", "updated_at"])

        family_replaced = False
        if locked.family_id is not None:
            others = (Participant.objects.for_regency(regency).filter(family_id=locked.family_id)
                      .exclude(pk=locked.pk).exclude(anonymisation__isnull=False))
            if not others.exists():
                Family.objects.for_regency(regency).filter(pk=locked.family_id).update(
                    number=placeholder_family_number(locked.family_id), updated_at=timezone.now())
                family_replaced = True

        assessments = Assessment.objects.for_regency(regency).filter(participant=locked)
        assessment_count = assessments.update(answers={}, decision_note="", return_note="",
                                              updated_at=timezone.now())
        # No longer offered to donors: an approved assessment still valid ends yesterday.
        yesterday = regency_today(regency) - dt.timedelta(days=1)
        eligibility_ended = assessments.filter(status=Status.APPROVED, valid_until__gt=yesterday).update(
            valid_until=yesterday)
        evidence = Evidence.objects.for_regency(regency).filter(assessment__participant=locked)
        file_names = [name for name in evidence.values_list("file", flat=True) if name]
        evidence.delete()
        CorrectionRequest.objects.for_regency(regency).filter(participant=locked).update(
            requested_value=REDACTED_TEXT, note=REDACTED_TEXT)

        record = Anonymisation.objects.create(regency=regency, participant=locked, reason=reason,
                                              actor=actor, note=note[:300])
        audit_record(
            actor=actor, verb="participant.anonymised", obj=locked, regency=regency,
            before={"anonymised": False},
            after={"anonymised": True, "reason": reason, "assessments": assessment_count,
                   "evidence_files": len(file_names), "family_number_replaced": family_replaced,
                   "eligibility_ended": eligibility_ended},
        )
        if file_names:
            from donations.tasks import privacy_delete_files_task

            enqueue_on_commit(privacy_delete_files_task, file_names)
    participant.refresh_from_db()
    return record


def files_delete(names: list[str]) -> int:
    """Delete stored files by name (idempotent: a file already gone is fine). Returns how many went."""
    from django.core.files.storage import default_storage

    deleted = 0
    for name in names:
        if name and default_storage.exists(name):
            default_storage.delete(name)
            deleted += 1
    return deleted
