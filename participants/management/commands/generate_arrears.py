"""`manage.py generate_arrears --branch CODE --rows N --out PATH [--format csv|xlsx] [--seed S]
[--as-of YYYY-MM-DD] [--delimiter , | ;] [--aliases] [--columns-2026]`

A synthetic, realistic arrears file for the branch's regencies (participants/imports/generate.py).
The branch's regencies come from the database when the branch exists there, else from
regencies/reference.py. Progress on stderr; the last stdout line is the JSON summary.
Exit 0 written, 1 unknown branch, 2 bad arguments.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from participants.imports.generate import RegencySpec, generate_arrears_file, regency_spec
from regencies.reference import BRANCH_BY_CODE, REGENCY_BY_CODE


def branch_regencies(code: str) -> list[RegencySpec] | None:
    """The branch's regencies with districts: the database first, then the reference data."""
    try:
        from regencies.models import BpjsBranch, District

        branch = BpjsBranch.objects.filter(code=code).first()
        if branch is not None:
            specs = []
            for regency in branch.regencies.order_by("code"):
                ref = REGENCY_BY_CODE.get(regency.code)
                if ref is not None:
                    names: list[str] = list(ref.districts)
                else:
                    names = list(
                        District.all_regencies.filter(regency=regency).order_by("code", "name")
                        .values_list("name", flat=True)
                    )
                specs.append(regency_spec(code=regency.code, name=regency.name, kind=regency.kind,
                                          district_names=names))
            if specs:
                return specs
    except DatabaseError:
        pass  # no database (or not migrated): the reference data still knows the demo branches
    ref_branch = BRANCH_BY_CODE.get(code)
    if ref_branch is None:
        return None
    return [
        regency_spec(code=r.code, name=r.name, kind=r.kind, district_names=r.districts)
        for r in (REGENCY_BY_CODE[c] for c in ref_branch.regency_codes)
    ]


class Command(BaseCommand):
    help = "Membuat berkas tunggakan sintetis (CSV/XLSX) untuk wilayah sebuah cabang BPJS."
    requires_system_checks: list[str] = []  # a file generator: URL/admin checks are not its business

    def add_arguments(self, parser):
        parser.add_argument("--branch", required=True, help="kode cabang, mis. palopo")
        parser.add_argument("--rows", required=True, type=int, help="jumlah baris peserta")
        parser.add_argument("--out", required=True, help="berkas keluaran")
        parser.add_argument("--format", dest="fmt", choices=("csv", "xlsx"), default=None,
                            help="csv (bawaan, atau dari akhiran --out) atau xlsx")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--as-of", dest="as_of", default=None, help="YYYY-MM-DD (bawaan: hari ini)")
        parser.add_argument("--delimiter", default=",", help="pemisah CSV: , (bawaan) atau ;")
        parser.add_argument("--aliases", action="store_true",
                            help="judul kolom alias/berantakan dan bentuk nilai yang beragam (untuk uji)")
        parser.add_argument("--columns-2026", dest="columns_2026", action="store_true",
                            help="juga kolom pemutihan, rehab dan sisa_cicilan (aturan 2026), dan satu "
                                 "keluarga dengan tunggakan 30 bulan")

    def handle(self, *args, **options):
        rows = options["rows"]
        if rows < 1:
            raise CommandError(f"--rows harus paling sedikit 1, bukan {rows}.", returncode=2)
        out = Path(options["out"])
        fmt = options["fmt"] or ("xlsx" if out.suffix.lower() == ".xlsx" else "csv")
        delimiter = {"tab": "\t", "\\t": "\t"}.get(options["delimiter"], options["delimiter"])
        if delimiter not in {",", ";", "\t"}:
            raise CommandError(f"--delimiter harus , atau ; (atau tab), bukan {delimiter!r}.", returncode=2)
        if options["as_of"]:
            try:
                as_of = dt.date.fromisoformat(options["as_of"])
            except ValueError:
                raise CommandError(
                    f"--as-of harus berbentuk YYYY-MM-DD, bukan {options['as_of']!r}.", returncode=2
                ) from None
        else:
            as_of = timezone.localdate()
        if not out.parent.is_dir():
            raise CommandError(f"Folder {out.parent} tidak ada.", returncode=2)
        regencies = branch_regencies(options["branch"])
        if regencies is None:
            self.stdout.write(json.dumps({"path": None, "branch": options["branch"],
                                          "detail": "unknown branch"}))
            raise CommandError(f"Cabang {options['branch']!r} tidak dikenal.", returncode=1)

        started = time.monotonic()
        self.stderr.write(
            f"Membuat {rows} baris ({fmt}) untuk cabang {options['branch']}: "
            + ", ".join(f"{r.code} {r.name}" for r in regencies)
        )
        result = generate_arrears_file(
            regencies=regencies, branch=options["branch"], rows=rows, out=out, fmt=fmt,
            seed=options["seed"], as_of=as_of, delimiter=delimiter, aliases=options["aliases"],
            columns_2026=options["columns_2026"],
            progress=lambda n: self.stderr.write(f"  {n} baris"),
        )
        self.stderr.write(f"Selesai: {result.rows} baris, {result.families} keluarga, "
                          f"{time.monotonic() - started:.1f} detik -> {out}")
        self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
