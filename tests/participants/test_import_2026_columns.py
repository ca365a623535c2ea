"""The arrears file's columns of 2026: `pemutihan`, `rehab`, `sisa_cicilan`, segment PBI,
and the 24-month bill (rows accepted but flagged as warnings; the capped bill shown to staff)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import polars as pl
import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from participants.imports.columns import ALIASES
from participants.imports.parse import parse_arrears_file
from participants.models import ArrearsRecord, ImportRowError, ImportRowWarning, Participant
from participants.selectors import billable_arrears, participant_bill
from participants.services import import_create, import_run
from tests.participants.arrears_files import BASE, CODES, row, write_csv, write_xlsx
from tests.participants.importing import HEADER, card, line

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 10, 1)
HEADER_2026 = (*HEADER, "pemutihan", "rehab", "sisa_cicilan")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def parse(path, **kwargs):
    """(valid rows as one frame, errors, warnings)."""
    frames, errors, warnings = [], [], []
    for chunk in parse_arrears_file(path, regency_codes=CODES, **kwargs):
        frames.append(chunk.frame)
        errors.extend(chunk.errors)
        warnings.extend(chunk.warnings)
    return pl.concat(frames), errors, warnings


def staged(tmp_path, **cells) -> tuple[dict | None, list]:
    frame, errors, _warnings = parse(write_csv(tmp_path, [row(1, **cells)]))
    return (frame.row(0, named=True) if frame.height else None), errors


def csv_2026(rows: list[dict[str, str]], header=HEADER_2026) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def import_rows(branch, tmp_path, rows, *, header=HEADER_2026, as_of=AS_OF, name="daftar-2026.csv", mode="full"):
    path = tmp_path / name
    path.write_text(csv_2026(rows, header), encoding="utf-8")
    imp, duplicate = import_create(branch=branch, actor=None, uploaded_file=path, as_of=as_of, mode=mode,
                                   enqueue=False)
    assert not duplicate
    return import_run(import_id=imp.pk)


# --- header and values ------------------------------------------------------------------------------

@pytest.mark.parametrize(("canonical", "alias"), [
    (c, a) for c in ("pemutihan", "rehab", "sisa_cicilan") for a in (c, *ALIASES[c])
] + [("pemutihan", "Status_Pemutihan"), ("rehab", "IKUT-REHAB"), ("sisa_cicilan", "Sisa Cicilan REHAB")])
def test_each_alias_gives_its_column(tmp_path, canonical, alias):
    header = [alias if name == canonical else name for name in BASE]
    value = "3" if canonical == "sisa_cicilan" else "Y"
    values = {alias if name == canonical else name: v for name, v in row(1, **{canonical: value}).items()}
    frame, errors, _warnings = parse(write_csv(tmp_path, [values], header=header))
    assert errors == []
    target = {"pemutihan": "written_off", "rehab": "in_rehab", "sisa_cicilan": "rehab_instalments_left"}[canonical]
    assert frame.row(0, named=True)[target] == (3 if canonical == "sisa_cicilan" else True)


@pytest.mark.parametrize(("cell", "expected"), [
    ("Y", True), ("y", True), ("YA", True), ("Ya", True), ("1", True), ("1.0", True), ("TRUE", True),
    ("true", True), (" Y ", True),
    ("N", False), ("n", False), ("TIDAK", False), ("tidak", False), ("0", False), ("0.0", False),
    ("FALSE", False), ("False", False),
    ("", None), ("  ", None),
])
@pytest.mark.parametrize("column", ["pemutihan", "rehab"])
def test_yes_no_values(tmp_path, column, cell, expected):
    staged_row, errors = staged(tmp_path, **{column: cell})
    assert errors == []
    assert staged_row["written_off" if column == "pemutihan" else "in_rehab"] is expected


@pytest.mark.parametrize(("cell", "expected"), [("0", 0), ("6", 6), ("12", 12), ("24", 24), ("3.0", 3), ("", None)])
def test_instalments_left(tmp_path, cell, expected):
    staged_row, errors = staged(tmp_path, rehab="Y", sisa_cicilan=cell)
    assert errors == []
    assert staged_row["rehab_instalments_left"] == expected


@pytest.mark.parametrize(("column", "cell", "words"), [
    ("pemutihan", "MUNGKIN", "Status pemutihan tidak dikenali"),
    ("pemutihan", "2", "Status pemutihan tidak dikenali"),
    ("rehab", "X", "Status REHAB tidak dikenali"),
    ("sisa_cicilan", "-1", "tidak boleh negatif"),
    ("sisa_cicilan", "tiga", "harus bilangan bulat"),
    ("sisa_cicilan", "2.5", "harus bilangan bulat"),
    ("sisa_cicilan", "25", "tidak wajar: 25"),
])
def test_bad_values_are_row_errors_naming_row_and_column(tmp_path, column, cell, words):
    frame, errors, _warnings = parse(write_csv(tmp_path, [row(1), row(2, **{column: cell})]))
    assert frame.height == 1, "the bad row is left out, the good one kept"
    assert [(e.row, e.column, e.value) for e in errors] == [(3, column, cell)]
    assert words in errors[0].message


def test_xlsx_numbers_and_booleans(tmp_path):
    header = list(BASE)
    cells = [[{"pemutihan": 1.0, "rehab": True, "sisa_cicilan": 4.0}.get(name, value) for name, value in BASE.items()]]
    frame, errors, _warnings = parse(write_xlsx(tmp_path, cells, header=header))
    assert errors == []
    got = frame.row(0, named=True)
    assert (got["written_off"], got["in_rehab"], got["rehab_instalments_left"]) == (True, True, 4)


def test_a_file_without_the_columns_stages_null(tmp_path):
    header = [name for name in BASE if name not in ("pemutihan", "rehab", "sisa_cicilan")]
    frame, errors, _warnings = parse(write_csv(tmp_path, [row(1)], header=header))
    assert errors == []
    got = frame.row(0, named=True)
    assert (got["written_off"], got["in_rehab"], got["rehab_instalments_left"]) == (None, None, None)


@pytest.mark.parametrize("cell", ["PBI", "pbi apbn", "PBI-APBD", "Penerima Bantuan Iuran"])
def test_segment_pbi_means_moved_to_pbi(tmp_path, cell):
    staged_row, errors = staged(tmp_path, segmen=cell)
    assert errors == []
    assert staged_row["segment"] == "PBI"


# --- a real import carries them -------------------------------------------------------------------

def test_an_import_carries_the_columns_into_participant_and_history(branch_a, tmp_path):
    rows = [
        {**line(1), "pemutihan": "Y", "rehab": "", "sisa_cicilan": ""},
        {**line(2), "pemutihan": "TIDAK", "rehab": "YA", "sisa_cicilan": "5"},
        {**line(3), "pemutihan": "", "rehab": "n", "sisa_cicilan": ""},
    ]
    imp = import_rows(branch_a, tmp_path, rows)
    assert (imp.status, imp.valid, imp.error_count) == ("applied", 3, 0)
    got = {p.card_number: (p.written_off, p.in_rehab, p.rehab_instalments_left)
           for p in Participant.all_regencies.all()}
    assert got == {card(1): (True, None, None), card(2): (False, True, 5), card(3): (None, False, None)}
    history = {r.participant.card_number: (r.written_off, r.in_rehab, r.rehab_instalments_left)
               for r in ArrearsRecord.all_regencies.filter(arrears_import=imp).select_related("participant")}
    assert history == got

    # The next list: the newest values win; a list without the columns leaves them unknown (NULL).
    later = [{**line(1)}, {**line(2), "rehab": "Y", "sisa_cicilan": "4"}, {**line(3)}]
    imp2 = import_rows(branch_a, tmp_path, later, as_of=dt.date(2026, 11, 1), name="daftar-nov.csv")
    assert imp2.status == "applied" and imp2.updated == 3
    p2 = Participant.all_regencies.get(card_number=card(2))
    assert (p2.written_off, p2.in_rehab, p2.rehab_instalments_left) == (None, True, 4)
    imp3 = import_rows(branch_a, tmp_path, [line(1), line(2), line(3)], header=HEADER,
                       as_of=dt.date(2026, 12, 1), name="daftar-des.csv")
    assert imp3.status == "applied"
    assert set(Participant.all_regencies.values_list("written_off", "in_rehab", "rehab_instalments_left")) == {
        (None, None, None)}
    assert ArrearsRecord.all_regencies.filter(arrears_import=imp3, written_off__isnull=True).count() == 3


def test_bad_values_are_row_errors_of_the_import(branch_a, tmp_path):
    rows = [{**line(1), "pemutihan": "MUNGKIN"}, {**line(2), "sisa_cicilan": "99"}, {**line(3), "rehab": "Y"}]
    imp = import_rows(branch_a, tmp_path, rows)
    assert (imp.status, imp.valid, imp.invalid) == ("applied", 1, 2)
    assert list(ImportRowError.objects.filter(arrears_import=imp).values_list("row", "column")) == [
        (2, "pemutihan"), (3, "sisa_cicilan")]


# --- the 24-month bill: warnings, not errors -----------------------------------------------------

def test_more_than_24_months_or_above_24_months_of_tariff_is_accepted_with_a_warning(branch_a, tmp_path):
    rows = [
        line(1, months=30, amount=24 * 35_000),          # 30 months listed, 24 billed
        line(2, months=20, amount=24 * 35_000 + 1),      # an amount above 24 months of class III
        line(3, months=24, amount=24 * 35_000),          # exactly 24 months: no warning
        line(4, months=24, amount=24 * 150_000, care_class="1"),  # class I tariff: no warning
        line(5, months=40, amount=40 * 100_000, care_class="2"),  # both
    ]
    imp = import_rows(branch_a, tmp_path, rows, header=HEADER)
    assert (imp.status, imp.valid, imp.invalid, imp.error_count) == ("applied", 5, 0, 0)
    assert Participant.all_regencies.count() == 5
    stored = list(ImportRowWarning.objects.filter(arrears_import=imp).values_list("row", "column", "value"))
    assert stored == [
        (2, "bulan_tunggak", "30"),
        (3, "jumlah_tunggakan", str(24 * 35_000 + 1)),
        (6, "bulan_tunggak", "40"),
        (6, "jumlah_tunggakan", "4000000"),
    ]
    assert imp.warning_count == 4
    assert [(w["row"], w["column"]) for w in imp.warnings] == [(r, c) for r, c, _v in stored]
    assert "30 bulan" in imp.warnings[0]["message"] and "24 bulan" in imp.warnings[0]["message"]
    assert "Rp840.001" in imp.warnings[1]["message"] and "Rp840.000" in imp.warnings[1]["message"]
    assert "Rp2.400.000" in imp.warnings[3]["message"]


def test_the_report_shows_the_warnings_in_the_readers_language(client, branch_a, bpjs_a, tmp_path):
    imp = import_rows(branch_a, tmp_path, [line(1, months=30, amount=24 * 35_000)], header=HEADER)
    client.force_login(bpjs_a)
    url = reverse("import_detail", kwargs={"branch_code": branch_a.code, "import_id": imp.pk})
    indonesian = client.get(url).content.decode()
    assert "Tunggakan 30 bulan, lebih dari 24 bulan" in indonesian
    client.cookies["django_language"] = "en"
    english = client.get(url).content.decode()
    assert "Arrears of 30 months, more than 24 months" in english
    assert "Tunggakan 30 bulan" not in english
    # On a phone each warning is a card whose cells name themselves.
    assert 'data-label="Message"' in english and 'class="table table-cards"' in english


def test_the_tariff_in_force_on_the_list_date_is_the_limit(branch_a, tmp_path):
    from donations.models import Tariff

    Tariff.objects.create(care_class=3, amount=50_000, effective_from=dt.date(2026, 9, 1))
    imp = import_rows(branch_a, tmp_path, [line(1, months=20, amount=24 * 42_000)], header=HEADER)
    assert imp.warning_count == 0  # 1.008.000 <= 24 x 50.000


def test_import_arrears_json_has_the_warnings_and_every_earlier_key(branch_a, tmp_path):
    path = tmp_path / "daftar.csv"
    path.write_text(csv_2026([line(1, months=30, amount=24 * 35_000), line(2)], HEADER), encoding="utf-8")
    out = io.StringIO()
    call_command("import_arrears", str(path), "--branch", "palopo", "--as-of", "2026-10-01", stdout=out,
                 stderr=io.StringIO())
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert set(result) >= {
        "import_id", "status", "rows", "valid", "invalid", "new", "updated", "unchanged", "cleared",
        "regencies", "errors", "error_report", "seconds", "warnings",
    }
    assert result["status"] == "applied" and result["errors"] == []
    assert result["warnings"] == [
        {"row": 2, "column": "bulan_tunggak", "message": result["warnings"][0]["message"]}]
    assert "24 bulan" in result["warnings"][0]["message"]


def test_at_most_50_warnings_are_listed_and_all_are_counted(branch_a, tmp_path):
    rows = [line(n, months=25 + n % 5, amount=24 * 35_000) for n in range(1, 61)]
    imp = import_rows(branch_a, tmp_path, rows, header=HEADER)
    assert imp.warning_count == 60 and len(imp.warnings) == 50
    assert ImportRowWarning.objects.filter(arrears_import=imp).count() == 60


def test_api_summary_and_report_page_show_the_warnings(client, branch_a, bpjs_a, tmp_path):
    imp = import_rows(branch_a, tmp_path, [line(1, months=30, amount=24 * 35_000), line(2)], header=HEADER)
    api = APIClient()
    api.force_authenticate(user=bpjs_a)
    body = api.get(f"/api/v1/imports/{imp.pk}/").json()
    assert body["summary"]["warning_count"] == 1
    assert body["summary"]["warnings"] == [
        {"row": 2, "column": "bulan_tunggak", "message": imp.warnings[0]["message"]}]
    assert body["errors_url"] is None  # a warning is not an error

    client.force_login(bpjs_a)
    html = client.get(reverse("import_detail", kwargs={"branch_code": branch_a.code, "import_id": imp.pk})
                      ).content.decode()
    assert 'data-warnings="1"' in html
    assert imp.warnings[0]["message"] in html


def test_a_rerun_replaces_the_warnings(branch_a, tmp_path):
    from participants.services import _parse_and_stage, _Progress

    imp = import_rows(branch_a, tmp_path, [line(1, months=30, amount=24 * 35_000)], header=HEADER,
                      mode="partial")
    imp.status = "queued"
    imp.save(update_fields=["status"])
    assert _parse_and_stage(imp, list(branch_a.regencies.all()), _Progress(imp.pk), 0.0)
    assert ImportRowWarning.objects.filter(arrears_import=imp).count() == 1


# --- the capped bill ------------------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "tariff", "expected"), [
    (1_050_000, 35_000, 840_000),    # 30 months of class III: 24 billed
    (840_000, 35_000, 840_000),
    (420_000, 35_000, 420_000),
    (5_000_000, 150_000, 3_600_000),
    (1_050_000, None, 1_050_000),   # tariff unknown: as listed
    (0, 35_000, 0),
])
def test_billable_arrears_is_at_most_24_months(amount, tariff, expected):
    assert billable_arrears(Participant(arrears_amount=amount), tariff) == expected


def test_staff_see_the_capped_bill_on_the_participant_page(client, branch_a, admin_a, tmp_path):
    import_rows(branch_a, tmp_path, [line(1, months=30, amount=30 * 35_000), line(2, months=3)], header=HEADER)
    long, short = (Participant.all_regencies.get(card_number=card(n)) for n in (1, 2))
    bill = participant_bill(participant=long)
    assert (bill.capped, bill.billable, bill.monthly_tariff) == (True, 840_000, 35_000)
    assert participant_bill(participant=short).capped is False

    client.force_login(admin_a)
    page = client.get(reverse("participant_detail", kwargs={
        "regency_slug": long.regency.slug, "public_id": long.public_id})).content.decode()
    assert 'data-bill-capped="true"' in page and "Tagihan dibatasi 24 bulan" in page
    assert "Rp840.000" in page
    other = client.get(reverse("participant_detail", kwargs={
        "regency_slug": short.regency.slug, "public_id": short.public_id})).content.decode()
    assert "data-bill-capped" not in other


def test_the_participant_page_says_written_off_rehab_and_pbi(client, branch_a, admin_a, tmp_path):
    rows = [{**line(1), "pemutihan": "Y", "rehab": "Y", "sisa_cicilan": "7", "segmen": "PBI"}]
    import_rows(branch_a, tmp_path, rows)
    p = Participant.all_regencies.get(card_number=card(1))
    assert p.segment == "PBI"
    client.force_login(admin_a)
    page = client.get(reverse("participant_detail", kwargs={
        "regency_slug": p.regency.slug, "public_id": p.public_id})).content.decode()
    assert 'data-written-off="true"' in page and 'data-in-rehab="true"' in page
    assert "sisa 7 cicilan" in page and 'data-moved-to-pbi="true"' in page


def test_the_demo_list_has_a_30_month_row_flagged_and_the_2026_columns(branch_a):
    from participants.demo import seed_participants

    summary = seed_participants(branch=branch_a, per_regency=60, seed=3)
    assert summary["status"] == "applied" and summary["invalid"] == 0
    assert summary["warnings"][0]["column"] == "bulan_tunggak" and "30 bulan" in summary["warnings"][0]["message"]
    long = Participant.all_regencies.filter(months_in_arrears=30)
    assert long.exists()
    assert all(participant_bill(participant=p).capped for p in long)
    # The list of 2026 says pemutihan/REHAB for every family, or leaves it empty (unknown).
    assert Participant.all_regencies.filter(written_off__isnull=False).exists()
    assert Participant.all_regencies.filter(in_rehab__isnull=False).exists()
