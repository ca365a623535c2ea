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
import csv
import datetime as dt
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from bench.management.commands.bench_import import AS_OF, enter_child
from bench.management.commands.bench_import import Command as BenchImport

SECOND_AS_OF = AS_OF + dt.timedelta(days=45)
PAID_ON = AS_OF + dt.timedelta(days=3)


class Command(BaseCommand):
    help = "Benchmark rekonsiliasi pada basis data sementara (ringkasan di stderr, JSON di stdout)."

    def add_arguments(self, parser):
        parser.add_argument("--pledges", type=int, default=200_000)
        parser.add_argument("--rows", type=int, default=200_000)
        parser.add_argument("--branch", default="palopo")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--keep-db", action="store_true", help="keep the scratch database (for EXPLAIN)")
        parser.add_argument("--child", default=None, help="(internal)")

    def handle(self, *args, **options):
        settings.DEBUG = False
        if options["child"]:
            self._child(options)
            return
        if options["pledges"] < 1 or options["rows"] < 1:
            raise CommandError("--pledges dan --rows harus paling sedikit 1.", returncode=2)
        from regencies.reference import BRANCH_BY_CODE

        if options["branch"] not in BRANCH_BY_CODE:
            raise CommandError(f"cabang {options['branch']!r} tidak ada di data referensi", returncode=1)
        self._parent(pledges=options["pledges"], rows=options["rows"], branch=options["branch"],
                     seed=options["seed"], keep=options["keep_db"])

    def _parent(self, *, pledges: int, rows: int, branch: str, seed: int, keep: bool = False) -> None:
        helper = BenchImport(stdout=self.stdout, stderr=self.stderr)  # type: ignore[arg-type]  # an OutputWrapper is a text stream; the stubs want typing.TextIO
        work = Path(tempfile.mkdtemp(prefix="satu-bench-recon-"))
        db_name = f"satu_bench_{os.getpid()}"
        results: dict = {}
        try:
            files = helper._generate(work, rows=rows, fmt="csv", branch=branch, seed=seed)
            second = work / "tunggakan-kedua.csv"
            changes = _second_file(files["csv"], second)
            self.stderr.write(f"berkas kedua: {changes}")
            helper._admin_sql(f'CREATE DATABASE "{db_name}"')
            env = helper._child_env(db_name, work)
            self.stderr.write(f"basis data sementara {db_name}: migrasi ...")
            helper._spawn(["--child", "setup"], env=env, branch=branch)
            results["import_1"] = helper._spawn(
                ["--child", "pipeline", "--file", str(files["csv"]), "--as-of", AS_OF.isoformat()],
                env=env, branch=branch)
            self.stderr.write(f"impor pertama: {results['import_1'].get('seconds')} s")
            results["pledges"] = self._spawn(["--child", "pledges", "--pledges", str(pledges)], env=env)
            self.stderr.write(f"janji dibuat: {results['pledges']}")
            results["import_2"] = helper._spawn(
                ["--child", "pipeline", "--file", str(second), "--as-of", SECOND_AS_OF.isoformat()],
                env=env, branch=branch)
            self.stderr.write(f"impor kedua: {results['import_2'].get('seconds')} s")
            if keep:
                self.stderr.write(f"--keep-db: {db_name} is left as it is before reconciliation")
                return
            results["reconcile"] = self._spawn(["--child", "reconcile"], env=env)
            results["reconcile_again"] = self._spawn(["--child", "reconcile"], env=env)
            results["psql_copy"] = helper._psql_copy(files["csv"], env=env, rows=rows, branch=branch)
        finally:
            if not keep:
                with contextlib.suppress(Exception):
                    helper._admin_sql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            shutil.rmtree(work, ignore_errors=True)
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

    def _spawn(self, args: list[str], *, env: dict) -> dict:
        return BenchImport(stdout=self.stdout, stderr=self.stderr).run_child("bench_reconcile", args, env=env)  # type: ignore[arg-type]  # an OutputWrapper is a text stream; the stubs want typing.TextIO

    # --- children (in the scratch database) ------------------------------------------------

    def _child(self, options) -> None:
        enter_child()
        if options["child"] == "pledges":
            self.stdout.write(json.dumps(_make_pledges(options["pledges"])))
        elif options["child"] == "reconcile":
            from donations.reconciliation.services import reconcile

            with _every_query() as queries:
                result = reconcile(notify=False)
            outcomes = {k: v for k, v in result.items() if k not in ("regencies", "seconds")}
            for seconds, sql in sorted(queries, reverse=True)[:6]:
                self.stderr.write(f"  {seconds:.3f} s  {' '.join(sql.split())[:110]}")
            self.stdout.write(json.dumps({"seconds": result["seconds"], "queries": len(queries),
                                          "regencies": len(result["regencies"]), "outcomes": outcomes}))
        else:
            raise CommandError(f"unknown child {options['child']!r}", returncode=2)


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


def _second_file(first: Path, out: Path) -> dict:
    """The follow-up list: every 2nd row paid off, every 10th absent, every 20th moved to BP."""
    counts = {"rows": 0, "paid_off": 0, "absent": 0, "segment_bp": 0}
    with first.open(newline="", encoding="utf-8") as src, out.open("w", newline="", encoding="utf-8") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        for i, row in enumerate(reader):
            if i % 10 == 9:
                counts["absent"] += 1
                continue
            if i % 20 == 3:
                row["segmen"] = "BP"
                counts["segment_bp"] += 1
            elif i % 2 == 0:
                row["bulan_tunggak"], row["jumlah_tunggakan"], row["status_peserta"] = "0", "0", "AKTIF"
                counts["paid_off"] += 1
            writer.writerow(row)
            counts["rows"] += 1
    return counts


# The pledges' public ids as the app makes them (core.ids.uuid7, version 7: time-ordered), one
# millisecond apart in the order the pledges are made: the time in 48 bits, version 7, random
# bits, variant 10.
_UUID7_SQL = (
    "concat(lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint + b.k), 12, '0'), '7',"
    " substr(md5(random()::text), 1, 3), '8', substr(md5(random()::text), 1, 15))::uuid"
)


def _make_pledges(n: int) -> dict:
    """N pledges in set-based SQL: one public campaign per regency, one donor, a realistic mix."""
    from django.contrib.auth import get_user_model

    from donations.models import Audience, Campaign, CampaignStatus, Kind
    from regencies.models import Regency

    started = time.monotonic()
    donor = get_user_model().objects.create_user(email="donatur.bench@example.test", password=None)
    for regency in Regency.objects.all():
        Campaign.all_regencies.get_or_create(
            slug=f"bench-{regency.slug}", defaults={
                "regency": regency, "title": f"Bench {regency.name}", "audience": Audience.PUBLIC,
                "kind": Kind.BOTH, "status": CampaignStatus.ACTIVE})
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bench_pick AS "
            "SELECT p.id, p.regency_id, p.arrears_amount, p.months_in_arrears, p.last_import_id, p.as_of, "
            "       p.segment, row_number() OVER (ORDER BY p.id) AS k "
            "FROM participants_participant p ORDER BY p.id LIMIT %s", [n])
        cur.execute(
            "INSERT INTO donations_pledge (regency_id, public_id, campaign_id, participant_id, donor_id, is_pooled,"
            " status, amount, arrears_amount, months_in_arrears, monthly_tariff, months_ahead, arrears_import_id,"
            " as_of, segment, expires_at, pledged_at, paid_at, release_reason, created_at, updated_at,"
            " payment_code, paid_amount, lapse_notices, quoted_on, covers_until) "
            "SELECT b.regency_id, " + _UUID7_SQL + ", c.id, b.id, %(donor)s, false,"
            " CASE WHEN b.k %% 5 IN (0, 1) THEN 'paid' WHEN b.k %% 5 IN (2, 3) THEN 'pledged' ELSE 'reserved' END,"
            " b.arrears_amount + 35000, b.arrears_amount, b.months_in_arrears, 35000, 0, b.last_import_id, b.as_of,"
            " b.segment, CASE WHEN b.k %% 5 = 4 THEN now() + interval '3 days' END,"
            " CASE WHEN b.k %% 5 <> 4 THEN now() END, CASE WHEN b.k %% 5 IN (0, 1) THEN now() END, '', now(), now(),"
            " 'SB' || b.id, CASE WHEN b.k %% 5 IN (0, 1) THEN b.arrears_amount + 35000 ELSE 0 END, 0,"
            " b.as_of, date_trunc('month', b.as_of)::date "
            "FROM bench_pick b JOIN donations_campaign c ON c.regency_id = b.regency_id AND c.slug LIKE 'bench-%%'",
            {"donor": donor.pk})
        pledges = cur.rowcount
        cur.execute(
            "INSERT INTO donations_payment (regency_id, pledge_id, amount, reference, paid_on, receipt,"
            " receipt_content_type, recorded_by_id, created_at, source, receipt_number) "
            "SELECT p.regency_id, p.id, p.amount, 'VA-' || p.id, %(paid_on)s, '', '', %(donor)s, now(), 'donor',"
            " 'KW/B/' || p.id "
            "FROM donations_pledge p WHERE p.status = 'paid'",
            {"paid_on": PAID_ON, "donor": donor.pk})
        payments = cur.rowcount
        cur.execute("ANALYZE donations_pledge; ANALYZE donations_payment")
    return {"pledges": pledges, "payments": payments, "seconds": round(time.monotonic() - started, 3)}
