"""`manage.py history_partitions list [--exact]`
`manage.py history_partitions ensure [--months N]`
`manage.py history_partitions detach --before YYYY-MM [--archive-dir DIR] [--drop --yes] [--force]`

The arrears history by list month (participants.partitions):

- `list`: every month's partition (attached or detached), the DEFAULT partition, rows (the
  planner's estimate; `--exact` counts) and bytes.
- `ensure`: the current month's partition and the next N (default
  HISTORY_PARTITION_MONTHS_AHEAD), and one for each month found in the DEFAULT partition (its
  rows moved there): what the monthly beat job does.
- `detach`: the months before `--before` leave the table; with `--archive-dir` each is written
  to `DIR/<table>.csv.gz` (COPY, CSV with a header); `--drop` (with `--yes`, and only with an
  archive) drops them afterwards. The current month and later ones are never touched. A month
  that holds the newest record of some participant is refused unless `--force`.

Progress on stderr, one JSON line on stdout. Exit 0 done, 1 refused, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from participants import partitions


def _month(value: str) -> dt.date:
    """`YYYY-MM` -> the first of that month (argparse type: a bad value exits 2)."""
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 (a calendar month, no time)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bulan harus berbentuk YYYY-MM, bukan {value!r}") from exc


class Command(BaseCommand):
    help = "Partisi riwayat tunggakan per bulan daftar: lihat, siapkan, lepas dan arsipkan."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="bulan, baris, ukuran")
        listing.add_argument("--exact", action="store_true", help="hitung baris (bukan perkiraan)")
        ensure = sub.add_parser("ensure", help="siapkan partisi bulan ini dan N bulan berikutnya")
        ensure.add_argument("--months", type=int, default=None, help="berapa bulan ke depan")
        detach = sub.add_parser("detach", help="lepas (dan arsipkan) bulan-bulan sebelum --before")
        detach.add_argument("--before", type=_month, required=True, metavar="YYYY-MM")
        detach.add_argument("--archive-dir", type=Path, default=None, metavar="DIR")
        detach.add_argument("--drop", action="store_true", help="hapus tabel bulan itu setelah diarsipkan")
        detach.add_argument("--yes", action="store_true", help="konfirmasi --drop")
        detach.add_argument("--force", action="store_true",
                            help="lepas juga bulan yang masih memuat catatan terbaru peserta")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list(exact=options["exact"])
        elif action == "ensure":
            months = options["months"]
            if months is None:
                months = settings.HISTORY_PARTITION_MONTHS_AHEAD
            if months < 0:
                raise CommandError("--months tidak boleh negatif", returncode=2)
            made = sorted(partitions.history_partitions_ensure_ahead(months=months)
                          + partitions.history_partitions_from_default())
            self.stderr.write(f"{len(made)} partisi dibuat")
            self._emit({"ok": True, "made": [m.strftime("%Y-%m") for m in made]})
        else:
            self._detach(options)

    def _list(self, *, exact: bool) -> None:
        found = partitions.history_partitions(exact=exact)
        for p in found:
            month = p.month.strftime("%Y-%m") if p.month else "default"
            state = "" if p.attached else "  (dilepas)"
            rows = f"{p.rows:>12,}" + ("" if p.rows_exact else "~")
            self.stderr.write(f"{month:<8} {rows:<14} {p.bytes / 1_048_576:>10.1f} MB  {p.name}{state}")
        self._emit({"ok": True, "partitions": [p.as_json() for p in found]})

    def _detach(self, options: dict[str, Any]) -> None:
        before: dt.date = options["before"]
        if before > partitions.current_month():
            raise CommandError(
                f"--before {before:%Y-%m} melewati bulan berjalan {partitions.current_month():%Y-%m}: "
                "bulan berjalan dan sesudahnya tidak pernah dilepas", returncode=2)
        if options["drop"] and not options["yes"]:
            raise CommandError("--drop menghapus data: tambahkan --yes untuk mengonfirmasi", returncode=2)
        if options["drop"] and options["archive_dir"] is None:
            raise CommandError("--drop memerlukan --archive-dir: bulan dihapus hanya setelah diarsipkan",
                               returncode=2)
        try:
            done = partitions.history_detach(
                before=before, archive_dir=options["archive_dir"], drop=options["drop"],
                force=options["force"], progress=self.stderr.write,
            )
        except partitions.DetachRefused as exc:
            self._emit({"ok": False, "refused": str(exc)})
            raise CommandError(f"ditolak: {exc}", returncode=1) from exc
        self.stderr.write(f"{len(done)} bulan diproses")
        self._emit({"ok": True, "months": [d.as_json() for d in done]})

    def _emit(self, payload: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(payload, ensure_ascii=False))
