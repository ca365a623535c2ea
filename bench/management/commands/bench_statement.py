"""`manage.py bench_statement --lines N [--branch palopo]`

The bank statement benchmark. On a SCRATCH database (`satu_bench_<pid>`, migrated,
dropped at the end; the app's data is never touched), reusing bench_import's helpers (scratch
database, child processes with a private broker, `psql \\copy` timing):
  1. one regency of the branch, a collected-route campaign and N confirmed pledges on N
     participants, written in set-based SQL;
  2. an N-line statement CSV (`tanggal,keterangan,kredit,referensi`), each line paying one pledge
     in full (`TRF ... <payment code> ...`, amounts written `1.250.000`);
  3. the statement uploaded and processed (`statement_process`: parse, COPY, match, record),
     timed, with the number of queries it sent;
  4. `psql \\copy` of the same file into a 4-column table, three times: the ratio divides by the
     fastest.
Progress on stderr; the JSON is the last stdout line.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from django.core.management.base import CommandError
from django.db import connection
from psycopg2 import sql

from bench.management.commands.bench_import import Command as BenchImport
from bench.management.commands.bench_reconcile import _every_query
from bench.scratch import ScratchCommand

CAMPAIGN = "bench-asn"
LINE_DATE = "20-11-2026"


class Command(ScratchCommand):
    help = "Benchmark pencocokan mutasi rekening pada basis data sementara (ringkasan di stderr, JSON di stdout)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--lines", type=int, default=100_000)
        parser.add_argument("--file", default=None, help="(internal)")

    def check_arguments(self, options):
        if options["lines"] < 1:
            raise CommandError("--lines harus paling sedikit 1.", returncode=2)

    def parent(self, options):
        self._parent(lines=options["lines"], branch=options["branch"])

    def _parent(self, *, lines: int, branch: str) -> None:
        helper = BenchImport(stdout=self.stdout, stderr=self.stderr)  # type: ignore[arg-type]  # an OutputWrapper is a text stream; the stubs want typing.TextIO
        work = Path(tempfile.mkdtemp(prefix="satu-bench-statement-"))
        db_name = f"satu_bench_{os.getpid()}"
        statement_csv = work / "mutasi.csv"
        try:
            helper._admin_sql(f'CREATE DATABASE "{db_name}"')
            env = helper._child_env(db_name, work)
            self.stderr.write(f"basis data sementara {db_name}: migrasi ...")
            helper._spawn(["--child", "setup"], env=env, branch=branch)
            seed = self._spawn(["--lines", str(lines), "--child", "seed", "--file", str(statement_csv)], env=env)
            self.stderr.write(f"janji dan mutasi dibuat: {seed}")
            process = self._spawn(["--child", "process", "--file", str(statement_csv)], env=env)
            self.stderr.write(f"mutasi diproses: {process['seconds']} s, {process['queries']} kueri")
            copies = []
            psql = shutil.which("psql") or "/usr/bin/psql"
            cmd = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                   f"\\copy bench_statement_copy FROM '{statement_csv}' WITH (FORMAT csv, HEADER true)"]
            for _ in range(3):
                self._spawn(["--child", "copy_table"], env=env)
                copies.append(helper._run_measured(cmd, env=env)["process_seconds"])
        finally:
            with contextlib.suppress(Exception):
                helper._admin_sql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            shutil.rmtree(work, ignore_errors=True)
        copy = min(copies)
        payload = {
            "lines": process["lines"], "matched": process["matched"], "unmatched": process["unmatched"],
            "duplicates": process["duplicates"], "errors": process["errors"], "status": process["status"],
            "seconds": process["seconds"], "queries": process["queries"],
            "upload_seconds": process["upload_seconds"], "commit_seconds": process.get("commit_seconds"),
            "file_bytes": seed["file_bytes"],
            "psql_copy_seconds": copy, "psql_copy_each_seconds": copies,
            "ratio_vs_psql_copy": round(process["seconds"] / copy, 1) if copy else None,
            "peak_rss_mb": process.get("peak_rss_mb"), "cpus": os.cpu_count(),
        }
        self.stderr.write(
            f"mutasi {payload['lines']} baris: {payload['matched']} cocok, {payload['seconds']} s, "
            f"{payload['queries']} kueri; psql \\copy {copy} s -> {payload['ratio_vs_psql_copy']}x")
        self.stdout.write(json.dumps(payload))

    # --- children (in the scratch database) ------------------------------------------------

    def step_seed(self, options) -> dict:
        return _seed(options["lines"], Path(options["file"]))

    def step_process(self, options) -> dict:
        return self._process(Path(options["file"]))

    def step_copy_table(self, options) -> dict:
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS bench_statement_copy")
            cur.execute("CREATE TABLE bench_statement_copy (tanggal text, keterangan text, kredit text, "
                        "referensi text)")
        return {}

    def _process(self, path: Path) -> dict:
        from donations.models import Campaign
        from donations.money.statements.services import statement_process, statement_upload

        campaign = Campaign.all_regencies.select_related("regency").get(slug=CAMPAIGN)
        started = time.monotonic()
        statement = statement_upload(regency=campaign.regency, campaign=campaign, actor=None, file=path,
                                     enqueue=False)
        uploaded = time.monotonic()
        commits: list[float] = []
        original_commit = connection._commit  # type: ignore[attr-defined]  # private: not in the stubs

        def timed_commit():  # the deferred foreign-key checks of the apply run here
            began = time.monotonic()
            try:
                return original_commit()
            finally:
                commits.append(time.monotonic() - began)

        connection._commit = timed_commit  # type: ignore[attr-defined]
        try:
            with _every_query() as queries:
                statement = statement_process(statement_id=statement.pk)
        finally:
            connection._commit = original_commit  # type: ignore[attr-defined]
        seconds = time.monotonic() - uploaded
        self.stderr.write(f"  commits: {', '.join(f'{c:.3f}' for c in commits)} s; "
                          f"queries: {sum(q[0] for q in queries):.3f} s")
        for took, text in sorted(queries, reverse=True)[:8]:
            self.stderr.write(f"  {took:.3f} s  {' '.join(text.split())[:110]}")
        return {"status": statement.status, "lines": statement.lines, "matched": statement.matched,
                "unmatched": statement.unmatched, "duplicates": statement.duplicates,
                "errors": len(statement.errors), "seconds": round(seconds, 3), "queries": len(queries),
                "upload_seconds": round(uploaded - started, 3), "commit_seconds": round(max(commits, default=0), 3)}


# A payment code per pledge, unique: k scrambled by a bijection of 32-bit integers (Knuth's
# multiplicative hash), its 8 hex digits mapped onto 16 letters of the code alphabet.
_CODE_SQL = sql.SQL("'SU' || translate(upper(lpad(to_hex(((b.k * 2654435761) %% 4294967296)::bigint), 8, '0')),"
                    " '0123456789ABCDEF', 'ABCDEFGHJKLMNPQR')")


def _seed(n: int, out: Path) -> dict:
    """N participants and N confirmed pledges of one collected campaign (SQL), and the statement."""
    from django.contrib.auth import get_user_model

    from donations.models import (
        Audience,
        Campaign,
        CampaignStatus,
        Kind,
        PaymentRoute,
        Pledge,
        PledgeStatus,
    )
    from participants.models import BpjsStatus, Participant, ParticipantStatus, Segment
    from regencies.models import Regency

    started = time.monotonic()
    regency = Regency.objects.order_by("code").first()
    if regency is None:
        raise CommandError("no regency to put the campaign in: seed the database first")
    donor = get_user_model().objects.create_user(email="donatur.bench@example.test", password=None)
    campaign = Campaign.objects.create(
        regency=regency, slug=CAMPAIGN, title="Bench ASN Peduli", audience=Audience.INTERNAL, kind=Kind.ONE_TO_ONE,
        status=CampaignStatus.ACTIVE, payment_route=PaymentRoute.COLLECTED, bank_name="Bank Bench",
        account_number="0011223344", account_holder="Pemda Bench")
    # The tables through sql.Identifier, from the models; the enums' values as parameters.
    participant, pledge = sql.Identifier(Participant._meta.db_table), sql.Identifier(Pledge._meta.db_table)
    values = {"pbpu": Segment.PBPU.value, "bpjs_inactive": BpjsStatus.INACTIVE.value,
              "inactive": ParticipantStatus.INACTIVE.value, "pledged": PledgeStatus.PLEDGED.value}
    with connection.cursor() as cur:
        cur.execute(sql.SQL(
            "INSERT INTO {participant} (regency_id, public_id, card_number, nik, name, sex, relationship,"
            " care_class, segment, address, months_in_arrears, arrears_amount, bpjs_status, status, created_at,"
            " updated_at) "
            "SELECT %(regency)s, gen_random_uuid(), lpad(k::text, 13, '0'), '7322' || lpad(k::text, 12, '0'),"
            " 'Peserta ' || k, '', '', 3, %(pbpu)s, '', 6, 210000 + (k %% 7) * 35000, %(bpjs_inactive)s, %(inactive)s,"
            " now(), now() FROM generate_series(1, %(n)s) AS k"
        ).format(participant=participant), {**values, "regency": regency.pk, "n": n})
        cur.execute(sql.SQL(
            "CREATE TEMP TABLE bench_pick AS SELECT id, arrears_amount, row_number() OVER (ORDER BY id) AS k "
            "FROM {} WHERE regency_id = %s").format(participant), [regency.pk])
        cur.execute(sql.SQL(
            "INSERT INTO {pledge} (regency_id, public_id, campaign_id, participant_id, donor_id, is_pooled,"
            " status, amount, arrears_amount, months_in_arrears, monthly_tariff, months_ahead, segment, payment_code,"
            " paid_amount, lapse_notices, pledged_at, due_at, release_reason, created_at, updated_at) "
            "SELECT %(regency)s, gen_random_uuid(), %(campaign)s, b.id, %(donor)s, false, %(pledged)s,"
            " b.arrears_amount + 35000, b.arrears_amount, 6, 35000, 0, %(pbpu)s, {code}, 0, 0,"
            " now(), now() + interval '14 days', '', now(), now() FROM bench_pick b"
        ).format(pledge=pledge, code=_CODE_SQL),
            {**values, "regency": regency.pk, "campaign": campaign.pk, "donor": donor.pk})
        pledges = cur.rowcount
        cur.execute(sql.SQL("ANALYZE {}; ANALYZE {}").format(participant, pledge))
        cur.execute(sql.SQL("SELECT id, payment_code, amount FROM {} WHERE campaign_id = %s ORDER BY id").format(pledge),
                    [campaign.pk])
        rows = cur.fetchall()
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tanggal", "keterangan", "kredit", "referensi"])
        for i, (_pk, code, amount) in enumerate(rows, start=1):
            writer.writerow([LINE_DATE, f"TRF DARI DONATUR {i} {code} ASN PEDULI", f"{amount:,}".replace(",", "."),
                             f"FT{i:012d}"])
    return {"pledges": pledges, "file_bytes": out.stat().st_size, "seconds": round(time.monotonic() - started, 3)}
