"""`manage.py bench_reconcile --pledges N [--rows R] [--branch palopo] [--seed S]`

The reconciliation benchmark. On a SCRATCH database (`satu_bench_<pid>`, migrated,
dropped at the end; the app's data is never touched), reusing bench_import's helpers
(file generation, scratch database, child processes, `psql \\copy` timing):
  1. a generated R-row arrears file (default 200,000) through the real import pipeline;
  2. N pledges (default 200,000) created set-based in SQL on its participants: a realistic mix
     of 40 % paid (with a payment), 40 % pledged, 20 % reserved, one public campaign per regency;
  3. a second full list, as of 45 days later, derived from the first: 1 in 2 rows paid off
     (zero arrears), 1 in 10 rows absent, 1 in 20 rows moved to segment BP, the rest unchanged;
     imported through the real pipeline;
  4. reconciliation of every regency, timed, with its query count (on every connection: the
     regencies run on parallel connections, `RECONCILIATION_WORKERS`); then the same again;
  5. `psql \\copy` of the first file, three times, for the ratio to the fastest.
Progress on stderr; the JSON is the last stdout line.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
import time

from django.core.management.base import CommandError
from django.db import connection

from bench.management.commands.bench_import import AS_OF
from bench.scratch import ScratchCommand, bench_campaigns, insert_pledges, scratch_run

SECOND_AS_OF = AS_OF + dt.timedelta(days=45)
PAID_ON = AS_OF + dt.timedelta(days=3)


class Command(ScratchCommand):
    help = "Benchmark rekonsiliasi pada basis data sementara (ringkasan di stderr, JSON di stdout)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--pledges", type=int, default=200_000)
        parser.add_argument("--rows", type=int, default=200_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--keep-db", action="store_true", help="keep the scratch database (for EXPLAIN)")

    def check_arguments(self, options):
        if options["pledges"] < 1 or options["rows"] < 1:
            raise CommandError("--pledges dan --rows harus paling sedikit 1.", returncode=2)

    def parent(self, options):
        self._parent(pledges=options["pledges"], rows=options["rows"], branch=options["branch"],
                     seed=options["seed"], keep=options["keep_db"])

    def _parent(self, *, pledges: int, rows: int, branch: str, seed: int, keep: bool = False) -> None:
        results: dict = {}
        with scratch_run(self, prefix="satu-bench-recon-", rows=rows, branch=branch, seed=seed,
                         keep=keep) as run:
            helper, env = run.helper, run.env
            self.stderr.write(f"berkas kedua: {run.changes}")
            results["import_1"] = helper._spawn(
                ["--child", "pipeline", "--file", str(run.files["csv"]), "--as-of", AS_OF.isoformat()],
                env=env, branch=branch)
            self.stderr.write(f"impor pertama: {results['import_1'].get('seconds')} s")
            results["pledges"] = self._spawn(["--child", "pledges", "--pledges", str(pledges)], env=env)
            self.stderr.write(f"janji dibuat: {results['pledges']}")
            results["import_2"] = helper._spawn(
                ["--child", "pipeline", "--file", str(run.second), "--as-of", SECOND_AS_OF.isoformat()],
                env=env, branch=branch)
            self.stderr.write(f"impor kedua: {results['import_2'].get('seconds')} s")
            if keep:
                self.stderr.write(f"--keep-db: {run.db_name} is left as it is before reconciliation")
                return
            results["reconcile"] = self._spawn(["--child", "reconcile"], env=env)
            results["reconcile_again"] = self._spawn(["--child", "reconcile"], env=env)
            results["psql_copy"] = helper._psql_copy(run.files["csv"], env=env, rows=rows, branch=branch)
        recon, copy = results["reconcile"], results["psql_copy"]["seconds"]
        payload = {
            "pledges": results["pledges"].get("pledges"), "rows": rows, "cpus": os.cpu_count(),
            "reconcile_seconds": recon["seconds"], "reconcile_queries": recon["queries"],
            "reconcile_again_seconds": results["reconcile_again"]["seconds"],
            "reconcile_again_queries": results["reconcile_again"]["queries"],
            "outcomes": recon["outcomes"], "again_outcomes": results["reconcile_again"]["outcomes"],
            "psql_copy_seconds": copy, "psql_copy_each_seconds": results["psql_copy"]["each_seconds"],
            "ratio_vs_psql_copy": round(recon["seconds"] / copy, 1) if copy else None,
            "import_1_seconds": results["import_1"].get("seconds"),
            "import_2_seconds": results["import_2"].get("seconds"),
            "peak_rss_mb": recon.get("peak_rss_mb"),
        }
        self.stderr.write(
            f"rekonsiliasi: {payload['reconcile_seconds']} s, {payload['reconcile_queries']} kueri; "
            f"ulang: {payload['reconcile_again_seconds']} s, {payload['reconcile_again_queries']} kueri; "
            f"psql \\copy {copy} s -> {payload['ratio_vs_psql_copy']}x")
        self.stdout.write(json.dumps(payload))

    # --- children (in the scratch database) ------------------------------------------------

    def step_pledges(self, options) -> dict:
        return _make_pledges(options["pledges"])

    def step_reconcile(self, options) -> dict:
        from donations.reconciliation.services import reconcile

        with _every_query() as queries:
            result = reconcile(notify=False)
        outcomes = {k: v for k, v in result.items() if k not in ("regencies", "seconds")}
        for seconds, sql in sorted(queries, reverse=True)[:6]:
            self.stderr.write(f"  {seconds:.3f} s  {' '.join(sql.split())[:110]}")
        return {"seconds": result["seconds"], "queries": len(queries),
                "regencies": len(result["regencies"]), "outcomes": outcomes}


@contextlib.contextmanager
def _every_query():
    """`(seconds, sql)` of every query on every connection opened meanwhile: reconciliation runs
    regencies on threads with their own connections, which `CaptureQueriesContext` would miss."""
    from django.db import connections
    from django.db.backends.signals import connection_created

    captured: list[tuple[float, str]] = []
    lock = threading.Lock()

    def timed(execute, sql, params, many, context):
        started = time.monotonic()
        try:
            return execute(sql, params, many, context)
        finally:
            with lock:
                # a statement composed with psycopg2.sql comes as a Composed: its text
                text = sql if isinstance(sql, str) else sql.as_string(context["connection"].connection)
                captured.append((time.monotonic() - started, text))

    def attach(sender, connection, **kwargs):
        if timed not in connection.execute_wrappers:
            connection.execute_wrappers.append(timed)

    connection_created.connect(attach)
    attach(None, connections["default"])
    try:
        yield captured
    finally:
        connection_created.disconnect(attach)
        with contextlib.suppress(ValueError):
            connections["default"].execute_wrappers.remove(timed)


def _make_pledges(n: int) -> dict:
    """N pledges in set-based SQL: one public campaign per regency, one donor, a realistic mix."""
    from django.contrib.auth import get_user_model

    started = time.monotonic()
    donor = get_user_model().objects.create_user(email="donatur.bench@example.test", password=None)
    bench_campaigns("bench")
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bench_pick AS "
            "SELECT p.id, p.regency_id, p.arrears_amount, p.months_in_arrears, p.last_import_id, p.as_of, "
            "       p.segment, row_number() OVER (ORDER BY p.id) AS k "
            "FROM participants_participant p ORDER BY p.id LIMIT %s", [n])
        pledges, payments = insert_pledges(cur, pick="bench_pick", campaigns="bench", donor_id=donor.pk,
                                           payment_code="'SB' || b.id", receipt_prefix="KW/B/",
                                           paid_on=PAID_ON)
        cur.execute("ANALYZE donations_pledge; ANALYZE donations_payment")
    return {"pledges": pledges, "payments": payments, "seconds": round(time.monotonic() - started, 3)}
