"""`manage.py demo_list --branch CODE [--new N] [--out PATH] [--seed S]` (demo data, dev and test only).

Writes a partial arrears list for trying the upload on the demo (donations.demo_list): N new
participants and a few existing ones with one more month in arrears, nobody with a pledge or an
assessment. Upload it as "Sebagian" (partial): the demo's pledges and assessments stay.
Progress on stderr; the last stdout line is JSON. Exit 0 written, 1 unknown branch or demo data
disabled, 2 bad arguments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.arguments import non_negative_int
from donations.demo_list import demo_list_write


class Command(BaseCommand):
    help = "Demo: daftar tunggakan sebagian (peserta baru + beberapa diperbarui) yang tidak merusak data demo."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--branch", required=True, help="kode cabang, mis. palopo")
        parser.add_argument("--new", type=non_negative_int, default=200, metavar="N",
                            help="jumlah peserta baru (bawaan 200; 200000 untuk melihat bilah kemajuan)")
        parser.add_argument("--out", default=None,
                            help="berkas keluaran (bawaan var/demo/daftar-sebagian-<cabang>.csv)")
        parser.add_argument("--seed", type=int, default=7, help="benih acak peserta baru")

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "ENABLE_DEMO_DATA", False):
            self._fail("Data demo dinonaktifkan di lingkungan ini (ENABLE_DEMO_DATA=False).")
        branch = options["branch"]
        out = Path(options["out"] or Path(settings.BASE_DIR) / "var" / "demo" / f"daftar-sebagian-{branch}.csv")
        self.stderr.write(f"Daftar sebagian untuk cabang {branch} ...")
        try:
            result = demo_list_write(branch_code=branch, out=out, new_rows=options["new"], seed=options["seed"])
        except LookupError:
            self._fail(f"Cabang {branch!r} tidak ada (jalankan seed_demo dahulu).")
        self.stderr.write(
            f"{result['path']}: {result['new']} peserta baru, {result['updated']} diperbarui. "
            f"Unggah di /branches/{branch}/imports/ sebagai \"Sebagian\" (per {result['as_of']})."
        )
        self.stdout.write(json.dumps(result, ensure_ascii=False))

    def _fail(self, message: str) -> NoReturn:
        self.stdout.write(json.dumps({"path": None, "detail": message}, ensure_ascii=False))
        raise CommandError(message, returncode=1)
