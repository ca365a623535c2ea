"""`manage.py import_statement PATH --regency SLUG --campaign SLUG [--user EMAIL]`

Stores a bank statement of a collected-route campaign and processes it in the foreground (no
Celery): the same `statement_process` the upload's task runs. Progress on stderr; the last stdout
line is the statement's summary as JSON (`statement_summary`). Exit 0 done, 1 rejected (the file, or an unknown
regency/campaign/user, or a campaign that is not collected), 2 bad arguments.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import NoReturn

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from donations.models import Campaign, StatementStatus
from donations.money.statements.selectors import statement_summary
from donations.money.statements.services import statement_process, statement_upload
from regencies.models import Regency


class Command(BaseCommand):
    help = "Cocokkan mutasi rekening penampung (CSV/XLSX) sebuah kampanye di latar depan."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--regency", required=True, help="slug kabupaten/kota, mis. luwu-utara")
        parser.add_argument("--campaign", required=True, help="slug kampanye (cara bayar: rekening penampung)")
        parser.add_argument("--user", default=None, help="e-mail pengunggah (bendahara/admin Pemda)")

    def handle(self, *args, **options):
        settings.DEBUG = False  # never keep every query in memory
        started = time.monotonic()
        path = Path(options["path"])
        if not path.is_file():
            self._fail(f"Berkas {path} tidak ditemukan.", code=2)
        regency = Regency.objects.filter(slug=options["regency"]).first()
        if regency is None:
            self._fail(f"Kabupaten/kota {options['regency']!r} tidak ada.", code=1)
        campaign = Campaign.objects.for_regency(regency).filter(slug=options["campaign"]).first()
        if campaign is None:
            self._fail(f"Kampanye {options['campaign']!r} tidak ada di {regency.name}.", code=1)
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(email__iexact=options["user"]).first()
            if user is None:
                self._fail(f"Pengguna {options['user']!r} tidak ada.", code=1)
        try:
            statement = statement_upload(regency=regency, campaign=campaign, actor=user, file=path, enqueue=False)
        except DomainError as exc:
            self._fail(str(exc.detail), code=1)
        self.stderr.write(f"Mutasi #{statement.pk}: {path} ({regency.slug}, {campaign.slug}) ...")
        statement = statement_process(statement_id=statement.pk)
        payload = statement_summary(statement)
        payload["statement_id"] = payload.pop("id")
        payload["seconds"] = round(time.monotonic() - started, 3)
        for error in statement.errors[:20]:
            self.stderr.write(f"  baris {error.get('row')}: {error.get('column')}: {error.get('message')}")
        if len(statement.errors) > 20:
            self.stderr.write(f"  ... dan {len(statement.errors) - 20} kesalahan lagi")
        self.stderr.write(
            f"{statement.status}: {statement.lines} baris kredit, {statement.matched} cocok, "
            f"{statement.unmatched} tidak cocok, {statement.duplicates} sudah tercatat, "
            f"{len(statement.errors)} kesalahan")
        self._emit(payload)
        if statement.status != StatementStatus.DONE:
            raise CommandError(statement.errors[0]["message"] if statement.errors else statement.status, returncode=1)

    def _emit(self, payload: dict) -> None:
        self.stdout.write(json.dumps(payload, ensure_ascii=False, default=str))

    def _fail(self, message: str, *, code: int) -> NoReturn:
        # The same shape as every other outcome: tools reading the last line need no special case.
        self._emit({"statement_id": None, "status": "rejected" if code == 1 else "error", "lines": 0, "matched": 0,
                    "unmatched": 0, "duplicates": 0, "errors": [{"row": 0, "column": "", "message": message}]})
        raise CommandError(message, returncode=code)
