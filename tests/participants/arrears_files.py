"""Small arrears files for the parser tests: one valid row, and writers for CSV and XLSX."""

from __future__ import annotations

import csv
import io
from pathlib import Path

CODES = {"73.22", "73.17"}

# One valid row, canonical header order.
BASE: dict[str, str] = {
    "no_kartu": "0001234567890",
    "nik": "7322015708800001",
    "nama": "ANDI BASO",
    "tgl_lahir": "17-08-1980",
    "jenis_kelamin": "L",
    "no_kk": "7322010101200001",
    "hubungan_keluarga": "PESERTA",
    "kelas": "3",
    "segmen": "PBPU",
    "kode_wilayah": "73.22.01.2001",
    "kecamatan": "MASAMBA",
    "desa": "BALOLI",
    "alamat": "JL. POROS MASAMBA NO. 5",
    "bulan_tunggak": "12",
    "jumlah_tunggakan": "420000",
    "tgl_bayar_terakhir": "15-10-2025",
    "status_peserta": "TIDAK AKTIF",
    # The optional columns of 2026: empty = unknown.
    "pemutihan": "",
    "rehab": "",
    "sisa_cicilan": "",
}


def row(n: int, **overrides: str) -> dict[str, str]:
    """BASE with a distinct card number and NIK for row index n."""
    return {**BASE, "no_kartu": f"{1234567890 + n:013d}", "nik": f"73220157088{n:05d}", **overrides}


def csv_text(rows: list[dict[str, str] | None], header: list[str] | None = None, *, delimiter: str = ",") -> str:
    """CSV text; a None row is a blank line."""
    header = header or list(BASE)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for r in rows:
        if r is None:
            buffer.write("\n")
        else:
            writer.writerow([r.get(h, "") for h in header])
    return buffer.getvalue()


def write_csv(tmp_path: Path, rows: list[dict[str, str] | None], header: list[str] | None = None, *,
              delimiter: str = ",", encoding: str = "utf-8", name: str = "tunggakan.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(csv_text(rows, header, delimiter=delimiter).encode(encoding))
    return path


def write_xlsx(tmp_path: Path, cells: list[list[object] | None], *, name: str = "tunggakan.xlsx",
               header: list[str] | None = None) -> Path:
    """An XLSX whose first row is the header; each cell written natively (str, int, float, date)."""
    import datetime as dt

    import xlsxwriter

    path = tmp_path / name
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Data")
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    for col, title in enumerate(header or list(BASE)):
        sheet.write_string(0, col, title)
    for r, values in enumerate(cells, start=1):
        if values is None:
            continue
        for c, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), date_format)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))
    book.close()
    return path
