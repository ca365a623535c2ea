"""The synthetic arrears generator (`manage.py generate_arrears`, participants/imports/generate.py)."""

import csv
import datetime as dt
import json
from collections import defaultdict
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from participants.imports.generate import (
    MAX_BILLED_MONTHS,
    TARIFF_BY_CLASS,
    generate_arrears_file,
    make_villages,
    regency_spec,
)
from participants.imports.parse import parse_arrears_file
from regencies.reference import BRANCH_BY_CODE, REGENCY_BY_CODE

AS_OF = dt.date(2026, 10, 31)


def specs(branch: str):
    return [regency_spec(code=r.code, name=r.name, kind=r.kind, district_names=r.districts)
            for r in (REGENCY_BY_CODE[c] for c in BRANCH_BY_CODE[branch].regency_codes)]


def generate(tmp_path, *, branch="palopo", rows=600, seed=5, name="gen.csv", **kwargs):
    path = tmp_path / name
    result = generate_arrears_file(regencies=specs(branch), branch=branch, rows=rows, out=path, seed=seed,
                                   as_of=AS_OF, **kwargs)
    return path, result


def read_rows(path, delimiter=","):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_same_seed_same_bytes(tmp_path, fmt):
    a, _ = generate(tmp_path, name=f"a.{fmt}", fmt=fmt, rows=300)
    b, _ = generate(tmp_path, name=f"b.{fmt}", fmt=fmt, rows=300)
    c, _ = generate(tmp_path, name=f"c.{fmt}", fmt=fmt, rows=300, seed=6)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_realistic_identifiers_and_families(tmp_path):
    path, result = generate(tmp_path, rows=2000)
    rows = read_rows(path)
    assert len(rows) == result.rows == 2000
    cards = [r["no_kartu"] for r in rows]
    assert all(len(c) == 13 and c.isdigit() and c.startswith("000") for c in cards)
    assert len(set(cards)) == len(cards)
    assert len({r["nik"] for r in rows}) == len(rows)
    for r in rows:
        nik, birth = r["nik"], dt.datetime.strptime(r["tgl_lahir"], "%d-%m-%Y").date()  # noqa: DTZ007
        day = int(nik[6:8])
        assert (day - 40 if r["jenis_kelamin"] == "P" else day) == birth.day
        assert nik[8:10] == f"{birth.month:02d}" and nik[10:12] == f"{birth.year % 100:02d}"
        assert nik[:6] == r["kode_wilayah"][:8].replace(".", "")
        assert birth <= AS_OF
    families = defaultdict(list)
    for r in rows:
        families[r["no_kk"]].append(r)
    assert len(families) == result.families
    sizes = {len(members) for members in families.values()}
    assert sizes <= {1, 2, 3, 4, 5, 6} and len(sizes) >= 4
    for members in families.values():
        assert len({m["kelas"] for m in members}) == 1
        assert len({m["kode_wilayah"] for m in members}) == 1
        assert len({m["bulan_tunggak"] for m in members}) == 1
        assert [m["hubungan_keluarga"] for m in members].count("PESERTA") == 1
        assert members[0]["hubungan_keluarga"] == "PESERTA"
        assert {m["hubungan_keluarga"] for m in members} <= {"PESERTA", "SUAMI", "ISTRI", "ANAK", "FAMILI LAIN"}


def test_realistic_arrears(tmp_path):
    path, _ = generate(tmp_path, rows=3000)
    rows = read_rows(path)
    classes = [r["kelas"] for r in rows]
    assert 0.78 < classes.count("3") / len(rows) < 0.92
    assert 0.8 < [r["segmen"] for r in rows].count("PBPU") / len(rows) < 0.97
    months = [int(r["bulan_tunggak"]) for r in rows]
    assert min(months) == 0 and max(months) > 24
    assert sum(1 <= m <= 6 for m in months) > len(rows) * 0.35
    for r, m in zip(rows, months, strict=True):
        assert int(r["jumlah_tunggakan"]) == min(m, MAX_BILLED_MONTHS) * TARIFF_BY_CLASS[int(r["kelas"])]
        assert r["status_peserta"] == ("AKTIF" if m == 0 else "TIDAK AKTIF")
        if r["tgl_bayar_terakhir"]:
            paid = dt.datetime.strptime(r["tgl_bayar_terakhir"], "%d-%m-%Y").date()  # noqa: DTZ007
            months_back = (AS_OF.year - paid.year) * 12 + AS_OF.month - paid.month
            assert months_back == m or (m == 0 and months_back <= 1)
        else:
            assert m > 12


def test_regions_names_and_villages(tmp_path):
    path, result = generate(tmp_path, branch="selong", rows=400)
    rows = read_rows(path)
    assert result.regencies == {"52.03": 400}
    district_names = {d.upper() for d in REGENCY_BY_CODE["52.03"].districts}
    assert {r["kecamatan"] for r in rows} <= district_names
    assert all(r["kode_wilayah"].startswith("52.03.") and len(r["kode_wilayah"]) == 13 for r in rows)
    assert any(r["nama"].startswith(("LALU ", "BAIQ ")) for r in rows)  # Sasak names on Lombok
    # villages depend on the district code only, not the seed; a kota has only kelurahan (1VVV)
    assert make_villages("73.22.03", culture="bugis", kota=False, capital=False) == make_villages(
        "73.22.03", culture="bugis", kota=False, capital=False)
    kota = make_villages("73.73.01", culture="bugis", kota=True, capital=True)
    assert all(v.code.startswith("73.73.01.1") for v in kota)
    desa = make_villages("73.22.05", culture="bugis", kota=False, capital=False)
    assert all(v.code.startswith("73.22.05.2") for v in desa) and 6 <= len(desa) <= 17
    assert len({v.name for v in desa}) == len(desa)


@pytest.mark.parametrize(("fmt", "delimiter", "aliases"), [
    ("csv", ",", False),
    ("csv", ";", True),
    ("xlsx", ",", False),
    ("xlsx", ",", True),
])
def test_a_generated_file_parses_without_errors(tmp_path, fmt, delimiter, aliases):
    path, result = generate(tmp_path, rows=500, name=f"gen.{fmt}", fmt=fmt, delimiter=delimiter, aliases=aliases)
    codes = set(BRANCH_BY_CODE["palopo"].regency_codes)
    parsed = parse_arrears_file(path, regency_codes=codes)
    valid, errors = 0, []
    per_regency = defaultdict(int)
    for chunk in parsed:
        valid += chunk.frame.height
        errors += chunk.errors
        for code in chunk.frame["regency_code"].to_list():
            per_regency[code] += 1
    assert errors == []
    assert valid == result.rows == 500
    if aliases:
        assert parsed.info.ignored_headers == ["Keterangan"]
    else:
        assert dict(per_regency) == result.regencies


@pytest.mark.django_db
def test_command_uses_the_branch_regencies_from_the_database(tmp_path, branch_a):
    out = StringIO()
    path = tmp_path / "palopo.csv"
    call_command("generate_arrears", "--branch", "palopo", "--rows", "300", "--out", str(path),
                 "--seed", "3", "--as-of", "2026-10-31", stdout=out, stderr=StringIO())
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["path"] == str(path) and summary["rows"] == 300 and summary["format"] == "csv"
    assert summary["branch"] == "palopo" and summary["seed"] == 3 and summary["families"] > 50
    assert set(summary["regencies"]) == {"73.22", "73.17"}  # branch_a has only these two in the database
    assert sum(summary["regencies"].values()) == 300


@pytest.mark.django_db
def test_command_falls_back_to_the_reference_branches(tmp_path):
    out = StringIO()
    call_command("generate_arrears", "--branch", "palopo", "--rows", "50", "--out", str(tmp_path / "p.xlsx"),
                 stdout=out, stderr=StringIO())
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["format"] == "xlsx"
    assert set(summary["regencies"]) <= {"73.22", "73.17", "73.24", "73.73"}


@pytest.mark.django_db
@pytest.mark.parametrize(("args", "returncode"), [
    (["--branch", "tidak-ada", "--rows", "10"], 1),
    (["--branch", "palopo", "--rows", "0"], 2),
    (["--branch", "palopo", "--rows", "10", "--as-of", "31-10-2026"], 2),
    (["--branch", "palopo", "--rows", "10", "--delimiter", "|"], 2),
])
def test_command_exit_codes(tmp_path, args, returncode):
    with pytest.raises(CommandError) as caught:
        call_command("generate_arrears", *args, "--out", str(tmp_path / "x.csv"), stdout=StringIO(),
                     stderr=StringIO())
    assert caught.value.returncode == returncode


@pytest.mark.django_db
def test_command_rejects_a_missing_folder(tmp_path):
    with pytest.raises(CommandError) as caught:
        call_command("generate_arrears", "--branch", "palopo", "--rows", "10",
                     "--out", str(tmp_path / "tidak" / "ada.csv"), stdout=StringIO(), stderr=StringIO())
    assert caught.value.returncode == 2


def test_even_split_gives_every_regency_the_same_number_of_rows(tmp_path):
    path, result = generate(tmp_path, rows=4 * 37, even=True)
    assert result.regencies == {"73.22": 37, "73.17": 37, "73.24": 37, "73.73": 37}
    counted = defaultdict(int)
    for row in read_rows(path):
        counted[row["kode_wilayah"].replace(".", "")[:4]] += 1
    assert sorted(counted.values()) == [37, 37, 37, 37]


def test_default_split_follows_the_number_of_districts(tmp_path):
    _path, result = generate(tmp_path, rows=1000)
    assert sum(result.regencies.values()) == 1000
    # Luwu Utara has 15 districts, Kota Palopo 9: more rows for the larger regency.
    assert result.regencies["73.22"] > result.regencies["73.73"] > 0


# --- the columns of 2026 ---------------------------------------------------------------------------

def test_columns_2026_realistic_shares_and_a_30_month_row(tmp_path):
    plain, _ = generate(tmp_path, rows=4000, name="plain.csv")
    path, result = generate(tmp_path, rows=4000, name="2026.csv", columns_2026=True)
    rows = read_rows(path)
    assert list(rows[0])[-3:] == ["pemutihan", "rehab", "sisa_cicilan"]
    assert "pemutihan" not in read_rows(plain)[0]  # only with the option
    # Deterministic per seed; the other columns are those of the same seed without the option
    # (but for the first family's 30 months).
    again, _ = generate(tmp_path, rows=4000, name="again.csv", columns_2026=True)
    assert again.read_bytes() == path.read_bytes()
    plain_rows = read_rows(plain)
    first_kk = rows[0]["no_kk"]
    for a, b in zip(rows, plain_rows, strict=True):
        if a["no_kk"] != first_kk:
            assert {k: a[k] for k in b} == b
    first_family = [r for r in rows if r["no_kk"] == first_kk]
    assert {r["bulan_tunggak"] for r in first_family} == {"30"}
    assert {int(r["jumlah_tunggakan"]) for r in first_family} == {
        MAX_BILLED_MONTHS * TARIFF_BY_CLASS[int(first_family[0]["kelas"])]}

    families = {r["no_kk"]: r for r in rows}
    written_off = [r for r in families.values() if r["pemutihan"] == "Y"]
    rehab = [r for r in families.values() if r["rehab"] == "Y"]
    class3_in_arrears = [r for r in families.values() if r["kelas"] == "3" and r["bulan_tunggak"] != "0"]
    assert 0.015 < len(written_off) / len(class3_in_arrears) < 0.05
    assert all(r["kelas"] == "3" and r["rehab"] != "Y" for r in written_off)
    eligible = [r for r in families.values() if 4 <= int(r["bulan_tunggak"]) <= 24]
    assert 0.025 < len(rehab) / len(eligible) < 0.08
    for r in rehab:
        months, left = int(r["bulan_tunggak"]), int(r["sisa_cicilan"])
        assert 1 <= left <= min(12, (months + 1) // 2)
    assert all(r["sisa_cicilan"] == "" for r in rows if r["rehab"] != "Y")
    assert {r["pemutihan"] for r in rows} == {"Y", "N", ""}
    assert sum(int(r["bulan_tunggak"]) > 24 for r in rows) >= len(first_family)
    assert result.rows == 4000


@pytest.mark.parametrize(("fmt", "aliases"), [("csv", False), ("csv", True), ("xlsx", False), ("xlsx", True)])
def test_columns_2026_parse_without_errors_and_the_long_row_is_a_warning(tmp_path, fmt, aliases):
    path, result = generate(tmp_path, rows=800, name=f"gen.{fmt}", fmt=fmt, aliases=aliases, columns_2026=True)
    parsed = parse_arrears_file(path, regency_codes=set(BRANCH_BY_CODE["palopo"].regency_codes),
                                monthly_tariffs=TARIFF_BY_CLASS)
    frames, errors, warnings = [], [], []
    for chunk in parsed:
        frames.append(chunk.frame)
        errors += chunk.errors
        warnings += chunk.warnings
    assert errors == []
    assert sum(f.height for f in frames) == result.rows == 800
    assert {"pemutihan", "rehab", "sisa_cicilan"} <= set(parsed.info.columns)
    assert warnings and warnings[0].row == 2 and warnings[0].column == "bulan_tunggak" and warnings[0].value == "30"
    assert {w.column for w in warnings} == {"bulan_tunggak"}  # amounts are billed at most 24 months
    staged = [row for f in frames for row in f.select("written_off", "in_rehab").iter_rows()]
    assert any(w is True for w, _r in staged) and any(r is True for _w, r in staged)


@pytest.mark.django_db
def test_command_columns_2026_flag(tmp_path):
    out = StringIO()
    call_command("generate_arrears", "--branch", "palopo", "--rows", "50", "--out", str(tmp_path / "g.csv"),
                 "--columns-2026", "--as-of", "2026-10-31", stdout=out, stderr=StringIO())
    header = (tmp_path / "g.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[-3:] == ["pemutihan", "rehab", "sisa_cicilan"]
