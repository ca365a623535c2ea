"""Helpers for the import tests: small arrears files as CSV text, and running them."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from participants.services import import_create, import_run

HEADER = (
    "no_kartu", "nik", "nama", "tgl_lahir", "jenis_kelamin", "no_kk", "hubungan_keluarga", "kelas",
    "segmen", "kode_wilayah", "kecamatan", "desa", "alamat", "bulan_tunggak", "jumlah_tunggakan",
    "tgl_bayar_terakhir", "status_peserta",
)


def card(n: int) -> str:
    return f"{n:013d}"


def line(
    n: int,
    *,
    code: str = "73.22.01.2001",
    kecamatan: str = "Masamba",
    desa: str = "Baloli",
    months: int = 3,
    amount: int | None = None,
    kk: str | None = None,
    name: str | None = None,
    care_class: str = "3",
    status: str = "TIDAK AKTIF",
    card_number: str | None = None,
) -> dict[str, str]:
    return {
        "no_kartu": card_number or card(n),
        "nik": f"73220141019{n:05d}",
        "nama": name or f"PESERTA {n}",
        "tgl_lahir": "01-01-1990",
        "jenis_kelamin": "P",
        "no_kk": kk or f"73220101012{n:05d}",
        "hubungan_keluarga": "PESERTA",
        "kelas": care_class,
        "segmen": "PBPU",
        "kode_wilayah": code,
        "kecamatan": kecamatan,
        "desa": desa,
        "alamat": "Jl. Poros",
        "bulan_tunggak": str(months),
        "jumlah_tunggakan": str(35_000 * months if amount is None else amount),
        "tgl_bayar_terakhir": "10-01-2026" if months else "",
        "status_peserta": status,
    }


def csv_text(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_file(tmp_path: Path, rows: list[dict[str, str]], name: str = "daftar.csv") -> Path:
    path = tmp_path / name
    path.write_text(csv_text(rows), encoding="utf-8")
    return path


def run_import(
    branch,
    tmp_path: Path,
    rows: list[dict[str, str]],
    *,
    as_of: dt.date = dt.date(2026, 10, 1),
    mode: str = "full",
    name: str | None = None,
    actor=None,
):
    path = write_file(tmp_path, rows, name or f"daftar-{as_of.isoformat()}-{mode}.csv")
    arrears_import, duplicate = import_create(
        branch=branch, actor=actor, uploaded_file=path, as_of=as_of, mode=mode, enqueue=False
    )
    assert not duplicate
    return import_run(import_id=arrears_import.pk)
