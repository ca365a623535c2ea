"""`manage.py import_arrears`: the JSON last line and the exit codes of CONTRACT.md."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from participants.models import ArrearsImport, Participant
from tests.participants.importing import line, write_file

pytestmark = pytest.mark.django_db

KEYS = {
    "import_id", "status", "rows", "valid", "invalid", "new", "updated", "unchanged", "cleared",
    "regencies", "errors", "error_report", "seconds",
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def run(*args) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("import_arrears", *args, stdout=out, stderr=err)
    except CommandError as exc:
        code = exc.returncode
    lines = out.getvalue().strip().splitlines()
    return code, json.loads(lines[-1]), err.getvalue()


def test_applied_import_prints_the_contract_json(branch_a, bpjs_a, tmp_path):
    path = write_file(tmp_path, [line(1), line(2, code="73.17", kecamatan="Belopa", desa="Sabe"), line(1)])

    code, result, err = run(str(path), "--branch", "palopo", "--as-of", "2026-10-01", "--user", bpjs_a.email)

    assert code == 0
    assert set(result) >= KEYS
    assert result["status"] == "applied"
    assert (result["rows"], result["valid"], result["invalid"]) == (3, 2, 1)
    assert (result["new"], result["updated"], result["unchanged"], result["cleared"]) == (2, 0, 0, 0)
    assert result["regencies"] == {"73.22": 1, "73.17": 1}
    assert result["errors"] == [
        {"row": 4, "column": "no_kartu", "message": result["errors"][0]["message"]}
    ]
    assert Path(result["error_report"]).is_file()
    assert "%" in err
    imp = ArrearsImport.objects.get(pk=result["import_id"])
    assert imp.uploaded_by == bpjs_a and imp.mode == "full"


def test_the_same_file_again_is_a_duplicate_with_the_first_id(branch_a, tmp_path):
    path = write_file(tmp_path, [line(1)])
    _code, first, _err = run(str(path), "--branch", "palopo", "--as-of", "2026-10-01")

    code, again, _err = run(str(path), "--branch", "palopo", "--as-of", "2026-11-01", "--mode", "partial")

    assert code == 0
    assert again["status"] == "duplicate" and again["import_id"] == first["import_id"]
    assert again["error_report"] is None
    assert ArrearsImport.objects.count() == 1


def test_partial_mode_and_default_as_of(branch_a, tmp_path):
    run(str(write_file(tmp_path, [line(1), line(2)], "a.csv")), "--branch", "palopo", "--as-of", "2026-01-01")
    code, result, _err = run(str(write_file(tmp_path, [line(2)], "b.csv")), "--branch", "palopo", "--mode", "partial")
    assert code == 0 and result["cleared"] == 0
    imp = ArrearsImport.objects.get(pk=result["import_id"])
    assert imp.mode == "partial" and imp.as_of.year >= 2026


@pytest.mark.parametrize(
    "extra",
    [["--as-of", "01-10-2026"], ["--as-of", "2026-13-01"], ["--mode", "semua"]],
)
def test_bad_arguments_exit_2(branch_a, tmp_path, extra):
    code, result, _err = run(str(write_file(tmp_path, [line(1)])), "--branch", "palopo", *extra)
    assert code == 2
    assert result["status"] == "error"
    assert ArrearsImport.objects.count() == 0


def test_unknown_branch_file_or_user_exit_1(branch_a, tmp_path):
    path = str(write_file(tmp_path, [line(1)]))
    assert run(path, "--branch", "tidak-ada")[0] == 1
    assert run(str(tmp_path / "hilang.csv"), "--branch", "palopo")[0] == 1
    assert run(path, "--branch", "palopo", "--user", "siapa@example.test")[0] == 1
    assert ArrearsImport.objects.count() == 0


def test_a_rejected_file_exits_1_and_applies_nothing(branch_a, tmp_path):
    path = tmp_path / "salah.csv"
    path.write_text("nama,alamat\nANDI,Jl. Poros\n", encoding="utf-8")

    code, result, _err = run(str(path), "--branch", "palopo")

    assert code == 1
    assert result["status"] == "rejected"
    assert result["errors"][0]["row"] == 0
    assert Participant.all_regencies.count() == 0


def test_a_generated_file_imports_cleanly(branch_a, tmp_path):
    out = tmp_path / "gen.csv"
    call_command(
        "generate_arrears", "--branch", "palopo", "--rows", "120", "--out", str(out), "--seed", "5",
        "--as-of", "2026-10-01", stdout=io.StringIO(), stderr=io.StringIO(),
    )
    code, result, _err = run(str(out), "--branch", "palopo", "--as-of", "2026-10-01")

    assert code == 0
    assert (result["rows"], result["valid"], result["invalid"], result["new"]) == (120, 120, 0, 120)
    assert sum(result["regencies"].values()) == 120


@pytest.mark.parametrize(
    ("args", "expected_code", "fragment"),
    [
        (["--branch", "palopo"], 1, "kosong"),
        (["--branch", "tidak-ada"], 1, "tidak-ada"),
        (["--branch", "palopo", "--as-of", "2026-99-01"], 2, "YYYY-MM-DD"),
        (["--branch", "palopo", "--mode", "semua"], 2, "semua"),
    ],
)
def test_refusals_print_the_same_json_shape(branch_a, tmp_path, args, expected_code, fragment):
    empty = tmp_path / "kosong.csv"
    empty.write_bytes(b"")
    code, payload, _err = run(str(empty), *args)
    assert code == expected_code
    assert payload.keys() >= KEYS
    assert payload["import_id"] is None
    assert fragment in payload["errors"][0]["message"]
    assert ArrearsImport.objects.count() == 0
