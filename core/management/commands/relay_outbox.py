"""`manage.py relay_outbox [--limit N] [--loop SECONDS]`

Sends the outbox's unsent tasks to Celery, oldest first (core.outbox.relay); needs the broker,
not a worker. Progress on stderr; the last stdout line is JSON
`{"sent", "waiting", "broker": "ok"|"down"}`. Exit 0 when the broker took every row it was
offered, 1 when the broker is unreachable (the rows wait; nothing is lost).
`--loop SECONDS` repeats until interrupted (an operator's stand-in for beat).
"""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand

from core import outbox


class Command(BaseCommand):
    help = "Kirim tugas outbox yang belum terkirim ke antrean Celery (yang tertua dahulu)."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="paling banyak N pesan per putaran")
        parser.add_argument("--loop", type=float, default=None, metavar="SECONDS",
                            help="ulangi setiap SECONDS detik sampai dihentikan")

    def handle(self, *args, **options):
        while True:
            result = outbox.relay(limit=options["limit"], grace_seconds=0)
            self.stderr.write(
                f"outbox: {result['sent']} terkirim, {result['waiting']} menunggu, broker {result['broker']}"
            )
            if options["loop"] is None:
                break
            try:
                time.sleep(options["loop"])
            except KeyboardInterrupt:
                break
        self.stdout.write(json.dumps(result))
        if result["broker"] != "ok":
            raise SystemExit(1)
