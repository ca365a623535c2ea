"""Reading an arrears file into frames of raw text, a chunk at a time.

Two readers with one shape: `header` (the header cells and where they are) and
`chunks(columns)` yielding `(first_row_number, frame)` where the frame has one
String column per requested header position (named `c<position>`), one row per
spreadsheet row after the header, blank rows included (the caller drops them),
so that row numbers stay the ones a spreadsheet shows.

CSV: read in byte blocks split at record boundaries (a newline outside quotes),
each block parsed by polars; memory stays constant whatever the file size.
Encoding: a UTF-8 BOM, a UTF-16 BOM (transcoded), else UTF-8 validated as it
goes with a fall back to Windows-1252 (transcoded to UTF-8) when the bytes are
not UTF-8. Delimiter: `,`, `;` or tab, sniffed from the header line.

XLSX: the zip directory is checked first (total uncompressed size and the
compression ratio: a zip bomb never reaches the XML parser), then the first
sheet's declared `<dimension>` and the cells actually present (a streaming pass,
check_xlsx_sheet: the reader holds the whole range, so one cell at XFD1048576
would cost 550 GB), then python-calamine reads the first sheet; cells come as str/float/date objects and
are turned into text the way a person reads them (`7322.0` -> `7322`; a date ->
`2026-01-31`; identifiers keep a `.0` marker so that damaged numeric NIKs are
recognised, see normalise.py).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from django.conf import settings
from django.utils.translation import gettext as _

from participants.imports.problems import FileRejected

MAX_COLUMNS = 200
HEAD_BYTES = 1 << 16
# Bytes of CSV per chunk are estimated from the header sample: about chunk_rows rows.
MIN_CHUNK_BYTES = 256
MAX_CHUNK_BYTES = 1 << 25
XLSX_MAX_UNCOMPRESSED_BYTES = 1 << 30
XLSX_MAX_RATIO = 100
XLSX_RATIO_MIN_BYTES = 1 << 20  # small members may compress very well without being a bomb
XLSX_MAX_MEMBERS = 10_000
# The reader holds the sheet's whole range (about 32 bytes a cell): settings.ARREARS_XLSX_MAX_CELLS.
XLSX_MAX_CELLS = 10_000_000

# Columns whose numeric XLSX cells keep a `.0` marker (see normalise.py: damaged NIK/KK).
IDENTIFIER_COLUMNS = frozenset({"no_kartu", "nik", "no_kk"})

ProgressFn = Callable[[float], None] | None

# Characters no arrears list holds on purpose (tab, CR and LF excepted): NUL, BEL, ESC, DEL...
# PostgreSQL cannot even store NUL in text. A cell with one is a row error (CellProblem).
CONTROL_CHARS = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_CONTROL_TEXT = re.compile(CONTROL_CHARS)
MAX_FIELD_CHARS = 1000
# A quoted field may span lines (an address with a line break); a quote still open after this
# many lines is a stray one.
_QUOTED_LINES_MAX = 5


@dataclass
class CellProblem:
    """A cell the reader could not take as it is: the row becomes a row error, never a system
    error. `position` is the column's index in the file (parse.py names it)."""

    row: int
    position: int
    message: str
    value: str


def _visible(text: str) -> str:
    """A cell value safe to show and store: control characters as their code (`<0x00>`)."""
    return _CONTROL_TEXT.sub(lambda m: f"<0x{ord(m.group()):02X}>", text)


def _char_names(text: str) -> str:
    names = {0: "NUL", 7: "BEL", 8: "BS", 11: "VT", 12: "FF", 27: "ESC", 127: "DEL"}
    found = sorted({ord(ch) for ch in _CONTROL_TEXT.findall(text)})
    return ", ".join(f"{names.get(code, 'kontrol')} (0x{code:02X})" for code in found[:5])


def frame_problems(frame: pl.DataFrame, first_row: int, positions: list[int]
                   ) -> tuple[pl.DataFrame, list[CellProblem]]:
    """Control characters and over-long cells in a chunk: (the frame with those characters
    removed, one CellProblem per cell). Vectorised; the frame's columns are `c<position>`."""
    limit = getattr(settings, "ARREARS_MAX_FIELD_CHARS", MAX_FIELD_CHARS)
    names = [f"c{p}" for p in positions if f"c{p}" in frame.columns]
    if not names or not frame.height:
        return frame, []
    flags = frame.select(
        *[pl.col(n).str.contains(CONTROL_CHARS).fill_null(False).alias(f"x{n}") for n in names],
        *[(pl.col(n).str.len_chars() > limit).fill_null(False).alias(f"l{n}") for n in names],
    )
    if not flags.select(pl.any_horizontal(pl.all().any())).item():
        return frame, []
    problems: list[CellProblem] = []
    for name in names:
        position = int(name[1:])
        for kind in ("x", "l"):
            hits = flags.get_column(f"{kind}{name}").arg_true().to_list()
            for index in hits:
                value = frame.get_column(name)[index] or ""
                if kind == "x":
                    message = _(
                        "Sel berisi karakter kontrol tak terlihat %(chars)s; baris ini tidak dipakai. "
                        "Hapus karakter itu dari sel lalu unggah lagi."
                    ) % {"chars": _char_names(value)}
                else:
                    message = _(
                        "Isi sel terlalu panjang: %(n)s karakter (batas %(max)s); baris ini tidak dipakai."
                    ) % {"n": len(value), "max": limit}
                problems.append(CellProblem(row=first_row + index, position=position, message=message,
                                            value=_visible(value)[:200]))
    cleaned = frame.with_columns(
        pl.col(n).str.replace_all(CONTROL_CHARS, "").str.slice(0, limit) for n in names
    )
    return cleaned, problems


def _tolerant_records(text: str, delimiter: str) -> Iterator[tuple[list[str], str | None]]:
    """(cells, the raw record when its quotes are broken else None) per record of `text`, line
    by line. A quoted field may span lines (up to _QUOTED_LINES_MAX) when the joined lines parse."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    i = 0
    while i < len(lines):
        record, used = lines[i].rstrip("\r"), 1
        if record.count('"') % 2:
            joined = record
            for extra in range(1, _QUOTED_LINES_MAX):
                if i + extra >= len(lines):
                    break
                joined += "\n" + lines[i + extra].rstrip("\r")
                if joined.count('"') % 2 == 0:
                    if _strict_cells(joined, delimiter) is not None:
                        record, used = joined, extra + 1
                    break
        cells = _strict_cells(record, delimiter)
        if cells is None:
            yield record.split(delimiter), record
        else:
            yield cells, None
        i += used


def _strict_cells(record: str, delimiter: str) -> list[str] | None:
    try:
        return next(csv.reader([record], delimiter=delimiter, strict=True), [])
    except csv.Error:
        return None


def _broken_quote_position(record: str, delimiter: str) -> int:
    """The index of the first field whose quotes do not pair up (0 when none can be told)."""
    for index, field in enumerate(record.split(delimiter)):
        text = field.strip()
        if not text.startswith('"'):
            continue  # quotes inside an unquoted field are taken as they are
        closed = len(text) > 1 and text.endswith('"')
        if closed and '"' not in text[1:-1].replace('""', ""):
            continue
        return index
    return 0


@dataclass
class RawHeader:
    kind: str  # "csv" | "xlsx"
    cells: list[str]  # the header cells as found, stripped ('' for an empty cell)
    row: int  # spreadsheet row number of the header (1 unless blank rows come first)
    encoding: str | None = None  # CSV: utf-8, utf-8-sig, utf-16, cp1252
    delimiter: str | None = None  # CSV: , ; or tab


def detect_kind(path: Path) -> str:
    """`xlsx` for a zip, `csv` for text; FileRejected for empty files and other binaries."""
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    if not head:
        raise FileRejected(_("Berkas kosong (0 byte)."), code="empty")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"
    magic = {
        b"%PDF": _("sebuah PDF"),
        b"\xd0\xcf\x11\xe0": _("berkas Excel 97-2003 (.xls) atau dokumen Office lama"),
        b"\x89PNG": _("gambar PNG"),
        b"\xff\xd8\xff": _("gambar JPEG"),
        b"GIF8": _("gambar GIF"),
        b"{\\rtf": _("dokumen RTF"),
        b"PK\x05\x06": _("arsip ZIP kosong"),
        b"\x1f\x8b": _("arsip gzip"),
        b"Rar!": _("arsip RAR"),
        b"7z\xbc\xaf": _("arsip 7-Zip"),
    }
    for prefix, what in magic.items():
        if head.startswith(prefix):
            raise FileRejected(
                _("Berkas ini bukan CSV atau XLSX: isinya %(what)s. Simpan daftar sebagai CSV atau XLSX.")
                % {"what": what},
                code="not_table",
            )
    # A stray NUL in a cell is a row error (CellProblem); many of them mean a binary file.
    if head.count(b"\x00") > len(head) // 100:
        raise FileRejected(
            _("Berkas ini bukan CSV atau XLSX: isinya biner (berisi byte NUL). Simpan daftar sebagai CSV atau XLSX."),
            code="not_table",
        )
    return "csv"


# --- CSV ------------------------------------------------------------------------------------------

def _balanced_cut(buf: bytes | bytearray, limit: int) -> int:
    """Index just after the last newline before `limit` that is outside quotes (buf starts at a
    record), else after the last such newline in the whole buffer; -1 when there is none."""
    pos = buf.rfind(b"\n", 0, limit)
    if pos < 0:
        pos = buf.rfind(b"\n")
        if pos < 0:
            return -1
    if b'"' not in buf:
        return pos + 1
    quotes = buf.count(b'"', 0, pos)
    while quotes % 2:
        prev = buf.rfind(b"\n", 0, pos)
        if prev < 0:
            return -1
        quotes -= buf.count(b'"', prev, pos)
        pos = prev
    return pos + 1


def _sniff_delimiter(line: str) -> str:
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _undecodable(message: str, data: bytes, exc: UnicodeDecodeError, offset: int) -> FileRejected:
    """The file refused at the byte that does not decode: `message` names it (`%(byte)02X`) and
    its position in the file (`%(pos)s`)."""
    return FileRejected(message % {"byte": data[exc.start], "pos": offset + exc.start}, code="undecodable")


class CsvReader:
    kind = "csv"

    def __init__(self, path: Path, *, chunk_rows: int, progress: ProgressFn = None):
        self.path = path
        self.size = path.stat().st_size
        self.progress = progress
        self.raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.consumed = 0  # raw bytes handed on, for progress
        self.utf8_confirmed = False
        head = self.raw.read(HEAD_BYTES)
        self.raw.seek(0)
        if head.startswith(codecs.BOM_UTF8):
            self.encoding = "utf-8-sig"
            self.raw.seek(3)
            self.utf8_confirmed = True
            self._blocks_source = self._raw_blocks
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self.encoding = "utf-16"
            self._blocks_source = self._utf16_blocks
        else:
            sample = head[: head.rfind(b"\n") + 1] or head
            if sample.isascii():
                self.encoding = "utf-8"
            else:
                try:
                    sample.decode("utf-8")
                    self.encoding = "utf-8"
                    self.utf8_confirmed = True
                except UnicodeDecodeError:
                    self.encoding = "cp1252"
            self._blocks_source = self._raw_blocks
        self.buffer = bytearray()
        self.problems: list[CellProblem] = []
        self.eof = False
        self.block_bytes = 1 << 20
        self.header = self._read_header()
        # Chunk size from the sample: about chunk_rows rows per chunk.
        sample_rows = max(1, self.buffer[:HEAD_BYTES].count(b"\n"))
        per_row = max(16, min(len(self.buffer[:HEAD_BYTES]), HEAD_BYTES) // sample_rows)
        self.chunk_bytes = max(MIN_CHUNK_BYTES, min(MAX_CHUNK_BYTES, per_row * chunk_rows))

    # raw bytes -> UTF-8-or-single-byte blocks
    def _raw_blocks(self) -> Iterator[bytes]:
        while True:
            block = self.raw.read(self.block_bytes)
            if not block:
                return
            yield block

    def _utf16_blocks(self) -> Iterator[bytes]:
        text = io.TextIOWrapper(self.raw, encoding="utf-16", newline="")
        try:
            while True:
                part = text.read(self.block_bytes // 2)
                if not part:
                    return
                yield part.encode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileRejected(
                _("Berkas tidak dapat dibaca: ada byte yang bukan UTF-16 yang sah (%(reason)s).")
                % {"reason": exc.reason},
                code="undecodable",
            ) from None

    def _fill(self, at_least: int) -> None:
        if not hasattr(self, "_blocks"):
            self._blocks = self._blocks_source()
        while len(self.buffer) < at_least and not self.eof:
            block = next(self._blocks, None)
            if block is None:
                self.eof = True
            else:
                self.buffer += block

    def _to_utf8(self, data: bytes, offset: int) -> bytes:
        if self.encoding == "utf-16" or data.isascii():
            return data
        if self.encoding in ("utf-8", "utf-8-sig"):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                if self.utf8_confirmed:
                    raise _undecodable(
                        _("Berkas tidak dapat dibaca: bagian awalnya UTF-8, tetapi byte 0x%(byte)02X di "
                          "sekitar posisi %(pos)s bukan UTF-8. Simpan ulang berkas sebagai CSV UTF-8."),
                        data, exc, offset,
                    ) from None
                self.encoding = "cp1252"
            else:
                self.utf8_confirmed = True
                return data
        try:
            return data.decode("cp1252").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise _undecodable(
                _("Berkas tidak dapat dibaca: byte 0x%(byte)02X di sekitar posisi %(pos)s bukan UTF-8 "
                  "maupun Windows-1252. Simpan ulang berkas sebagai CSV UTF-8."),
                data, exc, offset,
            ) from None

    def _read_header(self) -> RawHeader:
        row = 0
        while True:
            self._fill(HEAD_BYTES)
            if not self.buffer:
                raise FileRejected(_("Berkas kosong: tidak ada judul kolom maupun baris data."), code="empty")
            end = self.buffer.find(b"\n")
            while end >= 0 and self.buffer.count(b'"', 0, end) % 2:
                end = self.buffer.find(b"\n", end + 1)
            if end < 0:
                if not self.eof:
                    if len(self.buffer) > 4 * HEAD_BYTES:
                        raise FileRejected(
                            _("Baris judul kolom tidak ditemukan: baris pertama lebih dari %(n)s byte.")
                            % {"n": 4 * HEAD_BYTES},
                            code="not_table",
                        )
                    self._fill(len(self.buffer) + HEAD_BYTES)
                    continue
                end = len(self.buffer)
            line = bytes(self.buffer[:end])
            del self.buffer[: end + 1]
            self.consumed += end + 1
            row += 1
            text = self._to_utf8(line, 0).decode("utf-8").rstrip("\r")
            if text.strip(" \t,;\ufeff"):
                break
            if self.eof and not self.buffer:
                raise FileRejected(_("Berkas kosong: tidak ada judul kolom maupun baris data."), code="empty")
        delimiter = _sniff_delimiter(text)
        cells = next(csv.reader([text], delimiter=delimiter), [])
        cells = [c.replace("\ufeff", "").strip() for c in cells]
        while cells and not cells[-1]:
            cells.pop()
        return RawHeader(kind="csv", cells=cells, row=row, encoding=self.encoding, delimiter=delimiter)

    def _record_chunks(self) -> Iterator[tuple[bytes, int]]:
        """(bytes of whole records, raw offset) chunks of about chunk_bytes."""
        while True:
            self._fill(self.chunk_bytes)
            if not self.buffer:
                return
            if self.eof and len(self.buffer) <= self.chunk_bytes:
                cut = len(self.buffer)
            else:
                cut = _balanced_cut(self.buffer, self.chunk_bytes)
                if cut <= 0:
                    if self.eof:
                        cut = len(self.buffer)
                    elif len(self.buffer) < 4 * self.chunk_bytes:
                        self._fill(len(self.buffer) + self.chunk_bytes)
                        continue
                    else:  # quotes that never balance: cut at a newline anyway
                        cut = self.buffer.rfind(b"\n") + 1 or len(self.buffer)
            data = bytes(self.buffer[:cut])
            del self.buffer[:cut]
            offset = self.consumed
            self.consumed += cut
            yield data, offset

    def chunks(self, columns: list[int], identifiers: frozenset[int] = frozenset()
               ) -> Iterator[tuple[int, pl.DataFrame]]:
        """`identifiers` matters only for XLSX (numeric cells); CSV cells are text already."""
        width = max(len(self.header.cells), (max(columns) + 1) if columns else 1)
        schema = {f"c{i}": pl.String for i in range(width)}
        next_row = self.header.row + 1
        for data, offset in self._record_chunks():
            utf8 = self._to_utf8(data, offset)
            try:
                frame = pl.read_csv(
                    utf8, has_header=False, separator=self.header.delimiter or ",", quote_char='"',
                    schema=schema, columns=columns, missing_columns="insert", extra_columns="ignore",
                    truncate_ragged_lines=True, raise_if_empty=False, infer_schema=False,
                )
            except pl.exceptions.ComputeError:
                # A stray quote (`"UDIN" SYAMSUDDIN`): this chunk again, line by line; the rows
                # with broken quotes become row errors. Never the parser's message: it quotes the row.
                frame = self._tolerant_frame(utf8, columns, next_row)
            frame, problems = frame_problems(frame, next_row, columns)
            self.problems.extend(problems)
            yield next_row, frame
            next_row += frame.height
            if self.progress is not None and self.size:
                self.progress(min(1.0, self.consumed / self.size))

    def _tolerant_frame(self, utf8: bytes, columns: list[int], first_row: int) -> pl.DataFrame:
        delimiter = self.header.delimiter or ","
        values: dict[int, list[str | None]] = {p: [] for p in columns}
        text = utf8.decode("utf-8", errors="replace")
        for index, (cells, broken) in enumerate(_tolerant_records(text, delimiter)):
            if broken is not None:
                position = _broken_quote_position(broken, delimiter)
                raw = cells[position] if position < len(cells) else ""
                self.problems.append(CellProblem(
                    row=first_row + index, position=position,
                    message=_(
                        'Tanda kutip (") di sel ini tidak berpasangan, jadi baris tidak dapat dibaca '
                        'dengan pasti; baris ini tidak dipakai. Hapus tanda kutipnya, atau bila '
                        'memang bagian nama, tulis sel sebagai "..." dengan kutip di dalamnya digandakan ("").'
                    ),
                    value=_visible(raw)[:200],
                ))
            for p in columns:
                cell = cells[p] if p < len(cells) else ""
                values[p].append(cell if cell != "" else None)
        return pl.DataFrame({f"c{p}": values[p] for p in columns},
                            schema={f"c{p}": pl.String for p in columns})

    def take_problems(self) -> list[CellProblem]:
        """The cell problems found since the last call (parse.py turns them into row errors)."""
        problems, self.problems = self.problems, []
        return problems

    def close(self) -> None:
        self.raw.close()


# --- XLSX -----------------------------------------------------------------------------------------

def check_xlsx_container(path: Path) -> None:
    """Reject a zip that is not a workbook, or that would inflate to too much (a zip bomb)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRejected(
            _("Berkas berawalan seperti XLSX (ZIP) tetapi rusak atau tidak lengkap; simpan ulang dari Excel."),
            code="unreadable",
        ) from None
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names:
        raise FileRejected(
            _("Berkas ZIP ini bukan buku kerja XLSX (tidak ada xl/workbook.xml). Simpan daftar sebagai CSV atau XLSX."),
            code="not_table",
        )
    limit = getattr(settings, "ARREARS_XLSX_MAX_UNCOMPRESSED_BYTES", XLSX_MAX_UNCOMPRESSED_BYTES)
    total = sum(m.file_size for m in members)
    if len(members) > XLSX_MAX_MEMBERS or total > limit:
        raise FileRejected(
            _("XLSX ditolak: isinya mengembang menjadi %(total)s MB (batas %(limit)s MB). Kirim sebagai CSV.")
            % {"total": total // (1 << 20), "limit": limit // (1 << 20)},
            code="zip_bomb",
        )
    for m in members:
        if m.file_size >= XLSX_RATIO_MIN_BYTES and m.file_size > XLSX_MAX_RATIO * max(m.compress_size, 1):
            raise FileRejected(
                _("XLSX ditolak: bagian %(name)s dimampatkan %(ratio)s kali (batas %(limit)s kali), "
                  "ciri bom ZIP.")
                % {"name": m.filename, "ratio": m.file_size // max(m.compress_size, 1), "limit": XLSX_MAX_RATIO},
                code="zip_bomb",
            )


_SHEET_REL = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"")
_REL = re.compile(rb"<Relationship\b[^>]*>")
_REL_ID = re.compile(rb"\bId=\"([^\"]+)\"")
_REL_TARGET = re.compile(rb"\bTarget=\"([^\"]+)\"")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref=\"([A-Za-z0-9:$]+)\"")
# A cell's reference is the only `r="..."` attribute with letters then digits (rows have digits
# only; a look-alike elsewhere would only make the check stricter). Matching the attribute alone
# keeps the pass near 1 s for 200,000 x 15 cells (the reader itself takes about 3 s).
_CELL_COLUMN = re.compile(rb'r="([A-Z]{1,3})[0-9]')
_CELL_ROW = re.compile(rb'r="[A-Z]{1,3}([0-9]{1,7})"')
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_SHEET_HEAD_BYTES = 1 << 16
_SHEET_SCAN_BYTES = 1 << 20


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + (ord(ch) - 64)
    return number


def _first_sheet_member(archive: zipfile.ZipFile, names: set[str]) -> str | None:
    """The part of the workbook's first sheet (the one the reader opens)."""
    try:
        workbook = archive.read("xl/workbook.xml")[: 1 << 20]
        rels = archive.read("xl/_rels/workbook.xml.rels")[: 1 << 20] if "xl/_rels/workbook.xml.rels" in names else b""
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return None
    match = _SHEET_REL.search(workbook)
    if match:
        for rel in _REL.findall(rels):
            rel_id, target = _REL_ID.search(rel), _REL_TARGET.search(rel)
            if rel_id and target and rel_id.group(1) == match.group(1):
                path = target.group(1).decode("utf-8", "replace")
                path = path.lstrip("/") if path.startswith("/") else f"xl/{path}"
                parts: list[str] = []
                for piece in path.split("/"):
                    if piece == "..":
                        if parts:
                            parts.pop()
                    elif piece and piece != ".":
                        parts.append(piece)
                member = "/".join(parts)
                if member in names:
                    return member
    sheets = sorted(n for n in names if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
    return sheets[0] if sheets else None


def _extent_text(max_col: int, max_row: int) -> str:
    def letters(n: int) -> str:
        out = ""
        while n:
            n, rem = divmod(n - 1, 26)
            out = chr(65 + rem) + out
        return out

    return f"A1:{letters(max_col)}{max_row}"


def _check_extent(max_col: int, max_row: int, *, declared: bool) -> None:
    """The sheet counted from A1 (the reader walks rows from A1) to its last column and row."""
    rows, cols = max_row, max_col
    cells = rows * cols
    max_rows = settings.ARREARS_MAX_ROWS + 1  # the header row too
    max_cols = getattr(settings, "ARREARS_MAX_COLUMNS", MAX_COLUMNS)
    max_cells = getattr(settings, "ARREARS_XLSX_MAX_CELLS", XLSX_MAX_CELLS)
    if rows <= max_rows and cols <= max_cols and cells <= max_cells:
        return
    params = {
        "ref": _extent_text(max_col, max_row),
        "rows": f"{rows:,}".replace(",", "."),
        "cols": f"{cols:,}".replace(",", "."),
        "cells": f"{cells:,}".replace(",", "."),
        "max_rows": f"{max_rows - 1:,}".replace(",", "."),
        "max_cols": f"{max_cols:,}".replace(",", "."),
        "max_cells": f"{max_cells:,}".replace(",", "."),
    }
    if declared:
        message = _(
            "XLSX ditolak: lembar kerja pertama menyatakan ukuran %(ref)s (%(rows)s baris x %(cols)s "
            "kolom = %(cells)s sel), melebihi batas (%(max_rows)s baris, %(max_cols)s kolom, "
            "%(max_cells)s sel). Hapus baris dan kolom di luar tabel, simpan ulang, atau kirim sebagai CSV."
        ) % params
    else:
        message = _(
            "XLSX ditolak: isi lembar kerja pertama membentang %(ref)s (%(rows)s baris x %(cols)s "
            "kolom = %(cells)s sel), melebihi batas (%(max_rows)s baris, %(max_cols)s kolom, "
            "%(max_cells)s sel). Hapus isi di luar tabel, simpan ulang, atau kirim sebagai CSV."
        ) % params
    raise FileRejected(message, code="sheet_too_large")


def check_xlsx_sheet(path: Path) -> None:
    """Refuse a sheet too large to read BEFORE the reader allocates it (bounded memory).

    The reader holds the sheet's whole range: a 6 KB file with one cell at XFD1048576 would ask
    for 17 billion cells. First the sheet's declared `<dimension ref>` (the first 64 KB, read
    streaming), then the cells actually present (one streaming pass over the sheet's XML, 1 MB at a
    time) against ARREARS_MAX_ROWS, ARREARS_MAX_COLUMNS and ARREARS_XLSX_MAX_CELLS.
    """
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        member = _first_sheet_member(archive, names)
        if member is None:
            return  # the reader names what is missing
        with archive.open(member) as stream:
            head = stream.read(_SHEET_HEAD_BYTES)
            found = _DIMENSION.search(head)
            if found:
                parts = found.group(1).decode("ascii").split(":")
                refs = [m for m in (_REF.match(p) for p in parts) if m is not None]
                if len(refs) == len(parts):
                    cols = [_column_number(m.group(1)) for m in refs]
                    rows = [int(m.group(2)) for m in refs]
                    _check_extent(max(cols), max(rows), declared=True)
            max_col = max_row = 0
            buf = head
            while True:
                cut = buf.rfind(b">") + 1
                scan, buf = buf[:cut], buf[cut:]
                letters = set(_CELL_COLUMN.findall(scan))
                if letters:
                    numbers = [_column_number(x.decode()) for x in letters]
                    max_col = max(max_col, *numbers)
                    digits = _CELL_ROW.findall(scan)
                    # Among numbers written without leading zeros, the longest are the largest.
                    longest = len(max(digits, key=len))
                    max_row = max(max_row, int(max(d for d in digits if len(d) == longest)))
                    _check_extent(max_col, max_row, declared=False)
                block = stream.read(_SHEET_SCAN_BYTES)
                if not block:
                    return
                buf += block
                if len(buf) > 4 * _SHEET_SCAN_BYTES:  # one tag cannot be this long: not a sheet
                    buf = buf[-1024:]


def _cell_text(value: object, identifier: bool) -> str:
    """A calamine cell as the text a person would type."""
    if type(value) is str:
        return value
    if type(value) is float:
        if value.is_integer() and abs(value) < 1e16:
            return f"{int(value)}.0" if identifier else str(int(value))
        return repr(value)
    if type(value) is int:
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if value is None:
        return ""
    return str(value)


def _column_text(name: str, values: list, *, identifier: bool) -> pl.Series:
    """One column of calamine cells as text; whole columns of numbers or dates are converted by polars."""
    kinds = set(map(type, values))
    if kinds <= {str}:
        return pl.Series(name, values, dtype=pl.String)
    filled = [v for v in values if type(v) is not str or v]
    if kinds <= {float, str} and all(type(v) is float for v in filled):
        numbers = pl.Series(name, [None if type(v) is str else v for v in values], dtype=pl.Float64)
        whole = numbers.round(0) == numbers
        as_int = pl.when(whole & (numbers.abs() < 1e16)).then(numbers.cast(pl.Int64, strict=False).cast(pl.String))
        text = pl.select(
            pl.when(whole & (numbers.abs() < 1e16)).then(
                pl.concat_str([as_int, pl.lit(".0")]) if identifier else as_int
            ).otherwise(numbers.cast(pl.String))
        ).to_series()
        return text.alias(name)
    if kinds <= {dt.date, str} and all(type(v) is dt.date for v in filled):
        dates = pl.Series(name, [None if type(v) is str else v for v in values], dtype=pl.Date)
        return dates.cast(pl.String).alias(name)
    return pl.Series(name, [v if type(v) is str else _cell_text(v, identifier) for v in values], dtype=pl.String)


class XlsxReader:
    kind = "xlsx"

    def __init__(self, path: Path, *, chunk_rows: int, progress: ProgressFn = None):
        from python_calamine import CalamineError, CalamineWorkbook

        check_xlsx_container(path)
        check_xlsx_sheet(path)
        self.chunk_rows = chunk_rows
        self.progress = progress
        self.problems: list[CellProblem] = []
        try:
            self.book = CalamineWorkbook.from_path(str(path))
            names = self.book.sheet_names
            if not names:
                raise FileRejected(_("Buku kerja XLSX tidak berisi lembar kerja."), code="no_sheet")
            self.sheet = self.book.get_sheet_by_index(0)
        except FileRejected:
            raise
        except (CalamineError, ValueError, OSError) as exc:
            raise FileRejected(
                _("XLSX tidak dapat dibaca (%(reason)s); simpan ulang dari Excel atau kirim sebagai CSV.")
                % {"reason": str(exc)[:200]},
                code="unreadable",
            ) from None
        except Exception as exc:  # calamine raises its own types for damaged XML
            raise FileRejected(
                _("XLSX tidak dapat dibaca (%(reason)s); simpan ulang dari Excel atau kirim sebagai CSV.")
                % {"reason": f"{type(exc).__name__}: {str(exc)[:200]}"},
                code="unreadable",
            ) from None
        # iter_rows() starts at A1 (leading empty rows included), so its index is the sheet row.
        self.total_rows = max(1, (self.sheet.end[0] + 1) if self.sheet.end else self.sheet.height)
        self.start_row = 0
        self.rows = iter(self.sheet.iter_rows())
        self.index = 0  # rows taken from the iterator
        self.header = self._read_header()

    def _read_header(self) -> RawHeader:
        for cells in self.rows:
            self.index += 1
            texts = [_cell_text(c, False).strip() for c in cells]
            if any(texts):
                while texts and not texts[-1]:
                    texts.pop()
                return RawHeader(kind="xlsx", cells=[t.replace("\ufeff", "") for t in texts],
                                 row=self.start_row + self.index)
        raise FileRejected(_("Lembar kerja pertama kosong: tidak ada judul kolom maupun baris data."),
                           code="empty")

    def chunks(self, columns: list[int], identifiers: frozenset[int] = frozenset()
               ) -> Iterator[tuple[int, pl.DataFrame]]:
        """`identifiers`: positions of NIK/KK/card columns (numeric cells keep a `.0` marker)."""
        while True:
            first_row = self.start_row + self.index + 1
            batch = list(itertools.islice(self.rows, self.chunk_rows))
            if not batch:
                return
            self.index += len(batch)
            width = len(batch[0])
            if all(len(r) == width for r in batch):
                transposed = list(zip(*batch, strict=True))
            else:
                width = max(len(r) for r in batch)
                transposed = list(zip(*(list(r) + [""] * (width - len(r)) for r in batch), strict=True))
            series = [
                _column_text(f"c{pos}", list(transposed[pos]) if pos < width else [""] * len(batch),
                             identifier=pos in identifiers)
                for pos in columns
            ]
            frame, problems = frame_problems(pl.DataFrame(series), first_row, columns)
            self.problems.extend(problems)
            yield first_row, frame
            if self.progress is not None:
                self.progress(min(1.0, self.index / self.total_rows))

    def take_problems(self) -> list[CellProblem]:
        problems, self.problems = self.problems, []
        return problems

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a read-only workbook cannot lose data
            self.book.close()


def open_reader(path: Path, *, chunk_rows: int, progress: ProgressFn = None) -> CsvReader | XlsxReader:
    """The reader for the file's content (not its name); FileRejected for file-level problems."""
    size = path.stat().st_size
    limit = settings.ARREARS_MAX_UPLOAD_BYTES
    if size > limit:
        raise FileRejected(
            _("Berkas terlalu besar: %(size)s MB, batasnya %(limit)s MB.")
            % {"size": round(size / (1 << 20), 1), "limit": round(limit / (1 << 20), 1)},
            code="too_large",
        )
    kind = detect_kind(path)
    if kind == "xlsx":
        return XlsxReader(path, chunk_rows=chunk_rows, progress=progress)
    return CsvReader(path, chunk_rows=chunk_rows, progress=progress)
