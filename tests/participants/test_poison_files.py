"""Poison files cannot hurt the worker: XLSX dimension bombs are refused before the
reader allocates anything; stray quotes, NUL bytes, control characters and over-long fields are
row errors with row and column; nothing personal reaches the logs."""

from __future__ import annotations

import datetime as dt
import io
import logging
import resource
import time

import pytest
from xlsxwriter.utility import xl_rowcol_to_cell

from participants.imports.readers import FileRejected, open_reader
from participants.models import ArrearsImport, ArrearsRecord, ImportRowError, ImportStatus
from participants.services import import_create, import_run
from tests.participants.crafted import crafted_xlsx
from tests.participants.importing import HEADER, csv_text, line

AS_OF = dt.date(2026, 10, 1)


def _sheet_cells(rows: list[dict[str, str]]) -> list[tuple[str, str]]:
    # XlsxWriter's cell names, not the reader's own: the test does not share the code it checks.
    cells = [(xl_rowcol_to_cell(0, i), name) for i, name in enumerate(HEADER)]
    for r, row in enumerate(rows, start=1):
        cells += [(xl_rowcol_to_cell(r, i), row[name]) for i, name in enumerate(HEADER)]
    return cells


def _run(branch, path) -> ArrearsImport:
    imp, duplicate = import_create(branch=branch, actor=None, uploaded_file=path, as_of=AS_OF,
                                   mode="partial", enqueue=False)
    assert not duplicate
    return import_run(import_id=imp.pk)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- XLSX dimension bombs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "dimension", "named"),
    [
        # 6 KB-style: one cell, the sheet declares the whole grid (17 billion cells, 550 GB).
        ([("XFD1048576", "x")], "A1:XFD1048576", "A1:XFD1048576"),
        # The same cell without a declared dimension: the cells actually present say it.
        ([("A1", "no_kartu"), ("XFD1048576", "x")], None, "A1:XFD1048576"),
        # A header and one stray cell at GR200000 (200 columns x 200,000 rows: 1.26 GB).
        ([("A1", "no_kartu"), ("B1", "nama"), ("GR200000", "x")], None, "A1:GR200000"),
        ([("A1", "no_kartu")], "A1:GR200000", "A1:GR200000"),
    ],
)
def test_an_xlsx_dimension_bomb_is_refused_in_milliseconds_naming_the_dimension(tmp_path, cells, dimension, named):
    path = crafted_xlsx(tmp_path / "bom.xlsx", cells, dimension=dimension)
    assert path.stat().st_size < 6 * 1024
    before = _peak_rss_mb()
    began = time.monotonic()
    with pytest.raises(FileRejected) as refused:
        open_reader(path, chunk_rows=1000)
    assert time.monotonic() - began < 0.5
    assert _peak_rss_mb() - before < 50
    assert refused.value.code == "sheet_too_large"
    assert named in refused.value.message and "CSV" in refused.value.message


@pytest.mark.django_db
def test_a_dimension_bomb_import_ends_rejected_with_nothing_applied(branch_a, tmp_path):
    path = crafted_xlsx(tmp_path / "bom.xlsx", [*_sheet_cells([line(1)]), ("XFD1048576", "x")])
    began = time.monotonic()
    imp = _run(branch_a, path)
    assert time.monotonic() - began < 5
    assert imp.status == ImportStatus.REJECTED
    assert "A1:XFD1048576" in imp.message
    assert ArrearsRecord.all_regencies.count() == 0
    assert list(ImportRowError.objects.filter(arrears_import=imp).values_list("row", flat=True)) == [0]


@pytest.mark.django_db
def test_a_well_formed_xlsx_with_a_declared_dimension_still_imports(branch_a, tmp_path):
    rows = [line(1), line(2)]
    path = crafted_xlsx(tmp_path / "daftar.xlsx", _sheet_cells(rows),
                        dimension=f"A1:{xl_rowcol_to_cell(2, len(HEADER) - 1)}")
    imp = _run(branch_a, path)
    assert imp.status == ImportStatus.APPLIED, imp.message
    assert ArrearsRecord.all_regencies.count() == 2


def test_the_cell_limit_comes_from_the_settings(tmp_path, settings):
    settings.ARREARS_XLSX_MAX_CELLS = 100
    path = crafted_xlsx(tmp_path / "lebar.xlsx", [("A1", "no_kartu"), ("J11", "x")])
    with pytest.raises(FileRejected) as refused:
        open_reader(path, chunk_rows=1000)
    assert "A1:J11" in refused.value.message and "110" in refused.value.message


# --- CSV cells the parser cannot take ---------------------------------------------------------------


def _poisoned_csv(tmp_path):
    rows = [line(n) for n in range(1, 8)]
    lines = csv_text(rows).split("\n")
    # Spreadsheet row numbers: the header is row 1, line(n) is row n + 1.
    lines[2] = lines[2].replace("PESERTA 2", '"UDIN" SYAMSUDDIN')  # row 3: stray quotes
    lines[3] = lines[3].replace("PESERTA 3", "UD\x00IN")  # row 4: a NUL byte
    lines[4] = lines[4].replace("Jl. Poros", "Jl.\x1b Poros")  # row 5: ESC
    lines[5] = lines[5].replace("Jl. Poros", "X" * 5000)  # row 6: over-long
    lines[6] = lines[6].replace("PESERTA 6", '"PESERTA ENAM')  # row 7: a quote never closed
    path = tmp_path / "daftar.csv"
    path.write_bytes("\n".join(lines).encode())
    return path


@pytest.mark.django_db
def test_quotes_nul_control_characters_and_long_fields_are_row_errors_with_row_and_column(branch_a, tmp_path):
    imp = _run(branch_a, _poisoned_csv(tmp_path))

    assert imp.status == ImportStatus.APPLIED, imp.message
    errors = {(e.row, e.column): e for e in ImportRowError.objects.filter(arrears_import=imp)}
    assert set(errors) == {(3, "nama"), (4, "nama"), (5, "alamat"), (6, "alamat"), (7, "nama")}
    assert "kutip" in errors[(3, "nama")].message and errors[(3, "nama")].value == '"UDIN" SYAMSUDDIN'
    assert "NUL (0x00)" in errors[(4, "nama")].message and errors[(4, "nama")].value == "UD<0x00>IN"
    assert "ESC (0x1B)" in errors[(5, "alamat")].message
    assert "5000 karakter" in errors[(6, "alamat")].message and len(errors[(6, "alamat")].value) <= 200
    assert "kutip" in errors[(7, "nama")].message
    # The good rows are applied, the poisoned ones are not; nothing is a system error.
    applied = set(ArrearsRecord.all_regencies.values_list("participant__card_number", flat=True))
    assert applied == {"0000000000001", "0000000000007"}
    assert (imp.valid, imp.invalid) == (2, 5)
    # The full error report is written (no NUL can reach PostgreSQL).
    assert imp.error_report


def test_the_tolerant_parse_keeps_row_numbers_and_good_rows_around_a_stray_quote(tmp_path):
    from participants.imports.parse import parse_arrears_file

    lines = csv_text([line(n) for n in range(1, 5)]).split("\n")
    lines[2] = lines[2].replace("PESERTA 2", '"UDIN" SYAMSUDDIN')
    path = tmp_path / "kutip.csv"
    path.write_text("\n".join(lines))
    chunks = list(parse_arrears_file(path, regency_codes={"73.22"}))
    cards = [c for chunk in chunks for c in chunk.frame.get_column("card_number").to_list()]
    errors = [(e.row, e.column) for chunk in chunks for e in chunk.errors]
    assert cards == ["0000000000001", "0000000000003", "0000000000004"]
    assert errors == [(3, "nama")]


# --- no personal data in logs --------------------------------------------------------------------------


@pytest.fixture
def console():
    """What the configured console handler (LOGGING in config/settings/base.py) writes."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_the_log_filter_masks_nik_card_numbers_and_names(console):
    log = logging.getLogger("donations.services")
    try:
        raise ValueError("peserta nama='UDIN SYAMSUDDIN' nik 7322014101900001 kartu 0001234567890")
    except ValueError:
        log.exception("gagal untuk %s (%s)", {"nama": "SITI AMINAH", "no_kk": "7322010101120001"}, "0009876543210")
    output = console.getvalue()
    for secret in ("UDIN", "SYAMSUDDIN", "7322014101900001", "0001234567890", "SITI AMINAH",
                   "7322010101120001", "0009876543210"):
        assert secret not in output, secret
    assert "<NIK/KK>" in output and "<no. kartu>" in output and "<nama>" in output
    assert "ValueError" in output and "gagal untuk" in output


@pytest.mark.django_db
def test_an_import_failure_logs_no_row_values(branch_a, tmp_path, monkeypatch, console):
    from participants import services

    row = ";".join(['"UDIN" SYAMSUDDIN', "7322014101900001", "Jl. Poros Masamba"])

    def broken_copy(*, import_id, buf):
        # A failure whose message quotes a row, the way a parser or COPY does.
        raise RuntimeError(f"baris 2: {row}")

    monkeypatch.setattr(services, "staging_send", broken_copy)
    path = tmp_path / "daftar.csv"
    path.write_text(csv_text([line(1, name="UDIN SYAMSUDDIN")]))
    imp, _duplicate = import_create(branch=branch_a, actor=None, uploaded_file=path, as_of=AS_OF,
                                    mode="partial", enqueue=False)
    with pytest.raises(RuntimeError):
        import_run(import_id=imp.pk)
    output = console.getvalue()
    assert f"import {imp.pk} failed" in output and "RuntimeError" in output
    for secret in ("UDIN", "SYAMSUDDIN", "7322014101900001", "Poros"):
        assert secret not in output, secret
    imp.refresh_from_db()
    assert imp.status == ImportStatus.FAILED
