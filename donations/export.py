"""The campaign's pledges as XLSX for the regency (staff only)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.exports import safe_cell, xlsx_rows_bytes
from core.formatting import format_date
from donations.models import PledgeStatus

__all__ = ["pledges_xlsx", "safe_cell"]


def _donor_name(pledge) -> str:
    if pledge.donor is None:
        return str(_("Dana bersama"))
    profile = getattr(pledge.donor, "donor_profile", None)
    name = (profile.display_name if profile else "") or pledge.donor.get_full_name()
    return name


def pledges_xlsx(pledges) -> bytes:
    headers = [
        _("ID janji"), _("Status"), _("Dana bersama"), _("Donatur"), _("E-mail donatur"), _("Nomor kartu JKN"),
        _("Nama peserta"), _("Nomor KK"), _("Kecamatan"), _("Desa/kelurahan"), _("Kelas"), _("Bulan tunggakan"),
        _("Tunggakan (Rp)"), _("Iuran per bulan (Rp)"), _("Bulan di muka"), _("Jumlah janji (Rp)"),
        _("Dibayar (Rp)"), _("Dibuat"), _("Alasan dilepas"),
    ]

    def lines():
        for p in pledges:
            part = p.participant
            yield [
                str(p.public_id), str(PledgeStatus(p.status).label), _("ya") if p.is_pooled else _("tidak"),
                _donor_name(p), p.donor.email if p.donor else "", part.card_number, part.name,
                getattr(part.family, "number", "") or "", getattr(part.district, "name", "") or "",
                getattr(part.village, "name", "") or "", part.care_class, p.months_in_arrears, p.arrears_amount,
                p.monthly_tariff, p.months_ahead, p.amount, int(getattr(p, "paid_total", 0) or 0),
                format_date(p.created_at), p.release_reason,
            ]

    return xlsx_rows_bytes(sheet_name=_("Janji donasi"), headers=headers, rows=lines(),
                      widths=(38, *([16] * 18)))
