"""`manage.py rebuild_pledge_tallies`

Recomputes the pledge tallies (`donations.models.PledgeTally`, `CoverTally`) and the unfinished
pledges reconciliation decides (`UnfinishedPledge`) from the pledges. The database keeps them with
every pledge statement, so this is a repair, for when `check_integrity` reports `money:pledge_tally`,
`money:cover_tally` or `money:unfinished_pledges`. Pledge writes wait meanwhile (one
transaction). The last stdout line is JSON `{"differed": n, "differ": 0, "seconds"}`. Exit 0.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand

from donations import tallies


class Command(BaseCommand):
    help = "Hitung ulang rekap janji donasi (per kampanye dan status, peserta tertanggung) dari janji itu sendiri."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        differed = tallies.differences()
        tallies.rebuild()
        differ = tallies.differences()
        self.stderr.write(f"{differed} baris rekap berbeda sebelum dihitung ulang, {differ} sesudahnya")
        self.stdout.write(json.dumps({"differed": differed, "differ": differ,
                                      "seconds": round(time.monotonic() - started, 3)}))
