"""`manage.py seed_demo [--participants N]`: the demo tenants, users and data (dev/test only).

Progress and a short summary for people on stderr; the last line of stdout is one JSON object
(for scripts; `make run` keeps it in var/seed_demo.json instead of the console). Exit 0 ok,
1 refused, 2 bad arguments.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.arguments import non_negative_int
from core.errors import DomainError
from reporting.demo import demo_seed


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
        progress(human_summary(summary))
        self.stdout.write(json.dumps(summary, ensure_ascii=False, default=str))


def human_summary(summary: dict[str, Any]) -> str:
    """A few lines a person reads at a glance (the JSON on stdout holds every detail)."""
    lines = [
        f"Selesai: {summary['regencies']} kabupaten/kota, {summary['branches']} cabang, "
        f"{summary['users']} pengguna demo."
    ]
    imports = [
        f"{code} {part['rows']} baris ({part['status']})"
        for code, part in summary.get("participants", {}).items() if part.get("rows")
    ]
    if imports:
        lines.append(f"  daftar tunggakan: {', '.join(imports)}")
    approved = sum(a.get("approved", 0) for a in summary.get("assessments", {}).values())
    if summary.get("assessments"):
        lines.append(f"  asesmen disetujui (layak): {approved}")
    campaigns = summary.get("campaigns", {})
    if campaigns.get("campaigns"):
        pledges = campaigns.get("pledges") or {}
        counted = "; janji donasi: " + ", ".join(f"{slug} {n}" for slug, n in pledges.items()) if pledges else ""
        lines.append(f"  kampanye: {', '.join(campaigns['campaigns'])}{counted}")
    lines.append(f"  kata sandi semua pengguna demo: {summary['password']}; rahasia TOTP (kecuali "
                 f"donatur): {summary['totp_secret']}")
    return "\n".join(lines)

