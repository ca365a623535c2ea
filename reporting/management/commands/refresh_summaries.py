"""`manage.py refresh_summaries [--regency CODE ...]`

Recomputes every regency's summary, its districts and its trend (the nightly job does the same):
one transaction per regency, set-based. Progress on stderr; the last stdout line is JSON
`{"regencies": {code: in_arrears}, "seconds"}`. Exit 0; 2 for a regency code that does not exist.
"""

from __future__ import annotations

import json
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from regencies.models import Regency
from reporting.summaries import summaries_refresh_all


class Command(BaseCommand):
    help = "Hitung ulang ringkasan dasbor (per kabupaten/kota, kecamatan, dan tren per bulan daftar)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--regency", action="append", default=None, metavar="CODE",
                            help="kode kabupaten/kota (boleh berulang); tanpa ini: semuanya")

    def handle(self, *args: Any, **options: Any) -> None:
        codes = options["regency"]
        if codes:
            known = set(Regency.objects.filter(code__in=codes).values_list("code", flat=True))
            unknown = sorted(set(codes) - known)
            if unknown:
                raise CommandError(f"Kode kabupaten/kota tidak dikenal: {', '.join(unknown)}", returncode=2)
        started = time.monotonic()
        done = summaries_refresh_all(regency_codes=codes)
        for code, in_arrears in done.items():
            self.stderr.write(f"{code}: {in_arrears} peserta menunggak")
        self.stdout.write(json.dumps({"regencies": done, "seconds": round(time.monotonic() - started, 3)}))
