"""The campaign's pledges as XLSX for the regency (staff only)."""

from __future__ import annotations

import io

import xlsxwriter
from django.utils.translation import gettext as _

from core.formatting import format_date
from donations.models import PledgeStatus

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text a spreadsheet would run as a formula is written as plain text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _donor_name(pledge) -> str:
    if pledge.donor is None:
        return str(_("Dana bersama"))
    profile = getattr(pledge.donor, "donor_profile", None)
    name = (profile.display_name if profile else "") or pledge.donor.get_full_name()
    return name


def pledges_xlsx(pledges) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_numbers": False})
    sheet = book.add_worksheet(_("Janji donasi")[:31])
    bold = book.add_format({"bold": True})
    headers = [
        _("ID janji"), _("Status"), _("Dana bersama"), _("Donatur"), _("E-mail donatur"), _("Nomor kartu JKN"),
        _("Nama peserta"), _("Nomor KK"), _("Kecamatan"), _("Desa/kelurahan"), _("Kelas"), _("Bulan tunggakan"),
        _("Tunggakan (Rp)"), _("Iuran per bulan (Rp)"), _("Bulan di muka"), _("Jumlah janji (Rp)"),
        _("Dibayar (Rp)"), _("Dibuat"), _("Alasan dilepas"),
    ]
    sheet.write_row(0, 0, headers, bold)
    for row, p in enumerate(pledges, start=1):
        part = p.participant
        values = [
            str(p.public_id), str(PledgeStatus(p.status).label), _("ya") if p.is_pooled else _("tidak"),
            _donor_name(p), p.donor.email if p.donor else "", part.card_number, part.name,
            getattr(part.family, "number", "") or "", getattr(part.district, "name", "") or "",
            getattr(part.village, "name", "") or "", part.care_class, p.months_in_arrears, p.arrears_amount,
            p.monthly_tariff, p.months_ahead, p.amount, int(getattr(p, "paid_total", 0) or 0),
            format_date(p.created_at), p.release_reason,
        ]
        for col, value in enumerate(values):
            if isinstance(value, str):
                sheet.write_string(row, col, safe_cell(value))
            else:
                sheet.write_number(row, col, value)
    sheet.set_column(0, 0, 38)
    sheet.set_column(1, 18, 16)
    book.close()
    return buffer.getvalue()
