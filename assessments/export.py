"""The PBI referral list as XLSX, for the Social Affairs office (Dinas Sosial)."""

from __future__ import annotations

import io

import xlsxwriter
from django.utils.translation import gettext as _

from core.formatting import format_date

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text that a spreadsheet would run as a formula is written as plain text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def pbi_referrals_xlsx(rows) -> bytes:
    """`rows`: assessments from `selectors.pbi_referrals` (participant joined)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_numbers": False})
    sheet = book.add_worksheet(_("Usulan PBI")[:31])
    bold = book.add_format({"bold": True})
    headers = [
        _("No"), _("NIK"), _("Nomor kartu JKN"), _("Nama"), _("Nomor KK"), _("Kecamatan"),
        _("Desa/kelurahan"), _("Bulan tunggakan"), _("Jumlah tunggakan (Rp)"), _("Desil DTSEN"),
        _("Dasar usulan"), _("Tanggal keputusan"),
    ]
    sheet.write_row(0, 0, headers, bold)
    for i, a in enumerate(rows, start=1):
        p = a.participant
        decile = (a.answers or {}).get("dtsen_decile")
        basis = _("Hasil asesmen: usulkan PBI") if a.reason_code == "refer_pbi" else _("Desil DTSEN 1–5")
        values = [
            i, p.nik, p.card_number, p.name, getattr(p.family, "number", "") or "",
            getattr(p.district, "name", "") or "", getattr(p.village, "name", "") or "",
            p.months_in_arrears, p.arrears_amount, decile if decile is not None else "",
            basis, format_date(a.decided_at) if a.decided_at else "",
        ]
        for col, value in enumerate(values):
            if isinstance(value, str):
                sheet.write_string(i, col, safe_cell(value))
            else:
                sheet.write(i, col, value)
    sheet.set_column(0, 0, 5)
    sheet.set_column(1, 4, 20)
    sheet.set_column(5, 11, 16)
    book.close()
    return buffer.getvalue()
