"""The full error report of an import as CSV (streamed) or XLSX (constant memory).

Written through `core.exports`: cells that a spreadsheet would read as a formula
(starting with = + - @, or a tab or carriage return) are neutralised with a leading
apostrophe; the values come from an uploaded file and must never execute in the
reader's spreadsheet.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import IO

from django.utils.translation import gettext as _

from core import exports
from core.exports import FORMULA_PREFIXES, neutralise

Row = tuple[int, str, str, str]

__all__ = ["FORMULA_PREFIXES", "csv_lines", "neutralise", "report_header", "xlsx_file"]

_WIDTHS = (8, 22, 70, 30)


def report_header() -> list[str]:
    return [_("baris"), _("kolom"), _("pesan"), _("nilai asli")]


def _columns() -> list[exports.Column]:
    return [exports.Column(title, itemgetter(i), width=_WIDTHS[i]) for i, title in enumerate(report_header())]


def _cells(rows: Iterable[Row]) -> Iterator[tuple[int, str, str, str]]:
    for row, column, message, value in rows:
        yield int(row), column or "", message or "", "" if value is None else str(value)


def csv_lines(rows: Iterable[Row]) -> Iterator[str]:
    """The report as CSV lines (UTF-8 BOM first so spreadsheet programs read it as UTF-8)."""
    return exports.csv_lines(_cells(rows), _columns())


def xlsx_file(rows: Iterable[Row]) -> IO[bytes]:
    """The report as an XLSX in a temporary file (rewound), written row by row in constant memory."""
    handle, _count = exports.write_xlsx(_cells(rows), _columns(), sheet=_("Kesalahan"))
    return handle
