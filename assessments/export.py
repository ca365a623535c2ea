"""The PBI referral list as XLSX, for the Social Affairs office (Dinas Sosial)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.exports import safe_cell, xlsx_rows_bytes
from core.formatting import format_date
from core.time import regency_today
from regencies.permissions import Perm, require_perm

__all__ = ["assessment_columns", "assessment_export", "pbi_referrals_xlsx", "safe_cell"]


def pbi_referrals_xlsx(rows) -> bytes:
    """`rows`: assessments from `selectors.pbi_referrals` (participant joined)."""
    headers = [
        _("No"), _("NIK"), _("Nomor kartu JKN"), _("Nama"), _("Nomor KK"), _("Kecamatan"),
        _("Desa/kelurahan"), _("Bulan tunggakan"), _("Jumlah tunggakan (Rp)"), _("Desil DTSEN"),
        _("Dasar usulan"), _("Program pemutihan"), _("Tanggal keputusan"),
    ]

    def lines():
        for i, a in enumerate(rows, start=1):
            p = a.participant
            decile = (a.answers or {}).get("dtsen_decile")
            programme = a.writeoff_programme.name if a.route == "writeoff" and a.writeoff_programme_id else ""
            if a.route == "writeoff":
                basis = _("Tunggakan dihapus program pemutihan")
            elif a.reason_code == "refer_pbi":
                basis = _("Hasil asesmen: usulkan PBI")
            else:
                basis = _("Desil DTSEN 1–5")
            yield [
                i, p.nik, p.card_number, p.name, getattr(p.family, "number", "") or "",
                getattr(p.district, "name", "") or "", getattr(p.village, "name", "") or "",
                p.months_in_arrears, p.arrears_amount, decile if decile is not None else "",
                basis, programme, format_date(a.decided_at) if a.decided_at else "",
            ]

    return xlsx_rows_bytes(sheet_name=_("Usulan PBI"), headers=headers, rows=lines(),
                      widths=(5, 20, 20, 20, 20, *([16] * 6), 40, 16))


# --- the assessment list (XLSX/CSV) -------------------------------------------------


def assessment_columns(*, with_health: bool) -> list:
    """Columns of the assessment export. Health answers (questions marked `sensitive`, specific
    personal data under UU 27/2022) and the decision note only when `with_health`."""
    from assessments import questionnaire
    from assessments.models import Outcome, ReasonCode, Status
    from core.exports import Column
    from participants.models import mask_nik

    statuses, outcomes, reasons = dict(Status.choices), dict(Outcome.choices), dict(ReasonCode.choices)

    def email(user) -> str:
        return user.email if user else ""

    columns = [
        Column(_("ID asesmen"), lambda a: a.pk, width=10),
        Column(_("Status"), lambda a: str(statuses.get(a.status, a.status)), width=20),
        Column(_("Hasil"), lambda a: str(outcomes.get(a.outcome, a.outcome))),
        Column(_("Alasan"), lambda a: str(reasons.get(a.reason_code, a.reason_code)), width=28),
        Column(_("Berlaku sampai"), lambda a: a.valid_until, width=12),
        Column(_("Nomor kartu JKN"), lambda a: a.participant.card_number),
        Column(_("NIK (disamarkan)"), lambda a: mask_nik(a.participant.nik), width=18),
        Column(_("Nama peserta"), lambda a: a.participant.name, width=28),
        Column(_("Kecamatan"), lambda a: a.participant.district.name if a.participant.district else ""),
        Column(_("Desa/kelurahan"), lambda a: a.participant.village.name if a.participant.village else ""),
        Column(_("Dibuat oleh"), lambda a: email(a.created_by), width=24),
        Column(_("Diajukan"), lambda a: a.submitted_at),
        Column(_("Diputuskan oleh"), lambda a: email(a.decided_by), width=24),
        Column(_("Diputuskan"), lambda a: a.decided_at),
    ]
    if with_health:
        columns.append(Column(_("Catatan keputusan"), lambda a: a.decision_note, width=40))
    def answer(q: questionnaire.Question) -> Callable[[Any], str]:
        return lambda a: questionnaire.display_answer(q, (a.answers or {}).get(q.key)) if a.answers else ""

    for q in questionnaire.questions():
        if q.sensitive and not with_health:
            continue
        columns.append(Column(q.label, answer(q), width=24))
    return columns


@require_GET
@require_perm(Perm.ASSESS)
def assessment_export(request, regency_slug: str):
    """`?format=xlsx|csv&status=...`: assessors and supervisors; health answers only for
    those who decide assessments. Audited as `export.assessments`."""
    from assessments.models import Status
    from assessments.selectors import assessment_list
    from core.exports import export_response, requested_format

    regency = request.regency
    status = request.GET.get("status") or ""
    if status not in Status.values:
        status = ""
    with_health = request.regency_access.can(Perm.DECIDE_ASSESSMENT)
    rows = assessment_list(regency=regency, status=status or None).iterator(chunk_size=2000)
    today = regency_today(regency)
    return export_response(
        kind="assessments", rows=rows, columns=assessment_columns(with_health=with_health),
        filename=f"asesmen-{regency.slug}-{today:%Y%m%d}", actor=request.user, regency=regency,
        filters={"status": status}, fmt=requested_format(request), sheet=_("Asesmen"),
        extra={"health_answers": with_health},
    )
