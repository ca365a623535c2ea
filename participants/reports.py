"""The full error report of an import as CSV (streamed) or XLSX (constant memory).

Cells that a spreadsheet would read as a formula (starting with = + - @, or a tab
or carriage return) are neutralised with a leading apostrophe: the values come
from an uploaded file and must never execute in the reader's spreadsheet.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

import xlsxwriter
from django.utils.translation import gettext as _

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

Row = tuple[int, str, str, str]


def neutralise(value: object) -> str:
    """Text safe to open in a spreadsheet: `=1+1` -> `'=1+1`."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def report_header() -> list[str]:
    return [_("baris"), _("kolom"), _("pesan"), _("nilai asli")]


class _Echo:
    """A file-like object whose write returns the line: csv.writer feeds a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Row]) -> Iterator[str]:
    """The report as CSV lines (UTF-8 BOM first so spreadsheet programs read it as UTF-8)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(report_header())
    for row, column, message, value in rows:
        yield writer.writerow([row, neutralise(column), neutralise(message), neutralise(value)])


def xlsx_file(rows: Iterable[Row]) -> IO[bytes]:
    """The report as an XLSX in a temporary file (rewound), written row by row in constant memory."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - handed to the response, which closes it
    workbook = xlsxwriter.Workbook(handle, {"constant_memory": True, "strings_to_formulas": False,
                                            "strings_to_numbers": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet(_("Kesalahan"))
    bold = workbook.add_format({"bold": True})
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, 1, 22)
    sheet.set_column(2, 2, 70)
    sheet.set_column(3, 3, 30)
    for col, title in enumerate(report_header()):
        sheet.write_string(0, col, title, bold)
    line = 1
    for row, column, message, value in rows:
        sheet.write_number(line, 0, int(row))
        sheet.write_string(line, 1, neutralise(column))
        sheet.write_string(line, 2, neutralise(message))
        sheet.write_string(line, 3, neutralise(value))
        line += 1
    workbook.close()
    handle.seek(0)
    return handle
