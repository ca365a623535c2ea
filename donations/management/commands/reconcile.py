"""`manage.py reconcile [--regency CODE]`: reconciliation in the foreground (no Celery).

Progress on stderr; the LAST stdout line is one JSON object with the counts per outcome:
`{"regencies": {"73.22": {...}}, "verified": n, "disputed": n, "released_cleared_by_other": n,
"released_left_segment": n, "unchanged": n, "anomalies": n, "seconds": s}`.
Exit 0 done, 1 unknown regency, 2 bad arguments. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.errors import NotFound
from donations.models import ReconciliationTrigger
from donations.reconciliation.rules import OUTCOMES
from donations.reconciliation.services import reconcile

_CODE = re.compile(r"^\d{2}\.\d{2}$")


class Command(BaseCommand):
    help = "Rekonsiliasi janji donasi dengan impor tunggakan terbaru (semua atau satu kabupaten/kota)."

    def add_arguments(self, parser):
        parser.add_argument("--regency", default=None, help="kode kabupaten/kota, mis. 73.22")

    def handle(self, *args, **options):
        settings.DEBUG = False
        code = options["regency"]
        if code is not None and not _CODE.match(code.strip()):
            self._fail(f"--regency harus kode kabupaten/kota seperti 73.22, bukan {code!r}.", code=2)
        try:
            result = reconcile(regency_code=code.strip() if code else None, trigger=ReconciliationTrigger.MANUAL,
                               on_progress=lambda c: self.stderr.write(f"Rekonsiliasi {c} ..."))
        except NotFound as exc:
            self._fail(str(exc.detail), code=1)
        for regency_code, counts in result["regencies"].items():
            self.stderr.write(f"  {regency_code}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        self._emit(result)

    def _emit(self, payload: dict) -> None:
        self.stdout.write(json.dumps(payload, ensure_ascii=False, default=str))

    def _fail(self, message: str, *, code: int):
        self._emit({"regencies": {}, **dict.fromkeys(OUTCOMES, 0), "anomalies": 0, "seconds": 0.0,
                    "detail": message})
        raise CommandError(message, returncode=code)
