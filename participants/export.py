"""The regency's participant list as XLSX or CSV, with the list page's filters.

NIK and the family card (KK) number are masked unless the viewer may reveal it (Perm.REVEAL_NIK) AND asks for it
(`?nik=full`); every export — revealed or not — is an audit event
`export.participants` with the filters, the row count and whether NIK was revealed.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.exports import Column, export_response, requested_format
from core.time import regency_today
from participants import selectors
from participants.forms import ParticipantFilterForm
from participants.models import CareClass, ParticipantStatus, Relationship, mask_nik
from regencies.permissions import Perm, RegencyHttpRequest, require_perm


def participant_columns(*, reveal_nik: bool) -> list[Column]:
    eligibility = dict(selectors.ELIGIBILITY_CHOICES)
    statuses = dict(ParticipantStatus.choices)
    relationships = dict(Relationship.choices)
    classes = dict(CareClass.choices)
    return [
        Column(_("Nomor kartu JKN"), lambda p: p.card_number, width=16),
        Column(_("NIK") if reveal_nik else _("NIK (disamarkan)"),
               (lambda p: p.nik) if reveal_nik else (lambda p: mask_nik(p.nik)), width=18),
        Column(_("Nama"), lambda p: p.name, width=28),
        Column(_("Hubungan keluarga"), lambda p: relationships.get(p.relationship, p.relationship)),
        # The family card number identifies a person as a NIK does: masked the same way.
        Column(_("Nomor KK") if reveal_nik else _("Nomor KK (disamarkan)"),
               lambda p: (p.family.number if reveal_nik else mask_nik(p.family.number)) if p.family else "",
               width=18),
        Column(_("Kecamatan"), lambda p: p.district.name if p.district else ""),
        Column(_("Desa/kelurahan"), lambda p: p.village.name if p.village else ""),
        Column(_("Kelas"), lambda p: str(classes.get(p.care_class, p.care_class))),
        Column(_("Segmen"), lambda p: p.segment, width=8),
        Column(_("Bulan tunggakan"), lambda p: p.months_in_arrears, width=10),
        Column(_("Tunggakan (Rp)"), lambda p: p.arrears_amount),
        Column(_("Terakhir bayar"), lambda p: p.last_paid_date, width=12),
        Column(_("Status"), lambda p: str(statuses.get(p.status, p.status)), width=22),
        Column(_("Kelayakan"), lambda p: str(eligibility.get(p.eligibility, p.eligibility)), width=20),
        Column(_("Data per"), lambda p: p.as_of, width=12),
    ]


@require_GET
@require_perm(Perm.VIEW_PARTICIPANTS)
def participant_export(request: RegencyHttpRequest, regency_slug: str) -> HttpResponseBase:
    """`?format=xlsx|csv`, the list page's filters, `nik=full` to reveal NIK (Perm.REVEAL_NIK, audited)."""
    regency = request.regency
    reveal = request.GET.get("nik") == "full"
    if reveal and not request.regency_access.can(Perm.REVEAL_NIK):
        raise PermissionDenied(_("Anda tidak berhak melihat NIK lengkap."))
    filters = ParticipantFilterForm(request.GET, regency=regency).filters()
    rows = selectors.participant_list(regency=regency, **filters).iterator(chunk_size=2000)
    today = regency_today(regency)
    return export_response(
        kind="participants", rows=rows, columns=participant_columns(reveal_nik=reveal),
        # The revealed file is named apart so it is never mistaken for (or shared as) the masked one.
        filename=f"peserta-{regency.slug}-{today:%Y%m%d}" + ("-nik-lengkap" if reveal else "-disamarkan"),
        actor=request.user, regency=regency,
        filters=filters, fmt=requested_format(request), sheet=_("Peserta"),
        extra={"nik_revealed": reveal},
    )
