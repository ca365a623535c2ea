"""Read, normalise and validate an arrears file (the front half of the import pipeline).

    parsed = parse_arrears_file(path, regency_codes={"73.22", "73.17"})
    for chunk in parsed:          # FileRejected may come from the first next() or later
        copy_to_staging(chunk.frame)          # valid rows only, STAGING_COLUMN_NAMES
        keep(chunk.errors)                    # RowError(row, column, message, value)
    parsed.info.ignored_headers               # header cells that map to no column

`parse_arrears_file` returns a `ParsedFile`: an iterator of `ParsedChunk` that
opens the file lazily (on the first `next()` or the first read of `.info`), so
every file-level problem surfaces as `FileRejected` before the first chunk:
empty, not CSV/XLSX, undecodable, too large, zip bomb, no sheet, too many
columns, missing required columns, two header cells for one column. Two
problems can only be found while reading and are raised mid-iteration: more
than `settings.ARREARS_MAX_ROWS` data rows, and an encoding error after the
first chunk; a file with no data row at all is rejected after the last chunk.
`inspect_header(path)` reads only the header and returns the `FileInfo`.

Row numbers are those a spreadsheet shows (the header is row 1). Blank rows
(every mapped cell empty) are skipped and not counted. A card number repeated
in the file keeps its first row; each repeat is an error naming that row (the
first row keeps the number even if it has other errors). A row with any error
is left out of `frame`. Value rules: normalise.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from django.conf import settings
from django.utils.translation import gettext as _

from participants.imports.columns import (
    ALIASES,
    HEADER_LOOKUP,
    REQUIRED,
    STAGING_COLUMN_NAMES,
    header_key,
)
from participants.imports.normalise import bill_warnings, message_expr, normalise_chunk
from participants.imports.problems import VALUE_MAX_CHARS, FileRejected, RowError
from participants.imports.readers import (
    IDENTIFIER_COLUMNS,
    MAX_COLUMNS,
    CsvReader,
    XlsxReader,
    open_reader,
)

__all__ = [
    "STAGING_COLUMN_NAMES", "FileInfo", "FileRejected", "ParsedChunk", "ParsedFile", "RowError",
    "inspect_header", "parse_arrears_file",
]


@dataclass
class FileInfo:
    """What the header says: shown on the import report."""

    kind: str  # "csv" | "xlsx"
    found_headers: list[str]  # every non-empty header cell, as written in the file
    columns: dict[str, str]  # canonical column -> the header cell that gave it
    ignored_headers: list[str]  # header cells that map to no column (ignored)
    missing_optional: list[str]  # optional canonical columns the file does not have
    header_row: int = 1
    encoding: str | None = None  # CSV only
    delimiter: str | None = None  # CSV only


@dataclass
class ParsedChunk:
    frame: pl.DataFrame  # VALID rows only, columns exactly STAGING_COLUMN_NAMES in order
    errors: list[RowError]  # every problem in this chunk's rows (a row with an error is not in frame)
    rows: int  # non-blank data rows seen in this chunk (valid + invalid)
    # Invalid rows still name someone: their card numbers where readable (a full list must
    # not clear them), and how many invalid rows had no readable card number at all.
    held_cards: list[str] = field(default_factory=list)
    unreadable_cards: int = 0
    # Valid rows accepted but flagged (billed above 24 months): RowError-shaped, not errors.
    warnings: list[RowError] = field(default_factory=list)


@dataclass
class _Seen:
    """Card numbers already seen in this file, compactly (8 + 4 bytes a row)."""

    frames: list[pl.DataFrame] = field(default_factory=list)

    def first_rows(self, cards: pl.Series) -> pl.DataFrame:
        if not self.frames:
            return pl.DataFrame(schema={"card": pl.UInt64, "first_row": pl.Int32})
        return pl.concat(self.frames, rechunk=False).filter(pl.col("card").is_in(cards.implode()))

    def add(self, frame: pl.DataFrame) -> None:
        if frame.height:
            self.frames.append(frame)
        if len(self.frames) > 64:
            self.frames = [pl.concat(self.frames)]


def _map_header(cells: list[str], *, kind: str) -> tuple[dict[str, int], FileInfo]:
    if len(cells) > MAX_COLUMNS:
        raise FileRejected(
            _("Terlalu banyak kolom: %(n)s (paling banyak %(max)s). Pastikan baris pertama adalah judul kolom.")
            % {"n": len(cells), "max": MAX_COLUMNS},
            code="too_many_columns",
        )
    positions: dict[str, int] = {}
    columns: dict[str, str] = {}
    ignored: list[str] = []
    found = [c for c in cells if c]
    for pos, cell in enumerate(cells):
        if not cell:
            continue
        canonical = HEADER_LOOKUP.get(header_key(cell))
        if canonical is None:
            ignored.append(cell)
            continue
        if canonical in positions:
            raise FileRejected(
                _("Kolom %(column)s muncul dua kali di judul: \"%(first)s\" (kolom %(a)s) dan \"%(second)s\" "
                  "(kolom %(b)s). Hapus atau ganti nama salah satunya.")
                % {"column": canonical, "first": columns[canonical], "second": cell,
                   "a": positions[canonical] + 1, "b": pos + 1},
                code="duplicate_columns",
            )
        positions[canonical] = pos
        columns[canonical] = cell
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        shown = ", ".join(f'"{c}"' for c in found[:60]) or _("(tidak ada)")
        if len(found) > 60:
            shown += _(", dan %(n)s lagi") % {"n": len(found) - 60}
        raise FileRejected(
            _("Kolom wajib tidak ditemukan: %(missing)s. Judul kolom yang ditemukan: %(found)s. "
              "Nama kolom yang diterima ada di panduan format (mis. no_kartu atau noka, nik, nama, "
              "kode_wilayah, bulan_tunggak, jumlah_tunggakan).")
            % {"missing": ", ".join(missing), "found": shown},
            code="missing_columns",
        )
    info = FileInfo(
        kind=kind, found_headers=found, columns=columns, ignored_headers=ignored,
        missing_optional=[c for c in ALIASES if c not in positions],
    )
    return positions, info


class ParsedFile:
    """Iterator of ParsedChunk; `.info` is the FileInfo (reading it opens the file's header)."""

    def __init__(self, path: str | Path, *, regency_codes: set[str],
                 progress: Callable[[float], None] | None = None, chunk_rows: int = 50_000,
                 monthly_tariffs: dict[int, int] | None = None):
        self.path = Path(path)
        # {care class: monthly contribution}: a row above 24 months of it is a warning.
        self.monthly_tariffs = dict(monthly_tariffs or {})
        self.warning_count = 0
        self.regency_codes = {str(c) for c in regency_codes}
        self.progress = progress
        self.chunk_rows = max(1, int(chunk_rows))
        self.rows = 0  # non-blank data rows so far
        self.valid = 0
        self.invalid = 0  # rows with at least one error
        self.error_count = 0
        self._reader: CsvReader | XlsxReader | None = None
        self._info: FileInfo | None = None
        self._chunks: Iterator[ParsedChunk] | None = None

    def _open(self) -> None:
        if self._reader is not None:
            return
        if not self.path.is_file():
            raise FileRejected(_("Berkas tidak ditemukan."), code="not_found")
        reader = open_reader(self.path, chunk_rows=self.chunk_rows, progress=self.progress)
        try:
            positions, info = _map_header(reader.header.cells, kind=reader.kind)
        except BaseException:
            reader.close()
            raise
        info.header_row = reader.header.row
        info.encoding = reader.header.encoding
        info.delimiter = reader.header.delimiter
        self._reader, self._info, self._positions = reader, info, positions

    @property
    def info(self) -> FileInfo:
        self._open()
        assert self._info is not None
        return self._info

    def __iter__(self) -> ParsedFile:
        return self

    def __next__(self) -> ParsedChunk:
        if self._chunks is None:
            self._open()
            if self.progress is not None:
                self.progress(0.0)
            self._chunks = self._generate()
        return next(self._chunks)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()

    def _generate(self) -> Iterator[ParsedChunk]:
        assert self._reader is not None
        reader = self._reader
        order = sorted(self._positions.items(), key=lambda item: item[1])
        names = [name for name, _pos in order]
        positions = [pos for _name, pos in order]
        identifiers = frozenset(self._positions[c] for c in IDENTIFIER_COLUMNS if c in self._positions)
        present = set(names)
        max_rows = settings.ARREARS_MAX_ROWS
        seen = _Seen()
        try:
            for first_row, raw in reader.chunks(positions, identifiers):
                raw = raw.rename(dict(zip(raw.columns, names, strict=True)))
                raw = raw.with_columns(
                    pl.int_range(first_row, first_row + raw.height, dtype=pl.Int32).alias("row_number"))
                rows, errors, count = normalise_chunk(raw, present=present, regency_codes=self.regency_codes)
                problems = reader.take_problems()
                if problems:
                    rows, errors = self._cell_problems(rows, errors, problems)
                self.rows += count
                if self.rows > max_rows:
                    raise FileRejected(
                        _("Terlalu banyak baris data: lebih dari %(max)s (sudah %(n)s saat berhenti membaca). "
                          "Pecah daftar menjadi beberapa berkas.") % {"max": max_rows, "n": self.rows},
                        code="too_many_rows",
                    )
                if not count:
                    continue
                rows, errors = self._repeats(rows, errors, seen)
                valid = rows.filter(pl.col("_ok")).select(STAGING_COLUMN_NAMES)
                invalid_cards = rows.filter(~pl.col("_ok")).get_column("card_number")
                row_errors = [RowError(row=r, column=c, message=m, value=v)
                              for r, c, m, v in errors.iter_rows()]
                self.valid += valid.height
                self.invalid += count - valid.height
                self.error_count += len(row_errors)
                warnings = [RowError(row=r, column=c, message=m, value=v)
                            for r, c, m, v in bill_warnings(valid, monthly_tariffs=self.monthly_tariffs)]
                self.warning_count += len(warnings)
                yield ParsedChunk(
                    frame=valid, errors=row_errors, rows=count,
                    held_cards=invalid_cards.drop_nulls().to_list(),
                    unreadable_cards=invalid_cards.null_count(),
                    warnings=warnings,
                )
            if self.rows == 0:
                raise FileRejected(
                    _("Berkas tidak berisi baris data: hanya judul kolom (baris %(row)s) atau baris kosong.")
                    % {"row": self._info.header_row if self._info else 1},
                    code="no_rows",
                )
            if self.progress is not None:
                self.progress(1.0)
        finally:
            reader.close()

    def _cell_problems(self, rows: pl.DataFrame, errors: pl.DataFrame, problems: list
                       ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Cells the reader could not take (stray quotes, control characters, over-long): each a
        row error naming the row and the column; the row is not applied."""
        names = {pos: name for name, pos in self._positions.items()}
        cells = self._reader.header.cells if self._reader is not None else []
        found = pl.DataFrame(
            {
                "row": [p.row for p in problems],
                "column": [names.get(p.position) or (cells[p.position] if p.position < len(cells) else "")
                           for p in problems],
                "message": [p.message for p in problems],
                "value": [p.value[:VALUE_MAX_CHARS] for p in problems],
            },
            schema=errors.schema,
        )
        bad = found.get_column("row").unique()
        # The reader's reason replaces other errors of the same cell; other cells' errors stay.
        errors = errors.join(found.select("row", "column"), on=["row", "column"], how="anti")
        errors = pl.concat([found, errors]).sort("row", maintain_order=True)
        rows = rows.with_columns((pl.col("_ok") & ~pl.col("row_number").is_in(bad.implode())).alias("_ok"))
        return rows, errors

    @staticmethod
    def _repeats(rows: pl.DataFrame, errors: pl.DataFrame, seen: _Seen) -> tuple[pl.DataFrame, pl.DataFrame]:
        """A card number repeated in the file: the first row keeps it, each repeat is an error."""
        cards = rows.select(
            pl.col("row_number"), pl.col("card_number").cast(pl.UInt64, strict=False).alias("card"),
        ).filter(pl.col("card").is_not_null())
        earlier = seen.first_rows(cards["card"])
        cards = cards.join(earlier, on="card", how="left").with_columns(
            pl.coalesce(pl.col("first_row"), pl.col("row_number").min().over("card")).alias("first_row"))
        repeats = cards.filter(pl.col("first_row") != pl.col("row_number"))
        seen.add(cards.filter(pl.col("first_row") == pl.col("row_number")).select("card", "first_row"))
        if not repeats.height:
            return rows, errors
        dup_errors = repeats.join(rows.select("row_number", "card_number", "_raw_no_kartu"), on="row_number").select(
            pl.col("row_number").alias("row"), pl.lit("no_kartu").alias("column"),
            message_expr(
                _("Nomor kartu {} berulang: sudah ada di baris {}; hanya baris pertama yang dipakai."),
                pl.col("card_number"), pl.col("first_row"),
            ).alias("message"),
            pl.col("_raw_no_kartu").fill_null("").str.slice(0, VALUE_MAX_CHARS).alias("value"),
        )
        errors = pl.concat([errors, dup_errors]).sort("row", maintain_order=True)
        rows = rows.with_columns(
            (pl.col("_ok") & ~pl.col("row_number").is_in(repeats["row_number"].implode())).alias("_ok"))
        return rows, errors


def parse_arrears_file(path: str | Path, *, regency_codes: set[str],
                       progress: Callable[[float], None] | None = None,
                       chunk_rows: int = 50_000, monthly_tariffs: dict[int, int] | None = None) -> ParsedFile:
    """Detect CSV vs XLSX by content, map the header, then yield validated chunks (see module doc).

    `monthly_tariffs` ({care class: monthly contribution}): a valid row billed above 24 months
    of its class's tariff (or with more than 24 months) is kept and reported in the chunk's
    `warnings`."""
    return ParsedFile(path, regency_codes=regency_codes, progress=progress, chunk_rows=chunk_rows,
                      monthly_tariffs=monthly_tariffs)


def inspect_header(path: str | Path) -> FileInfo:
    """Only the header: what was found, mapped and ignored. FileRejected for file-level problems."""
    parsed = ParsedFile(path, regency_codes=set())
    try:
        return parsed.info
    finally:
        parsed.close()
