"""`manage.py import_arrears PATH --branch CODE [--as-of YYYY-MM-DD] [--mode full|partial] [--user EMAIL]`

Runs the whole import in the foreground (no Celery). Progress on stderr; the
last stdout line is the import's summary as JSON (`import_summary`). Exit 0 applied/duplicate,
1 rejected/failed or an unknown branch/file/user, 2 bad arguments.

A full list applies at once (the command never waits for a confirmation); what it
did to the branch is printed first, as the browser would have asked about it:
`"preview": {"would_clear", "would_clear_by_regency", "pledges_released"}` in the
JSON and a line on stderr. A run interrupted by the database going away is run
again once (as the sweeper would), then the import is `failed`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import NoReturn

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from core.time import regency_today
from participants import services
from participants.models import ArrearsImport, ImportMode, ImportStatus
from regencies.models import BpjsBranch


class Command(BaseCommand):
    help = "Impor daftar tunggakan cabang BPJS (CSV/XLSX) di latar depan."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--branch", required=True, help="kode cabang, mis. palopo")
        parser.add_argument("--as-of", dest="as_of", default=None, help="YYYY-MM-DD")
        parser.add_argument("--mode", default=ImportMode.FULL, help="full (default) atau partial")
        parser.add_argument("--user", default=None, help="e-mail pengunggah (untuk jejak audit)")

    def handle(self, *args, **options):
        # Never keep every query in memory, whatever DEBUG says.
        settings.DEBUG = False
        started = time.monotonic()
        mode = options["mode"]
        if mode not in ImportMode.values:
            self._fail(f"--mode harus full atau partial, bukan {mode!r}.", status="error", code=2)
        as_of = None
        if options["as_of"]:
            try:
                as_of = dt.date.fromisoformat(options["as_of"])
            except ValueError:
                self._fail(
                    f"--as-of harus berbentuk YYYY-MM-DD, bukan {options['as_of']!r}.", status="error", code=2
                )
        branch = BpjsBranch.objects.filter(code=options["branch"]).first()
        if branch is None:
            self._fail(f"Cabang {options['branch']!r} tidak ada.", status="rejected", code=1)
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(email__iexact=options["user"]).first()
            if user is None:
                self._fail(f"Pengguna {options['user']!r} tidak ada.", status="rejected", code=1)
        if as_of is None:
            as_of = regency_today(branch)

        try:
            arrears_import, duplicate = services.import_create(
                branch=branch, actor=user, uploaded_file=options["path"], as_of=as_of, mode=mode,
                enqueue=False,
            )
        except DomainError as exc:
            self._fail(str(exc.detail), status="rejected", code=1)
        if duplicate:
            self.stderr.write(
                f"Berkas yang sama sudah diimpor (impor #{arrears_import.pk}, {arrears_import.status}); "
                "tidak ada yang diterapkan."
            )
            summary = services.import_summary(arrears_import)
            summary.update(status="duplicate", seconds=round(time.monotonic() - started, 3))
            self._emit(summary)
            return

        self.stderr.write(f"Impor #{arrears_import.pk}: {options['path']} (cabang {branch.code}, {as_of}, {mode})")
        import_id = arrears_import.pk
        for _round in range(services.MAX_ATTEMPTS + 1):
            try:
                arrears_import = services.import_run(import_id=import_id, on_progress=self._progress)
            except Exception as exc:  # the import is marked failed or queued again; say so
                self.stderr.write(f"Gagal: {type(exc).__name__}: {exc}")
                arrears_import = self._reload(import_id)
            if arrears_import.status != ImportStatus.QUEUED:
                break
            self.stderr.write(arrears_import.message or "Diulang.")
            time.sleep(1)
        if arrears_import.preview:
            self._print_preview(arrears_import.preview)
        summary = services.import_summary(arrears_import)
        summary["seconds"] = round(time.monotonic() - started, 3)
        if arrears_import.message:
            self.stderr.write(arrears_import.message)
        self.stderr.write(
            f"{arrears_import.status}: {arrears_import.rows} baris, {arrears_import.valid} valid, "
            f"{arrears_import.invalid} tidak valid; baru {arrears_import.new}, berubah "
            f"{arrears_import.updated}, tetap {arrears_import.unchanged}, keluar {arrears_import.cleared}"
        )
        self._emit(summary)
        if arrears_import.status != ImportStatus.APPLIED:
            raise CommandError(arrears_import.message or arrears_import.status, returncode=1)

    def _reload(self, import_id: int) -> ArrearsImport:
        from django.db import connection

        connection.close()  # the database may have gone away under the run
        return ArrearsImport.objects.get(pk=import_id)

    def _print_preview(self, preview: dict) -> None:
        regencies = ", ".join(f"{code}: {n}" for code, n in (preview.get("would_clear_by_regency") or {}).items())
        self.stderr.write(
            f"Pratinjau daftar lengkap: {preview.get('would_clear', 0)} dari {preview.get('participants', 0)} "
            f"peserta keluar dari daftar ({regencies or '-'}); "
            f"{preview.get('pledges_released', 0)} janji donasi aktif dilepas."
        )

    def _progress(self, pct: int, phase: str) -> None:
        self.stderr.write(f"  {pct:3d}% {phase}")

    def _emit(self, payload: dict) -> None:
        self.stdout.write(json.dumps(payload, ensure_ascii=False, default=str))

    def _fail(self, message: str, *, status: str, code: int) -> NoReturn:
        # The same shape as every other outcome, so that tools reading the last line need no special case.
        self._emit({
            "import_id": None, "status": status, "rows": 0, "valid": 0, "invalid": 0, "new": 0,
            "updated": 0, "unchanged": 0, "cleared": 0, "regencies": {},
            "errors": [{"row": 0, "column": "", "message": message}], "error_report": None,
            "seconds": 0.0, "message": message, "detail": message,
        })
        raise CommandError(message, returncode=code)
