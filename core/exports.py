"""Every download of rows (XLSX or CSV) goes through here: one writer, one neutraliser, one audit.

    from core.exports import Column, export_response

    COLUMNS = (
        Column(_("Nomor kartu JKN"), lambda p: p.card_number, width=16),
        Column(_("Tunggakan (Rp)"), lambda p: p.arrears_amount),
        Column(_("Data per"), lambda p: p.as_of),
    )
    return export_response(
        kind="participants", rows=queryset.iterator(chunk_size=2000), columns=COLUMNS,
        filename="peserta-luwu-utara-2026-11-22", actor=request.user, regency=regency,
        filters={"status": "inactive"}, fmt="xlsx",
    )

- The file is written row by row to a temporary file (xlsxwriter `constant_memory`, or CSV),
  so memory stays flat whatever the number of rows; the response streams it from disk
  (`FileResponse`). `in_memory=True` returns a plain `HttpResponse` for short lists.
- Text that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab
  or a carriage return) is neutralised with a leading apostrophe; identifiers (NIK, card and
  KK numbers) are written as text so Excel keeps every digit and leading zero.
- Every export records one audit event `export.<kind>` with the filters, the row count and
  the format, in its own transaction, before the file is sent.
- Masking is the caller's job (choose the columns for the viewer's role);
  `participants.models.mask_nik` masks a NIK the way every page shows it.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import IO, Any

import xlsxwriter
from django.db import transaction
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext

from core.audit import audit_record
from core.db_router import replica_reads

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX = "xlsx"
CSV = "csv"
FORMATS = (XLSX, CSV)
CONTENT_TYPES = {
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    CSV: "text/csv; charset=utf-8",
}
# Excel's limit of a cell; longer text is cut (with a marker) rather than corrupting the file.
MAX_CELL_CHARS = 32_767
_WORKBOOK_OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                     "strings_to_urls": False}


def neutralise(value: object) -> str:
    """Text safe to open in a spreadsheet: `=1+1` -> `'=1+1`; None -> ``."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def safe_cell(value: Any) -> Any:
    """A value as a cell: text neutralised, numbers and dates kept as they are."""
    if isinstance(value, (str, Promise)):
        return neutralise(value)
    return value


@dataclass(frozen=True)
class Column:
    """One column: its title (translated), how to read the cell from a row, its width in XLSX."""

    title: Any
    get: Callable[[Any], Any]
    width: int = 16


def _plain(value: Any, tz: dt.tzinfo | None) -> Any:
    """The value in a type both writers understand: str, int, float, date, datetime (naive), None."""
    if value is None:
        return None
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, bool):
        return gettext("ya") if value else gettext("tidak")
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value, tz) if tz is not None else timezone.localtime(value)
            value = value.replace(tzinfo=None)
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _text(value: Any) -> str:
    text = neutralise(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text


def write_xlsx(rows: Iterable[Any], columns: Sequence[Column], *, sheet: str = "Data",
               tz: dt.tzinfo | None = None) -> tuple[IO[bytes], int]:
    """Write `rows` to a temporary XLSX file in constant memory; return it (rewound) and the row count."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - handed to the response, which closes it
    book = xlsxwriter.Workbook(handle, _WORKBOOK_OPTIONS)
    worksheet = book.add_worksheet(_sheet_name(sheet))
    bold = book.add_format({"bold": True})
    date_format = book.add_format({"num_format": "dd-mm-yyyy"})
    datetime_format = book.add_format({"num_format": "dd-mm-yyyy hh:mm"})
    for col, column in enumerate(columns):
        worksheet.set_column(col, col, column.width)
        worksheet.write_string(0, col, _text(column.title), bold)
    line = 0
    for line, row in enumerate(rows, start=1):
        for col, column in enumerate(columns):
            value = _plain(column.get(row), tz)
            if value is None or value == "":
                worksheet.write_blank(line, col, None)
            elif isinstance(value, str):
                worksheet.write_string(line, col, _text(value))
            elif isinstance(value, dt.datetime):
                worksheet.write_datetime(line, col, value, datetime_format)
            elif isinstance(value, dt.date):
                worksheet.write_datetime(line, col, value, date_format)
            elif isinstance(value, (int, float)):
                worksheet.write_number(line, col, value)
            else:
                worksheet.write_string(line, col, _text(value))
    if line:
        worksheet.autofilter(0, 0, line, max(0, len(columns) - 1))
    worksheet.freeze_panes(1, 0)
    book.close()
    handle.seek(0)
    return handle, line


def _sheet_name(name: Any) -> str:
    """Excel: at most 31 characters, none of []:*?/\\."""
    text = str(name)
    for ch in "[]:*?/\\":
        text = text.replace(ch, " ")
    return text[:31] or "Data"


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return str(value)
    return neutralise(value)


class _Echo:
    """A file-like object whose write returns the line: csv.writer feeding a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Any], columns: Sequence[Column], *, tz: dt.tzinfo | None = None) -> Iterator[str]:
    """The rows as CSV lines, header first (with a UTF-8 BOM so spreadsheet programs read UTF-8)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([neutralise(c.title) for c in columns])
    for row in rows:
        yield writer.writerow([_csv_cell(_plain(c.get(row), tz)) for c in columns])


def write_csv(rows: Iterable[Any], columns: Sequence[Column], *,
              tz: dt.tzinfo | None = None) -> tuple[IO[bytes], int]:
    """Write `rows` to a temporary CSV file; return it (rewound) and the row count."""
    handle = tempfile.TemporaryFile(suffix=".csv")  # noqa: SIM115 - handed to the response, which closes it
    count = -1
    for count, line in enumerate(csv_lines(rows, columns, tz=tz)):  # noqa: B007 - the header is line 0
        handle.write(line.encode("utf-8"))
    handle.seek(0)
    return handle, max(count, 0)


def export_record(*, kind: str, actor, rows: int, fmt: str, regency=None, scope: str = "",
                  filters: dict | None = None, extra: dict | None = None):
    """The audit event of one export: `export.<kind>`, who, which filters, how many rows."""
    after = {"rows": rows, "format": fmt, "filters": _jsonable(filters or {})}
    if extra:
        after.update(_jsonable(extra))
    with transaction.atomic():
        return audit_record(
            actor=actor, verb=f"export.{kind}", object_type="core.export",
            object_id=scope or (regency.code if regency is not None else kind),
            regency=regency, after=after,
        )


def _jsonable(data: dict) -> dict:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if value is None or isinstance(value, (bool, int, float, str)):
            out[str(key)] = value
        elif isinstance(value, dict):
            out[str(key)] = _jsonable(value)
        elif isinstance(value, (list, tuple)):
            out[str(key)] = [v if isinstance(v, (bool, int, float, str)) or v is None else str(v) for v in value]
        else:
            out[str(key)] = str(value)
    return out


def export_response(
    *,
    kind: str,
    rows: Iterable[Any],
    columns: Sequence[Column],
    filename: str,
    actor,
    regency=None,
    scope: str = "",
    filters: dict | None = None,
    fmt: str = XLSX,
    sheet: Any = "Data",
    extra: dict | None = None,
    in_memory: bool = False,
) -> HttpResponseBase:
    """Write the export, audit it (`export.<kind>`), and return the download.

    `filename` without extension; `fmt` is `xlsx` or `csv` (anything else is xlsx).
    Times are written in the regency's time zone when a regency is given.
    """
    fmt = fmt if fmt in FORMATS else XLSX
    tz = regency.tzinfo if regency is not None and hasattr(regency, "tzinfo") else None
    # The rows are read here (lazily): from the read replica when there is one (core.db_router).
    with replica_reads():
        if fmt == CSV:
            handle, count = write_csv(rows, columns, tz=tz)
        else:
            handle, count = write_xlsx(rows, columns, sheet=sheet, tz=tz)
    try:
        export_record(kind=kind, actor=actor, rows=count, fmt=fmt, regency=regency, scope=scope,
                      filters=filters, extra=extra)
    except Exception:
        handle.close()
        raise
    name = f"{filename}.{fmt}"
    response: HttpResponseBase
    if in_memory:
        with handle:
            response = HttpResponse(handle.read(), content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    else:
        response = FileResponse(handle, as_attachment=True, filename=name, content_type=CONTENT_TYPES[fmt])
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def requested_format(request) -> str:
    """`?format=csv` -> csv; anything else -> xlsx."""
    value = (request.GET.get("format") or "").lower()
    return value if value in FORMATS else XLSX


def row_columns(headers: Sequence[Any], widths: Sequence[int] = ()) -> list[Column]:
    """Columns for rows that are sequences (the i-th column reads `row[i]`)."""
    return [
        Column(title, itemgetter(i), width=widths[i] if i < len(widths) else 16)
        for i, title in enumerate(headers)
    ]


def xlsx_rows_bytes(*, sheet_name: Any, headers: Sequence[Any], rows: Iterable[Sequence[Any]],
                    widths: Sequence[int] = ()) -> bytes:
    """Sequence rows as XLSX bytes (written in constant memory to a temporary file first)."""
    handle, _count = write_xlsx(rows, row_columns(headers, widths), sheet=sheet_name)
    with handle:
        return handle.read()
