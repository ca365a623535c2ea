"""What the scratch-database benchmarks (bench_reconcile, bench_screening, bench_year) share:
the branch check of their arguments, the run that prepares a migrated scratch database from a
generated list, the follow-up list derived from it, and the pledges with payments they make in
set-based SQL."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg2 import sql

from bench.management.commands.bench_import import Command as BenchImport
from bench.management.commands.bench_import import enter_child


def check_branch(branch: str) -> None:
    """A branch of the reference data, or the command stops (exit code 1)."""
    from regencies.reference import BRANCH_BY_CODE

    if branch not in BRANCH_BY_CODE:
        raise CommandError(f"cabang {branch!r} tidak ada di data referensi", returncode=1)


class ScratchCommand(BaseCommand):
    """A benchmark whose steps run as children of itself on the scratch database
    (`manage.py <command> --child <step>`): the method `step_<step>(options)` is the child and
    returns what it measured, printed as JSON on its last stdout line. The parent checks the
    arguments (`check_arguments`, then the branch) and runs `parent(options)`."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--branch", default="palopo")
        parser.add_argument("--child", default=None, help="(internal)")

    def handle(self, *args: Any, **options: Any) -> None:
        settings.DEBUG = False
        if options["child"]:
            self._child(options)
            return
        self.check_arguments(options)
        check_branch(options["branch"])
        self.parent(options)

    def check_arguments(self, options: dict[str, Any]) -> None:
        """Raise CommandError (exit code 2) for arguments out of range."""

    def parent(self, options: dict[str, Any]) -> None:
        raise NotImplementedError

    def _spawn(self, args: list[str], *, env: dict) -> dict:
        """A child of this command with `args` on the scratch database (`env`): its JSON."""
        command = type(self).__module__.rsplit(".", 1)[-1]
        return BenchImport(stdout=self.stdout, stderr=self.stderr).run_child(command, args, env=env)  # type: ignore[arg-type]  # an OutputWrapper is a text stream; the stubs want typing.TextIO

    def _child(self, options: dict[str, Any]) -> None:
        enter_child()
        step = getattr(self, f"step_{options['child']}", None)
        if step is None:
            raise CommandError(f"unknown child {options['child']!r}", returncode=2)
        self.stdout.write(json.dumps(step(options)))


@dataclass
class Scratch:
    helper: BenchImport
    db_name: str
    env: dict[str, str]
    files: dict[str, Any]  # bench_import's generated files: "csv", "again" (the same rows, other bytes)
    second: Path  # the follow-up list (second_file)
    changes: dict[str, int]  # what the follow-up list changed


@contextlib.contextmanager
def scratch_run(command: BaseCommand, *, prefix: str, rows: int, branch: str, seed: int,
                keep: bool = False) -> Iterator[Scratch]:
    """A generated R-row list of `branch`, its follow-up list, and a migrated scratch database
    (`satu_bench_<pid>`) for the children; the database (unless `keep`) and the files are gone
    afterwards, whatever happens."""
    helper = BenchImport(stdout=command.stdout, stderr=command.stderr)  # type: ignore[arg-type]  # an OutputWrapper is a text stream; the stubs want typing.TextIO
    work = Path(tempfile.mkdtemp(prefix=prefix))
    db_name = f"satu_bench_{os.getpid()}"
    try:
        files = helper._generate(work, rows=rows, fmt="csv", branch=branch, seed=seed)
        second = work / "tunggakan-kedua.csv"
        changes = second_file(files["csv"], second)
        helper._admin_sql(f'CREATE DATABASE "{db_name}"')
        env = helper._child_env(db_name, work)
        command.stderr.write(f"basis data sementara {db_name}: migrasi ...")
        helper._spawn(["--child", "setup"], env=env, branch=branch)
        yield Scratch(helper=helper, db_name=db_name, env=env, files=files, second=second, changes=changes)
    finally:
        if not keep:
            with contextlib.suppress(Exception):
                helper._admin_sql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


def second_file(first: Path, out: Path) -> dict[str, int]:
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
UUID7_SQL = (
    "concat(lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint + b.k), 12, '0'), '7',"
    " substr(md5(random()::text), 1, 3), '8', substr(md5(random()::text), 1, 15))::uuid"
)


def bench_campaigns(prefix: str) -> None:
    """One active public campaign per regency, slug `<prefix>-<regency slug>` (kept if it exists)."""
    from donations.models import Audience, Campaign, CampaignStatus, Kind
    from regencies.models import Regency

    for regency in Regency.objects.all():
        Campaign.all_regencies.get_or_create(
            slug=f"{prefix}-{regency.slug}", defaults={
                "regency": regency, "title": f"Bench {regency.name}", "audience": Audience.PUBLIC,
                "kind": Kind.BOTH, "status": CampaignStatus.ACTIVE})


def insert_pledges(cur: Any, *, pick: str, campaigns: str, donor_id: int, payment_code: str,
                   receipt_prefix: str, paid_on: dt.date, at: dt.datetime | None = None,
                   windows: dict[int, int] | None = None, params: dict[str, Any] | None = None,
                   ) -> tuple[int, int]:
    """A pledge of `donor_id` for each participant of the temporary table `pick` (its columns: id,
    regency_id, arrears_amount, months_in_arrears, last_import_id, as_of, segment and k, the
    pledge's number) on its regency's `bench_campaigns(campaigns)` campaign, made at `at` (by
    default now): by k, 40 % paid (with a payment on `paid_on`), 40 % pledged, 20 % reserved
    for the campaign's hold. With `windows` (regency id -> payment window in days) the pledged
    ones are due that many days later; without, they have no due date. `payment_code`: an SQL
    expression over `b` (the pick row) and `params`. Returns (pledges, payments)."""
    values = {**(params or {}), "donor": donor_id, "campaigns": f"{campaigns}-%",
              "paid_on": paid_on, "receipt": receipt_prefix, "at": at}
    moment = sql.SQL("now()") if at is None else sql.Placeholder("at")
    due: sql.Composable = sql.SQL("NULL")
    windows_join = sql.SQL("")
    if windows is not None:
        due = sql.SQL("CASE WHEN b.k %% 5 IN (2, 3) THEN {at} + make_interval(days => w.days) END").format(
            at=moment)
        windows_join = sql.SQL(" JOIN unnest(%(regencies)s::bigint[], %(windows)s::int[]) AS w (regency_id, days)"
                               " ON w.regency_id = b.regency_id")
        values.update(regencies=list(windows), windows=list(windows.values()))
    cur.execute(sql.SQL(
        "INSERT INTO donations_pledge (regency_id, public_id, campaign_id, participant_id, donor_id, is_pooled,"
        " status, amount, arrears_amount, months_in_arrears, monthly_tariff, months_ahead, arrears_import_id,"
        " as_of, segment, expires_at, pledged_at, paid_at, release_reason, created_at, updated_at,"
        " payment_code, paid_amount, lapse_notices, quoted_on, covers_until, due_at) "
        "SELECT b.regency_id, {uuid7}, c.id, b.id, %(donor)s, false,"
        " CASE WHEN b.k %% 5 IN (0, 1) THEN 'paid' WHEN b.k %% 5 IN (2, 3) THEN 'pledged' ELSE 'reserved' END,"
        " b.arrears_amount + 35000, b.arrears_amount, b.months_in_arrears, 35000, 0, b.last_import_id, b.as_of,"
        " b.segment, CASE WHEN b.k %% 5 = 4 THEN {at} + make_interval(hours => c.hold_hours) END,"
        " CASE WHEN b.k %% 5 <> 4 THEN {at} END, CASE WHEN b.k %% 5 IN (0, 1) THEN {at} END, '', {at}, {at},"
        " {code}, CASE WHEN b.k %% 5 IN (0, 1) THEN b.arrears_amount + 35000 ELSE 0 END, 0,"
        " b.as_of, date_trunc('month', b.as_of)::date, {due} "
        "FROM {pick} b JOIN donations_campaign c ON c.regency_id = b.regency_id AND c.slug LIKE %(campaigns)s"
        "{windows_join}"
    ).format(uuid7=sql.SQL(UUID7_SQL), code=sql.SQL(payment_code), pick=sql.Identifier(pick), at=moment,
             due=due, windows_join=windows_join), values)
    pledges = cur.rowcount
    cur.execute(sql.SQL(
        "INSERT INTO donations_payment (regency_id, pledge_id, amount, reference, paid_on, receipt,"
        " receipt_content_type, recorded_by_id, created_at, source, receipt_number) "
        "SELECT p.regency_id, p.id, p.amount, 'VA-' || p.id, %(paid_on)s, '', '', %(donor)s, now(), 'donor',"
        " %(receipt)s || p.id "
        "FROM donations_pledge p WHERE p.status = 'paid' AND p.participant_id IN (SELECT id FROM {pick})"
    ).format(pick=sql.Identifier(pick)), values)
    return pledges, cur.rowcount
