"""Normalisation and validation of arrears values (participants/imports/normalise.py), table-driven.

Each case is one row of a real CSV parsed through `parse_arrears_file`, so the
whole path (reading, the fast path for canonical cells, the full path for the
rest) is exercised; the last test checks that both paths agree.
"""

import datetime as dt

import polars as pl
import pytest

from participants.imports.columns import STAGING_COLUMN_NAMES
from participants.imports.normalise import _fast_path, _normalise_full, clean_raw
from participants.imports.parse import parse_arrears_file
from tests.participants.arrears_files import BASE, CODES, write_csv


def parse_one(tmp_path, **overrides):
    """Parse a file with one data row (BASE with overrides): (staging row dict or None, errors)."""
    path = write_csv(tmp_path, [{**BASE, **overrides}])
    frames, errors = [], []
    for chunk in parse_arrears_file(path, regency_codes=CODES):
        frames.append(chunk.frame)
        errors.extend(chunk.errors)
    frame = pl.concat(frames)
    assert frame.columns == list(STAGING_COLUMN_NAMES)
    return (frame.row(0, named=True) if frame.height else None), errors


VALUE_FORMS = [
    # (column, cell as written, staging column, expected value)
    ("no_kartu", "0001234567890", "card_number", "0001234567890"),
    ("no_kartu", "1234567890", "card_number", "0001234567890"),  # lost its leading zeros
    ("no_kartu", "1234567890.0", "card_number", "0001234567890"),  # a spreadsheet number
    ("no_kartu", "'0001234567890", "card_number", "0001234567890"),  # Excel's text marker
    ("no_kartu", " 0001234567890 ", "card_number", "0001234567890"),
    ("nik", "7322012345678901", "nik", "7322012345678901"),
    ("nik", "'7322012345678901", "nik", "7322012345678901"),
    ("nik", "7322012345678901.0", "nik", "7322012345678901"),  # a number that kept 16 digits
    ("nama", "ANDI BASO", "name", "ANDI BASO"),
    ("nama", "  Andi \t  Baso  ", "name", "Andi Baso"),
    ("tgl_lahir", "17-08-1980", "birth_date", dt.date(1980, 8, 17)),
    ("tgl_lahir", "17/08/1980", "birth_date", dt.date(1980, 8, 17)),
    ("tgl_lahir", "1980-08-17", "birth_date", dt.date(1980, 8, 17)),
    ("tgl_lahir", "7-8-1980", "birth_date", dt.date(1980, 8, 7)),
    ("tgl_lahir", "1980-08-17 00:00:00", "birth_date", dt.date(1980, 8, 17)),
    ("tgl_lahir", "", "birth_date", None),
    ("jenis_kelamin", "L", "sex", "L"),
    ("jenis_kelamin", "p", "sex", "P"),
    ("jenis_kelamin", "LAKI-LAKI", "sex", "L"),
    ("jenis_kelamin", "Laki laki", "sex", "L"),
    ("jenis_kelamin", "PEREMPUAN", "sex", "P"),
    ("jenis_kelamin", "", "sex", ""),
    ("no_kk", "7322010101200001", "family_number", "7322010101200001"),
    ("no_kk", "", "family_number", ""),
    ("hubungan_keluarga", "PESERTA", "relationship", "PESERTA"),
    ("hubungan_keluarga", "Kepala Keluarga", "relationship", "PESERTA"),
    ("hubungan_keluarga", "SUAMI", "relationship", "SUAMI"),
    ("hubungan_keluarga", "istri", "relationship", "ISTRI"),
    ("hubungan_keluarga", "ANAK", "relationship", "ANAK"),
    ("hubungan_keluarga", "Famili Lain", "relationship", "FAMILI LAIN"),
    ("hubungan_keluarga", "", "relationship", ""),
    ("kelas", "1", "care_class", 1),
    ("kelas", "2", "care_class", 2),
    ("kelas", "3", "care_class", 3),
    ("kelas", "I", "care_class", 1),
    ("kelas", "II", "care_class", 2),
    ("kelas", "III", "care_class", 3),
    ("kelas", "KELAS 3", "care_class", 3),
    ("kelas", "Kelas III", "care_class", 3),
    ("kelas", "3.0", "care_class", 3),
    ("segmen", "PBPU", "segment", "PBPU"),
    ("segmen", "PBPU ", "segment", "PBPU"),
    ("segmen", "pbpu", "segment", "PBPU"),
    ("segmen", "BP", "segment", "BP"),
    ("segmen", "Mandiri", "segment", "PBPU"),
    ("bulan_tunggak", "12", "months_in_arrears", 12),
    ("bulan_tunggak", "12.0", "months_in_arrears", 12),
    ("bulan_tunggak", "0", "months_in_arrears", 0),
    ("bulan_tunggak", "600", "months_in_arrears", 600),
    ("jumlah_tunggakan", "1250000", "arrears_amount", 1_250_000),
    ("jumlah_tunggakan", "1.250.000", "arrears_amount", 1_250_000),
    ("jumlah_tunggakan", "Rp 1.250.000", "arrears_amount", 1_250_000),
    ("jumlah_tunggakan", "Rp1.250.000,00", "arrears_amount", 1_250_000),
    ("jumlah_tunggakan", "RP. 1.250.000", "arrears_amount", 1_250_000),
    ("jumlah_tunggakan", "1250000.0", "arrears_amount", 1_250_000),
    ("jumlah_tunggakan", "1250000,00", "arrears_amount", 1_250_000),
    ("jumlah_tunggakan", "1,250,000", "arrears_amount", 1_250_000),
    ("jumlah_tunggakan", "1,250,000.00", "arrears_amount", 1_250_000),
    ("jumlah_tunggakan", "1.250", "arrears_amount", 1_250),  # a dot and 3 digits: thousands
    ("jumlah_tunggakan", "0", "arrears_amount", 0),
    ("tgl_bayar_terakhir", "15-10-2025", "last_paid_date", dt.date(2025, 10, 15)),
    ("tgl_bayar_terakhir", "", "last_paid_date", None),
    ("status_peserta", "AKTIF", "bpjs_status", "active"),
    ("status_peserta", "TIDAK AKTIF", "bpjs_status", "inactive"),
    ("status_peserta", "Non Aktif", "bpjs_status", "inactive"),
    ("status_peserta", "NONAKTIF", "bpjs_status", "inactive"),
    ("status_peserta", "NON-AKTIF", "bpjs_status", "inactive"),
    ("status_peserta", "", "bpjs_status", "inactive"),
    ("kecamatan", "  Masamba ", "district_name", "Masamba"),
    ("desa", "", "village_name", ""),
    ("alamat", "", "address", ""),
]


@pytest.mark.parametrize(("column", "cell", "target", "expected"), VALUE_FORMS)
def test_value_forms(tmp_path, column, cell, target, expected):
    row, errors = parse_one(tmp_path, **{column: cell})
    assert errors == []
    assert row[target] == expected


REGION_FORMS = [
    ("73.22", ("73.22", "", "")),
    ("7322", ("73.22", "", "")),
    ("7322.0", ("73.22", "", "")),  # a spreadsheet number
    ("73.22.01", ("73.22", "73.22.01", "")),
    ("732201", ("73.22", "73.22.01", "")),
    ("73.22.01.2001", ("73.22", "73.22.01", "73.22.01.2001")),
    ("7322012001", ("73.22", "73.22.01", "73.22.01.2001")),
    ("73.17.05.1003", ("73.17", "73.17.05", "73.17.05.1003")),
]


@pytest.mark.parametrize(("cell", "codes"), REGION_FORMS)
def test_region_code_forms(tmp_path, cell, codes):
    row, errors = parse_one(tmp_path, kode_wilayah=cell)
    assert errors == []
    assert (row["regency_code"], row["district_code"], row["village_code"]) == codes


ROW_ERRORS = [
    # (column, cell, words the message must contain)
    ("no_kartu", "", "Nomor kartu kosong"),
    ("no_kartu", "12345678901234", "paling banyak 13 digit"),
    ("no_kartu", "00012345-7890", "hanya boleh berisi angka"),
    ("no_kartu", "1.23457E+12", "notasi ilmiah"),
    ("nik", "", "NIK kosong"),
    ("nik", "7.32207E+15", "notasi ilmiah"),
    ("nik", "7,32207E+15", "notasi ilmiah"),
    ("nik", "7322012345678900.0", "kurang dari 16 digit bermakna"),
    ("nik", "732201234567890.0", "kurang dari 16 digit bermakna"),
    ("nik", "732201234567890", "tepat 16 digit, ditemukan 15 digit"),
    ("nik", "73220123456789012", "tepat 16 digit, ditemukan 17 digit"),
    ("nik", "73220123456789AB", "hanya boleh berisi angka"),
    ("nama", "", "Nama kosong"),
    ("nama", "A" * 151, "terlalu panjang"),
    ("tgl_lahir", "31-02-1980", "Tanggal lahir tidak dikenali"),
    ("tgl_lahir", "kemarin", "Tanggal lahir tidak dikenali"),
    ("tgl_lahir", "1-2-26", "Tanggal lahir tidak wajar: tahun"),
    ("jenis_kelamin", "X", "Jenis kelamin tidak dikenali"),
    ("no_kk", "123", "tepat 16 digit, ditemukan 3 digit"),
    ("no_kk", "7.32201E+15", "notasi ilmiah"),
    ("hubungan_keluarga", "TETANGGA", "Hubungan keluarga tidak dikenali"),
    ("kelas", "4", "Kelas tidak dikenali"),
    ("kelas", "", "Kelas kosong"),
    ("segmen", "PPU", "Segmen tidak dikenali"),  # PBI is a segment we accept (a participant moved to PBI)
    ("segmen", "", "Segmen kosong"),
    ("kode_wilayah", "", "Kode wilayah kosong"),
    ("kode_wilayah", "73-22", "Kode wilayah tidak dikenali"),
    ("kode_wilayah", "7", "Kode wilayah tidak dikenali"),
    ("kode_wilayah", "52.03", "Kode wilayah 52.03 berada di luar wilayah cabang"),
    ("kode_wilayah", "5203012001", "Kode wilayah 52.03 berada di luar wilayah cabang"),
    ("kecamatan", "K" * 101, "Kecamatan terlalu panjang"),
    ("alamat", "J" * 256, "Alamat terlalu panjang"),
    ("bulan_tunggak", "", "Bulan tunggakan kosong"),
    ("bulan_tunggak", "-1", "tidak boleh negatif"),
    ("bulan_tunggak", "dua belas", "harus bilangan bulat"),
    ("bulan_tunggak", "1.5", "harus bilangan bulat"),
    ("bulan_tunggak", "601", "tidak wajar: 601 bulan"),
    ("jumlah_tunggakan", "", "Jumlah tunggakan kosong"),
    ("jumlah_tunggakan", "-5000", "tidak boleh negatif"),
    ("jumlah_tunggakan", "1.250.000,50", "pecahan rupiah (50)"),
    ("jumlah_tunggakan", "1250000.5", "pecahan rupiah (5)"),
    ("jumlah_tunggakan", "abc", "tidak dikenali"),
    ("jumlah_tunggakan", "1250000.000", "tidak dikenali"),
    ("jumlah_tunggakan", "1.25.000", "tidak dikenali"),
    ("jumlah_tunggakan", "12345678901234", "tidak wajar"),
    ("tgl_bayar_terakhir", "2025-13-01", "Tanggal bayar terakhir tidak dikenali"),
    ("status_peserta", "MENINGGAL", "Status peserta tidak dikenali"),
]


@pytest.mark.parametrize(("column", "cell", "words"), ROW_ERRORS)
def test_row_errors(tmp_path, column, cell, words):
    row, errors = parse_one(tmp_path, **{column: cell})
    assert row is None, "a row with an error is not staged"
    assert len(errors) == 1, errors
    error = errors[0]
    assert (error.row, error.column, error.value) == (2, column, cell[:200])
    assert words in error.message


def test_every_problem_of_a_row_is_reported(tmp_path):
    row, errors = parse_one(tmp_path, nik="123", kelas="9", jumlah_tunggakan="abc")
    assert row is None
    assert [(e.row, e.column) for e in errors] == [(2, "nik"), (2, "kelas"), (2, "jumlah_tunggakan")]


def test_file_without_optional_columns_gets_defaults(tmp_path):
    required = ["no_kartu", "nik", "nama", "kode_wilayah", "bulan_tunggak", "jumlah_tunggakan"]
    path = write_csv(tmp_path, [{k: BASE[k] for k in required}], header=required)
    chunk = next(iter(parse_arrears_file(path, regency_codes=CODES)))
    assert chunk.errors == []
    row = chunk.frame.row(0, named=True)
    assert (row["care_class"], row["segment"], row["bpjs_status"], row["sex"], row["birth_date"]) == (
        3, "PBPU", "inactive", "", None)


def test_fast_path_and_full_path_agree():
    """Rows in canonical form skip most rules: both paths must give the same staging values."""
    rows = [
        {**BASE},
        {**BASE, "no_kartu": "0009999999999", "tgl_lahir": "", "jenis_kelamin": "P", "no_kk": "",
         "hubungan_keluarga": "ISTRI", "kelas": "1", "segmen": "BP", "kode_wilayah": "73.17",
         "kecamatan": "", "desa": "", "alamat": "", "bulan_tunggak": "0", "jumlah_tunggakan": "0",
         "tgl_bayar_terakhir": "2026-01-05", "status_peserta": "AKTIF", "pemutihan": "Y", "rehab": "N",
         "sisa_cicilan": "0"},
        {**BASE, "kode_wilayah": "73.22.03", "tgl_lahir": "01/12/1999", "status_peserta": "", "pemutihan": "0",
         "rehab": "1", "sisa_cicilan": "12"},
    ]
    names = list(BASE)
    raw = pl.DataFrame({n: [r[n] or None for r in rows] for n in names}).with_columns(
        pl.int_range(2, 2 + len(rows), dtype=pl.Int32).alias("row_number"))
    mask, values = _fast_path(set(names), CODES)
    assert raw.select(mask).to_series().to_list() == [True, True, True]
    fast = raw.select(values).select(STAGING_COLUMN_NAMES)
    full, errors = _normalise_full(clean_raw(raw, names), present=set(names), regency_codes=CODES)
    assert errors.height == 0
    assert fast.to_dicts() == full.select(STAGING_COLUMN_NAMES).to_dicts()
    assert fast.schema == full.select(STAGING_COLUMN_NAMES).schema
