"""`manage.py check_integrity [--json] [--check NAME ...]`

Runs the integrity checks (core.integrity): orphans behind the foreign keys without database
constraints, rows whose regency differs from their parent's, and the money ledger. One query per
check, whatever the number of rows. One line per check on stderr (with `--json`, only the
failures and the summary); the last stdout line is JSON
`{"ok": bool, "checks": {name: bad_rows}, "seconds"}`. Exit 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from core import integrity


class Command(BaseCommand):
    help = "Periksa integritas data: rujukan yatim, kabupaten/kota yang tidak cocok, dan buku kas."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="hanya JSON di stdout; stderr hanya yang gagal")
        parser.add_argument("--check", action="append", default=None, metavar="NAME",
                            help="jalankan pemeriksaan ini saja (boleh berulang)")

    def handle(self, *args, **options):
        report = integrity.run(only=options["check"])
        for name, count in report.checks.items():
            if count:
                self.stderr.write(f"GAGAL {name}: {count} baris ({report.descriptions[name]})")
            elif not options["json"]:
                self.stderr.write(f"ok    {name}")
        self.stderr.write(f"{len(report.checks)} pemeriksaan, {len(report.failed)} gagal, {report.seconds:.2f} detik")
        self.stdout.write(json.dumps(report.as_json()))
        if not report.ok:
            raise SystemExit(1)
