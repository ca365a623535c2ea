"""`manage.py seed_demo [--participants N]`: the demo tenants, users and data (dev/test only).

Progress on stderr; the last line of stdout is one JSON object. Exit 0 ok, 1 refused,
2 bad arguments.
"""

from __future__ import annotations

import argparse
import json

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from reporting.demo import demo_seed


def non_negative_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"harus bilangan bulat 0 atau lebih, bukan {raw!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"harus bilangan bulat 0 atau lebih, bukan {value}")
    return value


class Command(BaseCommand):
    help = "Create the demo tenants, branches, users and participants (idempotent; never in production)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--participants", type=non_negative_int, default=300, metavar="N",
            help="participants per regency in each branch's demo import (default 300; 0 = none)",
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="random seed of the generated participants",
        )

    def handle(self, *args, participants: int, seed: int, **options):
        def progress(message: str) -> None:
            self.stderr.write(message)

        try:
            summary = demo_seed(participants=participants, seed=seed, progress=progress)
        except DomainError as exc:
            self.stdout.write(json.dumps({"detail": str(exc.detail), "code": exc.code}))
            raise CommandError(str(exc.detail), returncode=1) from exc
        progress(
            f"Selesai: {summary['regencies']} kabupaten/kota, {summary['branches']} cabang, "
            f"{summary['users']} pengguna demo (kata sandi: {summary['password']}; "
            f"rahasia TOTP kecuali donatur: {summary['totp_secret']})."
        )
        self.stdout.write(json.dumps(summary, ensure_ascii=False, default=str))

