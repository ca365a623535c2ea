"""`manage.py demo_second_import --branch palopo [--user EMAIL]` (demo data, dev and test only).

Writes a follow-up arrears list from the branch's current participants (most paid demo pledges
paid off, the one paid longest ago still in arrears -> disputed, one unpaid pledge's participant
paid off by someone else -> released) and imports it through the real pipeline; reconciliation
follows. Progress on stderr; the last stdout line is JSON. Exit 0 done, 1 unknown branch or demo
data disabled, 2 bad arguments."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from donations.demo import second_import


class Command(BaseCommand):
    help = "Demo: impor lanjutan cabang (dari peserta saat ini) lalu rekonsiliasi."

    def add_arguments(self, parser):
        parser.add_argument("--branch", required=True, help="kode cabang, mis. palopo")
        parser.add_argument("--user", default=None, help="e-mail pengunggah (untuk jejak audit)")

    def handle(self, *args, **options):
        if not getattr(settings, "ENABLE_DEMO_DATA", False):
            self._fail("Data demo dinonaktifkan di lingkungan ini (ENABLE_DEMO_DATA=False).", code=1)
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(email__iexact=options["user"]).first()
            if actor is None:
                self._fail(f"Pengguna {options['user']!r} tidak ada.", code=1)
        self.stderr.write(f"Impor lanjutan untuk cabang {options['branch']} ...")
        try:
            result = second_import(branch_code=options["branch"], actor=actor)
        except LookupError:
            self._fail(f"Cabang {options['branch']!r} tidak ada.", code=1)
        self.stderr.write(f"impor #{result['import_id']} ({result['status']}, per {result['as_of']}); "
                          f"rekonsiliasi: {result['reconciliation']['verified']} terverifikasi, "
                          f"{result['reconciliation']['disputed']} dipersoalkan, "
                          f"{result['reconciliation']['released_cleared_by_other']} dilepas")
        self.stdout.write(json.dumps(result, ensure_ascii=False, default=str))

    def _fail(self, message: str, *, code: int):
        self.stdout.write(json.dumps({"import_id": None, "status": "error", "detail": message}, ensure_ascii=False))
        raise CommandError(message, returncode=code)
