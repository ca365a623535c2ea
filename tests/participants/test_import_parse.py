"""Reading arrears files (participants/imports/parse.py, readers.py): headers, encodings,
delimiters, row numbers, XLSX cells, repeated card numbers and every file-level rejection."""

import datetime as dt
import zipfile

import polars as pl
import pytest

from participants.imports.columns import ALIASES, REQUIRED, STAGING_COLUMN_NAMES
from participants.imports.parse import FileRejected, inspect_header, parse_arrears_file
from tests.participants.arrears_files import BASE, CODES, csv_text, row, write_csv, write_xlsx


def parse_all(path, **kwargs):
    """(all valid rows as one frame, all errors, non-blank rows counted)."""
    frames, errors, rows = [], [], 0
    for chunk in parse_arrears_file(path, regency_codes=kwargs.pop("codes", CODES), **kwargs):
        assert chunk.frame.columns == list(STAGING_COLUMN_NAMES)
        frames.append(chunk.frame)
        errors.extend(chunk.errors)
        rows += chunk.rows
    return pl.concat(frames), errors, rows


def rejected(path, **kwargs) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        parse_all(path, **kwargs)
    return caught.value


# --- header ---------------------------------------------------------------------------------------

ALIAS_CASES = [(canonical, alias) for canonical, aliases in ALIASES.items() for alias in (canonical, *aliases)]


@pytest.mark.parametrize(("canonical", "alias"), ALIAS_CASES)
def test_every_alias_of_every_column(tmp_path, canonical, alias):
    header = [alias if name == canonical else name for name in BASE]
    values = {alias if name == canonical else name: value for name, value in BASE.items()}
    frame, errors, _rows = parse_all(write_csv(tmp_path, [values], header=header))
    assert errors == []
    assert frame.height == 1
    assert inspect_header(write_csv(tmp_path, [values], header=header)).columns[canonical] == alias


@pytest.mark.parametrize(("written", "canonical"), [
    ("No. Kartu JKN", "no_kartu"),
    ("NO_KARTU", "no_kartu"),
    (" Nomor-Kartu ", "no_kartu"),
    ("N.I.K", "nik"),
    ("Nama_Peserta", "nama"),
    ("TGL. LAHIR", "tgl_lahir"),
    ("Kode Kab/Kota", "kode_wilayah"),
    ("KODE_KAB / KOTA", "kode_wilayah"),
    ("Desa/Kelurahan", "desa"),
    ("JML. BULAN TUNGGAK", "bulan_tunggak"),
    ("Total-Tunggakan", "jumlah_tunggakan"),
    ("TMT_Bayar", "tgl_bayar_terakhir"),
    ("\ufeffno_kartu", "no_kartu"),
])
def test_header_folding_ignores_case_spaces_dots_underscores_slashes_dashes(tmp_path, written, canonical):
    header = [written if name == canonical else name for name in BASE]
    values = {written if name == canonical else name: value for name, value in BASE.items()}
    info = inspect_header(write_csv(tmp_path, [values], header=header))
    assert info.columns[canonical] == written.strip().replace("\ufeff", "")
    frame, errors, _rows = parse_all(write_csv(tmp_path, [values], header=header))
    assert (frame.height, errors) == (1, [])


def test_unknown_columns_are_ignored_and_reported(tmp_path):
    header = ["Keterangan", *BASE, "Petugas"]
    values = {**BASE, "Keterangan": "catatan", "Petugas": "x"}
    path = write_csv(tmp_path, [values], header=header)
    info = inspect_header(path)
    assert info.ignored_headers == ["Keterangan", "Petugas"]
    assert info.found_headers == header
    assert info.missing_optional == []
    frame, errors, _rows = parse_all(path)
    assert (frame.height, errors) == (1, [])


def test_two_headers_for_one_column_are_rejected_naming_both(tmp_path):
    header = [*BASE, "No. Kartu JKN"]
    error = rejected(write_csv(tmp_path, [{**BASE, "No. Kartu JKN": "1"}], header=header))
    assert error.code == "duplicate_columns"
    assert '"no_kartu"' in error.message and '"No. Kartu JKN"' in error.message


def test_missing_required_columns_are_listed_with_the_headers_found(tmp_path):
    header = ["noka", "nama", "kecamatan", "keterangan"]
    error = rejected(write_csv(tmp_path, [{"noka": "1", "nama": "A"}], header=header))
    assert error.code == "missing_columns"
    for missing in ("nik", "kode_wilayah", "bulan_tunggak", "jumlah_tunggakan"):
        assert missing in error.message.split("Judul kolom yang ditemukan")[0]
    assert '"noka", "nama", "kecamatan", "keterangan"' in error.message


@pytest.mark.parametrize("required", REQUIRED)
def test_each_required_column(tmp_path, required):
    header = [name for name in BASE if name != required]
    error = rejected(write_csv(tmp_path, [BASE], header=header))
    assert error.code == "missing_columns"
    assert f"Kolom wajib tidak ditemukan: {required}." in error.message


# --- rows -----------------------------------------------------------------------------------------

def test_blank_rows_are_skipped_not_counted_and_row_numbers_stay_those_of_the_sheet(tmp_path):
    content = csv_text([row(1), None, row(2, nik="123"), None, None, row(3)])
    content += ",,,,,,,,,,,,,,,,\n" + "  , ,\n" + csv_text([row(4, kelas="9")]).split("\n", 1)[1]
    path = tmp_path / "kosong.csv"
    path.write_text(content)
    frame, errors, rows = parse_all(path)
    assert rows == 4
    assert frame["row_number"].to_list() == [2, 7]
    assert [(e.row, e.column) for e in errors] == [(4, "nik"), (10, "kelas")]


def test_row_numbers_across_chunks_and_quoted_newlines(tmp_path):
    rows = [row(i) for i in range(7)]
    rows[2]["alamat"] = "JL. POROS\nDUSUN II, RT 1"  # a quoted cell with a newline and a comma
    rows.insert(4, None)
    rows[6]["jumlah_tunggakan"] = "x"
    path = write_csv(tmp_path, rows)
    frame, errors, count = parse_all(path, chunk_rows=2)
    assert count == 7
    assert frame["row_number"].to_list() == [2, 3, 4, 5, 7, 9]
    assert frame.filter(pl.col("row_number") == 4)["address"].item() == "JL. POROS\nDUSUN II, RT 1"
    assert [(e.row, e.column) for e in errors] == [(8, "jumlah_tunggakan")]


def test_a_repeated_card_number_keeps_the_first_row(tmp_path):
    rows = [row(1), row(2), row(3, no_kartu="1234567891"), row(4), row(5, no_kartu=row(2)["no_kartu"])]
    frame, errors, count = parse_all(write_csv(tmp_path, rows), chunk_rows=2)
    assert count == 5
    assert frame["row_number"].to_list() == [2, 3, 5]
    assert [(e.row, e.column) for e in errors] == [(4, "no_kartu"), (6, "no_kartu")]
    assert "0001234567891" in errors[0].message and "baris 2" in errors[0].message
    assert errors[0].value == "1234567891"


def test_region_outside_the_branch_is_a_row_error_naming_the_code(tmp_path):
    rows = [row(1), row(2, kode_wilayah="52.03.01.2001"), row(3, kode_wilayah="7317")]
    frame, errors, _count = parse_all(write_csv(tmp_path, rows))
    assert frame["regency_code"].to_list() == ["73.22", "73.17"]
    assert [(e.row, e.column, e.value) for e in errors] == [(3, "kode_wilayah", "52.03.01.2001")]
    assert "52.03" in errors[0].message and "di luar wilayah cabang" in errors[0].message


def test_progress_is_reported_up_to_one(tmp_path):
    seen = []
    path = write_csv(tmp_path, [row(i) for i in range(20)])
    for _chunk in parse_arrears_file(path, regency_codes=CODES, progress=seen.append, chunk_rows=5):
        pass
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen) and len(seen) > 3


# --- encodings and delimiters ---------------------------------------------------------------------

@pytest.mark.parametrize(("encoding", "delimiter", "bom"), [
    ("utf-8", ",", b""),
    ("utf-8", ";", b""),
    ("utf-8", "\t", b""),
    ("utf-8", ";", b"\xef\xbb\xbf"),
    ("cp1252", ";", b""),
    ("cp1252", ",", b""),
    ("utf-16", "\t", b""),  # Excel's "Unicode text" (the codec writes the BOM)
])
def test_encodings_and_delimiters(tmp_path, encoding, delimiter, bom):
    rows = [row(1, nama="JOSÉ NUÑEZ", alamat="JL. MAWAR; RT 1, RW 2"), row(2)]
    path = tmp_path / "daftar.csv"
    path.write_bytes(bom + csv_text(rows, delimiter=delimiter).encode(encoding))
    frame, errors, _count = parse_all(path)
    assert errors == []
    assert frame["name"].to_list() == ["JOSÉ NUÑEZ", "ANDI BASO"]
    assert frame["address"][0] == "JL. MAWAR; RT 1, RW 2"
    info = inspect_header(path)
    assert info.delimiter == delimiter
    assert info.encoding == {"utf-8": "utf-8-sig" if bom else "utf-8", "cp1252": "cp1252", "utf-16": "utf-16"}[encoding]


def test_windows_line_endings(tmp_path):
    path = tmp_path / "crlf.csv"
    path.write_bytes(csv_text([row(1), None, row(2)]).replace("\n", "\r\n").encode())
    frame, errors, count = parse_all(path)
    assert (count, errors) == (2, [])
    assert frame["row_number"].to_list() == [2, 4]
    assert frame["bpjs_status"].to_list() == ["inactive", "inactive"]


def test_cp1252_found_after_an_ascii_start_is_transcoded(tmp_path):
    rows = [row(i) for i in range(3000)] + [row(4000, nama="BUDI CAFÉ")]
    path = tmp_path / "late.csv"
    path.write_bytes(csv_text(rows).encode("cp1252"))
    frame, errors, _count = parse_all(path, chunk_rows=500)
    assert errors == []
    assert frame["name"][-1] == "BUDI CAFÉ"


# --- XLSX -----------------------------------------------------------------------------------------

def test_xlsx_native_numbers_dates_and_text(tmp_path):
    cells = [
        # card lost its zeros; NIK as an exact 16-digit number; dates native; numbers native
        [1234567890, 7322015708800001, "ANDI BASO", dt.date(1980, 8, 17), "L", "7322010101200001",
         "PESERTA", 3, "PBPU", 7322, "MASAMBA", "BALOLI", "", 12, 420000, dt.date(2025, 10, 15), "TIDAK AKTIF"],
        None,  # a blank row: skipped, still numbered
        ["0001234567891", "7322015708800002", "BUNGA", "01/12/1999", "P", "", "ISTRI", "III", "BP",
         "73.17.02.2003", "", "", "", 0, "Rp1.250.000,00", "", "AKTIF"],
        [1234567892.0, 7322015708800000, "C", "", "", 7322010101200000, "ANAK", 3, "PBPU", 7322012001.0,
         "", "", "", 3, 105000.5, "", "TIDAK AKTIF"],
    ]
    frame, errors, count = parse_all(write_xlsx(tmp_path, cells))
    assert count == 3
    first = frame.row(0, named=True)
    assert first["card_number"] == "0001234567890"
    assert first["nik"] == "7322015708800001"
    assert (first["birth_date"], first["last_paid_date"]) == (dt.date(1980, 8, 17), dt.date(2025, 10, 15))
    assert (first["care_class"], first["regency_code"], first["months_in_arrears"], first["arrears_amount"]) == (
        3, "73.22", 12, 420_000)
    second = frame.row(1, named=True)
    assert second["row_number"] == 4
    assert (second["birth_date"], second["care_class"], second["arrears_amount"], second["village_code"]) == (
        dt.date(1999, 12, 1), 3, 1_250_000, "73.17.02.2003")
    # row 5: a NIK and a KK stored as numbers lost their 16th digit; a fractional amount
    assert [(e.row, e.column) for e in errors] == [(5, "nik"), (5, "no_kk"), (5, "jumlah_tunggakan")]
    assert "kurang dari 16 digit bermakna" in errors[0].message
    assert errors[0].value == "7322015708800000.0"


def test_xlsx_header_not_in_the_first_row(tmp_path):
    path = tmp_path / "geser.xlsx"
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for col, name in enumerate(BASE):
        sheet.write_string(2, col, name)
        sheet.write_string(3, col, BASE[name])
        sheet.write_string(5, col, row(9)[name])
    book.close()
    frame, errors, count = parse_all(path)
    assert (count, errors) == (2, [])
    assert frame["row_number"].to_list() == [4, 6]
    assert inspect_header(path).header_row == 3


# --- file-level rejections ------------------------------------------------------------------------

def test_empty_file(tmp_path):
    path = tmp_path / "kosong.csv"
    path.write_bytes(b"")
    assert rejected(path).code == "empty"


def test_only_blank_lines(tmp_path):
    path = tmp_path / "kosong.csv"
    path.write_bytes(b"\n\r\n  \n;;;\n")
    assert rejected(path).code == "empty"


def test_header_without_rows(tmp_path):
    error = rejected(write_csv(tmp_path, [None, None]))
    assert error.code == "no_rows"
    assert "tidak berisi baris data" in error.message


@pytest.mark.parametrize(("content", "words"), [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Excel 97-2003"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG"),
    (b"no_kartu,nik\x00\x00\x01\x02", "biner"),
])
def test_not_a_table(tmp_path, content, words):
    path = tmp_path / "daftar.csv"
    path.write_bytes(content)
    error = rejected(path)
    assert error.code == "not_table"
    assert words in error.message


def test_a_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "daftar.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert rejected(path).code == "not_table"


def test_a_damaged_xlsx(tmp_path):
    path = tmp_path / "rusak.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    assert rejected(path).code == "unreadable"


def test_zip_bomb_by_ratio(tmp_path):
    path = tmp_path / "bom.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (4 << 20))
    error = rejected(path)
    assert error.code == "zip_bomb"
    assert "sheet1.xml" in error.message


def test_zip_bomb_by_total_size(tmp_path, settings):
    settings.ARREARS_XLSX_MAX_UNCOMPRESSED_BYTES = 4096
    path = write_xlsx(tmp_path, [[*BASE.values()]])
    error = rejected(path)
    assert error.code == "zip_bomb"
    assert "MB" in error.message


def test_workbook_without_sheets(tmp_path):
    source = write_xlsx(tmp_path, [[*BASE.values()]])
    path = tmp_path / "tanpa-lembar.xlsx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/workbook.xml":
                start, end = data.index(b"<sheets>"), data.index(b"</sheets>") + len(b"</sheets>")
                data = data[:start] + b"<sheets/>" + data[end:]
            zout.writestr(item, data)
    assert rejected(path).code == "no_sheet"


def test_too_large(tmp_path, settings):
    settings.ARREARS_MAX_UPLOAD_BYTES = 100
    error = rejected(write_csv(tmp_path, [row(1)]))
    assert error.code == "too_large"


def test_too_many_rows_is_raised_while_reading(tmp_path, settings):
    settings.ARREARS_MAX_ROWS = 3
    parsed = parse_arrears_file(write_csv(tmp_path, [row(i) for i in range(5)]), regency_codes=CODES,
                                chunk_rows=2)
    first = next(parsed)
    assert first.rows == 2
    with pytest.raises(FileRejected) as caught:
        list(parsed)
    assert caught.value.code == "too_many_rows"


def test_blank_rows_do_not_count_towards_the_row_limit(tmp_path, settings):
    settings.ARREARS_MAX_ROWS = 3
    _frame, _errors, count = parse_all(write_csv(tmp_path, [row(1), None, None, row(2), None, row(3)]))
    assert count == 3


def test_too_many_columns(tmp_path):
    header = [*BASE, *(f"extra{i}" for i in range(190))]
    error = rejected(write_csv(tmp_path, [BASE], header=header))
    assert error.code == "too_many_columns"
    assert str(len(BASE) + 190) in error.message


def test_undecodable(tmp_path):
    path = tmp_path / "rusak.csv"
    # 0x81, 0x8D and 0x90 are neither UTF-8 nor Windows-1252
    path.write_bytes(",".join(BASE).encode() + b"\n0001234567890,\x81\x8d\x90\n")
    error = rejected(path)
    assert error.code == "undecodable"
    assert "0x81" in error.message


def test_utf8_start_then_invalid_bytes_is_rejected_mid_file(tmp_path):
    rows = [row(1, nama="JOSÉ")] + [row(i) for i in range(2, 4000)]
    content = csv_text(rows).encode("utf-8") + csv_text([row(5000, nama="CAF\xc9")]).split("\n", 1)[1].encode(
        "cp1252")
    path = tmp_path / "campur.csv"
    path.write_bytes(content)
    error = rejected(path, chunk_rows=500)
    assert error.code == "undecodable"
    assert "UTF-8" in error.message


def test_file_level_problems_come_before_the_first_chunk(tmp_path):
    parsed = parse_arrears_file(write_csv(tmp_path, [row(1)], header=["nama", "nik"]), regency_codes=CODES)
    with pytest.raises(FileRejected):
        next(parsed)
    with pytest.raises(FileRejected):
        inspect_header(tmp_path / "tidak-ada.csv")


def test_detects_the_format_by_content_not_the_name(tmp_path):
    xlsx = write_xlsx(tmp_path, [[*BASE.values()]], name="sebenarnya-xlsx.csv")
    csv_path = write_csv(tmp_path, [row(1)], name="sebenarnya-csv.xlsx")
    assert inspect_header(xlsx).kind == "xlsx"
    assert inspect_header(csv_path).kind == "csv"
    assert parse_all(xlsx)[0].height == 1 and parse_all(csv_path)[0].height == 1
