"""`manage.py bench_screening [--rows R] [--pledges N] [--branch palopo] [--seed S]`

The screening benchmark: what the worker spends after an applied import before the
assessors' queue is up to date. On a SCRATCH database (`satu_bench_<pid>`, migrated, dropped
at the end; the app's data and broker are never touched), with bench_import's helpers:
  1. a generated R-row arrears file (default 200,000) through the real import pipeline;
  2. N pledges (default 20,000) as bench_reconcile makes them (40 % paid, with a payment);
  3. bench_reconcile's second list, 45 days later: 1 in 2 rows paid off, 1 in 10 absent,
     1 in 20 moved to segment BP;
  4. the first list again, 80 days after the first: everyone back in arrears, so those who
     paid off in between relapsed (the `pays_when_sick` rule has work to do);
  5. screening after the last import, every regency of the branch, timed, with its query
     count; then the same again (a re-run).
Progress on stderr; the JSON is the last stdout line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time

from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.management.commands.bench_import import AS_OF
from bench.management.commands.bench_reconcile import SECOND_AS_OF, _make_pledges
from bench.scratch import ScratchCommand, scratch_run

THIRD_AS_OF = AS_OF + dt.timedelta(days=80)


class Command(ScratchCommand):
    help = "Benchmark penyaringan setelah impor pada basis data sementara (JSON di stdout)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--rows", type=int, default=200_000)
        parser.add_argument("--pledges", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=1)

    def check_arguments(self, options):
        if options["rows"] < 1 or options["pledges"] < 0:
            raise CommandError("--rows harus paling sedikit 1 dan --pledges tidak negatif.", returncode=2)

    def parent(self, options):
        self._parent(rows=options["rows"], pledges=options["pledges"], branch=options["branch"],
                     seed=options["seed"])

    def _parent(self, *, rows: int, pledges: int, branch: str, seed: int) -> None:
        results: dict = {}
        with scratch_run(self, prefix="satu-bench-screening-", rows=rows, branch=branch, seed=seed) as run:
            lists = ((run.files["csv"], AS_OF), (run.second, SECOND_AS_OF), (run.files["again"], THIRD_AS_OF))
            for number, (path, as_of) in enumerate(lists, start=1):
                imported = run.helper._spawn(
                    ["--child", "pipeline", "--file", str(path), "--as-of", as_of.isoformat()],
                    env=run.env, branch=branch)
                self.stderr.write(f"impor {number} ({as_of}): {imported.get('seconds')} s")
                if number == 1 and pledges:
                    made = self._spawn(["--child", "pledges", "--pledges", str(pledges)], env=run.env)
                    self.stderr.write(f"janji dibuat: {made.get('pledges')}")
            results["screening"] = self._spawn(["--child", "screen"], env=run.env)
            results["screening_again"] = self._spawn(["--child", "screen"], env=run.env)
        first, again = results["screening"], results["screening_again"]
        payload = {
            "rows": rows, "pledges": pledges, "cpus": os.cpu_count(),
            "screening_seconds": first["seconds"], "screening_queries": first["queries"],
            "screening_again_seconds": again["seconds"], "screening_again_queries": again["queries"],
            "queue": first["queue"], "flags": first["flags"], "regency_seconds": first["regency_seconds"],
            "peak_rss_mb": first.get("peak_rss_mb"),
        }
        self.stderr.write(
            f"penyaringan: {payload['screening_seconds']} s, {payload['screening_queries']} kueri, "
            f"antrean {payload['queue']}; ulang: {payload['screening_again_seconds']} s")
        self.stdout.write(json.dumps(payload))

    # --- children (in the scratch database) ------------------------------------------------

    def step_pledges(self, options) -> dict:
        return _make_pledges(options["pledges"])

    def step_screen(self, options) -> dict:
        return _screen_latest_import()


def _screen_latest_import() -> dict:
    """What the worker's task does after an import, timed, with its query count."""
    from assessments.screening import screening_run_for_import
    from participants.models import ArrearsImport

    latest = ArrearsImport.objects.filter(status="applied").order_by("-as_of", "-id").first()
    if latest is None:
        raise CommandError("no applied import to screen")
    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        result = screening_run_for_import(import_id=latest.pk)
    seconds = time.monotonic() - started
    regencies = result["regencies"].values()
    flags: dict[str, int] = {}
    for summary in regencies:
        for code, count in summary["flags"].items():
            flags[code] = flags.get(code, 0) + count
    return {
        "seconds": round(seconds, 3), "queries": len(queries),
        "queue": sum(summary["screened"] for summary in regencies),
        "flags": flags,
        "regency_seconds": {summary["regency"]: summary["seconds"] for summary in regencies},
    }
