"""Read a bank statement (mutasi rekening, CSV or XLSX) into its credit lines and row errors.

    parsed = parse_statement_file(path)      # FileRejected for a file-level problem
    parsed.lines     # polars: row, line_date, description, amount, reference (valid credit lines)
    parsed.errors    # [RowError(row, column, message, value)], never raised
    parsed.credit_lines   # non-blank rows with a credit (valid + invalid)

The file is read by the arrears import's readers (`participants.imports.readers`: content
sniffing, encodings, delimiters, XLSX zip-bomb checks) and its header is matched the same way
(case, spaces, dots, underscores, slashes and dashes ignored). Columns:
`tanggal` (tgl, tanggal transaksi, date), `keterangan` (deskripsi, uraian, berita,
description), `kredit` (credit, jumlah, nominal, mutasi kredit), `referensi` (no referensi,
ref, reference, no ref); all four are required. Other columns (debet, saldo, ...) are ignored.

Rules:
- a blank row is skipped; a row with no credit (empty, 0, or a `DB` amount of a one-column
  statement) is ignored: it is not a credit line;
- amounts are whole rupiah in the arrears file's formats (`1.250.000`, `1,250,000.00`,
  `Rp1.250.000,00`, `1250000`); a `CR` suffix is allowed; a fraction other than zero, a
  negative amount or an unreadable one is a row error;
- dates `DD-MM-YYYY`, `DD/MM/YYYY`, `YYYY-MM-DD` (a time part ignored) or a native XLSX date;
- the reference is required (at most 64 characters): with the date and the amount it names a
  line, which is never recorded twice; the same line twice in one file is an error on the repeat;
- the description is kept to its first 500 characters.
Row numbers are the ones a spreadsheet shows (the header is row 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from django.conf import settings
from django.utils.translation import gettext as _

from participants.imports.columns import header_key
from participants.imports.normalise import _date, clean_raw, message_expr
from participants.imports.problems import VALUE_MAX_CHARS, FileRejected, RowError
from participants.imports.readers import MAX_COLUMNS, open_reader

__all__ = ["ALIASES", "REQUIRED", "FileRejected", "ParsedStatement", "RowError", "parse_statement_file"]

ALIASES: dict[str, tuple[str, ...]] = {
    "tanggal": ("tgl", "tanggal transaksi", "tgl transaksi", "date", "transaction date"),
    "keterangan": ("deskripsi", "uraian", "berita", "description", "keterangan transaksi"),
    "kredit": ("credit", "jumlah", "nominal", "mutasi kredit", "kredit (rp)"),
    "referensi": ("no referensi", "ref", "reference", "no ref", "nomor referensi"),
}
REQUIRED: tuple[str, ...] = ("tanggal", "keterangan", "kredit", "referensi")
HEADER_LOOKUP: dict[str, str] = {
    header_key(name): canonical for canonical, aliases in ALIASES.items() for name in (canonical, *aliases)
}

DESCRIPTION_MAX = 500
REFERENCE_MAX = 64
MAX_AMOUNT_DIGITS = 13
LINES_SCHEMA = {"row": pl.Int32, "line_date": pl.Date, "description": pl.String, "amount": pl.Int64,
                "reference": pl.String}


@dataclass
class ParsedStatement:
    lines: pl.DataFrame  # valid credit lines, LINES_SCHEMA, in row order
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0  # non-blank data rows
    credit_lines: int = 0  # of which with a credit (valid or not)
    found_headers: list[str] = field(default_factory=list)


def _map_header(cells: list[str]) -> dict[str, int]:
    if len(cells) > MAX_COLUMNS:
        raise FileRejected(_("Terlalu banyak kolom: %(n)s (paling banyak %(max)s).")
                           % {"n": len(cells), "max": MAX_COLUMNS}, code="too_many_columns")
    positions: dict[str, int] = {}
    for pos, cell in enumerate(cells):
        canonical = HEADER_LOOKUP.get(header_key(cell)) if cell else None
        if canonical is None:
            continue
        if canonical in positions:
            raise FileRejected(
                _("Kolom %(column)s muncul dua kali di judul: \"%(first)s\" (kolom %(a)s) dan \"%(second)s\" "
                  "(kolom %(b)s). Hapus atau ganti nama salah satunya.")
                % {"column": canonical, "first": cells[positions[canonical]], "second": cell,
                   "a": positions[canonical] + 1, "b": pos + 1},
                code="duplicate_columns")
        positions[canonical] = pos
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        found = [c for c in cells if c]
        shown = ", ".join(f'"{c}"' for c in found[:40]) or _("(tidak ada)")
        raise FileRejected(
            _("Kolom wajib tidak ditemukan: %(missing)s. Judul kolom yang ditemukan: %(found)s. "
              "Kolom yang diterima: tanggal (tgl, tanggal transaksi, date), keterangan (deskripsi, uraian, "
              "berita, description), kredit (credit, jumlah, nominal, mutasi kredit), referensi "
              "(no referensi, ref, reference, no ref).")
            % {"missing": ", ".join(missing), "found": shown},
            code="missing_columns")
    return positions


def _amount_parts(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(text without Rp/spaces/CR, is a debit, whole-part text, fraction text) of an amount cell.
    The forms are those of the arrears file (participants/imports/normalise.py `_amount`)."""
    a = raw.str.to_uppercase().str.replace_all(r"RP\.?|IDR|[\s']", "")
    debit = a.str.contains(r"(DB|D)$")
    a = a.str.replace(r"(CR|DB|K|D)$", "")
    whole = (
        pl.when(a.str.contains(r"^\d+$")).then(a)
        .when(a.str.contains(r"^\d{1,3}(\.\d{3})+(,\d+)?$")).then(a.str.replace(r",\d+$", "").str.replace_all(r"\.", ""))
        .when(a.str.contains(r"^\d{1,3}(,\d{3})+(\.\d+)?$")).then(a.str.replace(r"\.\d+$", "").str.replace_all(",", ""))
        .when(a.str.contains(r"^\d+\.\d{1,2}$")).then(a.str.replace(r"\.\d+$", ""))
        .when(a.str.contains(r"^\d+,\d{1,2}$")).then(a.str.replace(r",\d+$", ""))
    )
    fraction = (
        pl.when(a.str.contains(r"^\d{1,3}(\.\d{3})+,\d+$") | a.str.contains(r"^\d+,\d{1,2}$"))
        .then(a.str.extract(r",(\d+)$", 1))
        .when(a.str.contains(r"^\d{1,3}(,\d{3})+\.\d+$") | a.str.contains(r"^\d+\.\d{1,2}$"))
        .then(a.str.extract(r"\.(\d+)$", 1))
    )
    return a, debit, whole, fraction


def _normalise(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, int, int]:
    """(valid lines, errors `row, column, message, value`, non-blank rows, credit lines)."""
    names = list(REQUIRED)
    frame = clean_raw(raw, names)
    frame = frame.filter(~pl.all_horizontal([pl.col(n).is_null() for n in names]))
    rows = frame.height
    a, debit, whole, fraction = _amount_parts(pl.col("kredit"))
    frame = frame.with_columns(
        a.alias("_a"), debit.alias("_debit"),
        whole.str.replace(r"^0+(\d)", "${1}").alias("_whole"), fraction.alias("_fraction"),
    )
    # Not credit lines: no amount, a zero amount, a debit.
    zero = pl.col("_whole").str.contains(r"^0+$") & ~pl.col("_fraction").str.contains(r"[1-9]").fill_null(False)
    frame = frame.filter(pl.col("kredit").is_not_null() & ~pl.col("_debit").fill_null(False) & ~zero.fill_null(False))
    credit_lines = frame.height
    date_check = _date("tanggal", "line_date", label=_("Tanggal"))
    amount_ok = (pl.col("_whole").is_not_null() & ~pl.col("_fraction").str.contains(r"[1-9]").fill_null(False)
                 & (pl.col("_whole").str.len_chars() <= MAX_AMOUNT_DIGITS)).fill_null(False)
    amount_error = (
        pl.when(pl.col("_a").str.starts_with("-")).then(pl.lit(_("Kredit tidak boleh negatif.")))
        .when(pl.col("_whole").is_null()).then(pl.lit(
            _("Kredit tidak dikenali: tulis rupiah bulat, mis. 1250000, 1.250.000 atau Rp1.250.000,00.")))
        .when(pl.col("_fraction").str.contains(r"[1-9]")).then(message_expr(
            _("Kredit berisi pecahan rupiah ({}); hanya rupiah bulat yang diterima."), pl.col("_fraction")))
        .otherwise(pl.lit(_("Kredit tidak wajar.")))
    )
    ref_len = pl.col("referensi").str.len_chars()
    frame = (
        frame.with_columns(date_check.prep)
        .with_columns(date_check.values)
        .with_columns(
            (date_check.ok.fill_null(False) & pl.col("tanggal").is_not_null()).alias("_ok_tanggal"),
            amount_ok.alias("_ok_kredit"),
            (pl.col("referensi").is_not_null() & (ref_len <= REFERENCE_MAX)).fill_null(False).alias("_ok_referensi"),
            pl.when(amount_ok).then(pl.col("_whole").cast(pl.Int64, strict=False)).alias("amount"),
            pl.col("keterangan").fill_null("").str.replace_all("\x00", "", literal=True).str.replace_all(r"\s+", " ")
            .str.slice(0, DESCRIPTION_MAX).alias("description"),
            pl.col("referensi").str.replace_all("\x00", "", literal=True).alias("reference"),
        )
    )
    checks = [
        ("tanggal", pl.when(pl.col("tanggal").is_null()).then(pl.lit(_("Tanggal kosong.")))
         .otherwise(date_check.error)),
        ("kredit", amount_error),
        ("referensi", pl.when(pl.col("referensi").is_null()).then(pl.lit(
            _("Referensi kosong: nomor referensi bank wajib ada (dengan tanggal dan jumlah, ia menandai "
              "satu baris mutasi).")))
         .otherwise(message_expr(_("Referensi terlalu panjang: {} karakter, paling banyak %(max)s.")
                                 % {"max": REFERENCE_MAX}, ref_len))),
    ]
    frame = frame.with_columns(pl.all_horizontal([f"_ok_{c}" for c, _e in checks]).alias("_ok"))
    parts = [
        frame.filter(~pl.col(f"_ok_{column}")).select(
            pl.col("row_number").alias("row"), pl.lit(column).alias("column"), error.cast(pl.String).alias("message"),
            pl.col(f"_raw_{column}").fill_null("").str.slice(0, VALUE_MAX_CHARS).alias("value"))
        for column, error in checks
    ]
    valid = frame.filter(pl.col("_ok"))
    # The same line (date + reference + amount) again in this file: an error on each repeat.
    valid = valid.with_columns(pl.col("row_number").min().over("line_date", "reference", "amount").alias("_first"))
    repeats = valid.filter(pl.col("_first") != pl.col("row_number"))
    if repeats.height:
        parts.append(repeats.select(
            pl.col("row_number").alias("row"), pl.lit("referensi").alias("column"),
            message_expr(_("Baris mutasi berulang: tanggal, referensi {} dan jumlah yang sama sudah ada di baris {}; "
                           "hanya baris pertama yang dipakai."), pl.col("reference"), pl.col("_first")).alias("message"),
            pl.col("_raw_referensi").fill_null("").str.slice(0, VALUE_MAX_CHARS).alias("value")))
        valid = valid.filter(pl.col("_first") == pl.col("row_number"))
    errors = pl.concat([p.with_columns(pl.col("row").cast(pl.Int32)) for p in parts]).sort("row", maintain_order=True)
    lines = valid.select(pl.col("row_number").cast(pl.Int32).alias("row"), "line_date", "description", "amount",
                         "reference")
    return lines, errors, rows, credit_lines


def parse_statement_file(path: str | Path, *, chunk_rows: int = 100_000) -> ParsedStatement:
    """Read the whole statement (see the module). FileRejected for file-level problems."""
    path = Path(path)
    if not path.is_file():
        raise FileRejected(_("Berkas tidak ditemukan."), code="not_found")
    reader = open_reader(path, chunk_rows=chunk_rows)
    try:
        positions = _map_header(reader.header.cells)
        order = sorted(positions.items(), key=lambda item: item[1])
        names = [name for name, _pos in order]
        frames = []
        total = 0
        max_rows = int(getattr(settings, "STATEMENT_MAX_ROWS", 1_000_000))
        for first_row, chunk in reader.chunks([pos for _name, pos in order]):
            chunk = chunk.rename(dict(zip(chunk.columns, names, strict=True)))
            frames.append(chunk.with_columns(
                pl.int_range(first_row, first_row + chunk.height, dtype=pl.Int32).alias("row_number")))
            total += chunk.height
            if total > max_rows:
                raise FileRejected(_("Terlalu banyak baris: lebih dari %(max)s. Pecah mutasi menjadi beberapa berkas.")
                                   % {"max": max_rows}, code="too_many_rows")
        found = [c for c in reader.header.cells if c]
    finally:
        reader.close()
    schema = {**dict.fromkeys(REQUIRED, pl.String), "row_number": pl.Int32}
    raw = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame(schema=schema)
    lines, errors, rows, credit_lines = _normalise(raw.select(*REQUIRED, "row_number"))
    if rows == 0:
        raise FileRejected(_("Berkas tidak berisi baris mutasi: hanya judul kolom atau baris kosong."),
                           code="no_rows")
    return ParsedStatement(
        lines=lines,
        errors=[RowError(row=r, column=c, message=m, value=v) for r, c, m, v in errors.iter_rows()],
        rows=rows, credit_lines=credit_lines, found_headers=found,
    )

