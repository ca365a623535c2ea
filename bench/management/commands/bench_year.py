"""`manage.py bench_year --branches B --rows N --months 12 [--seed S] [--keep-db]`

A year of monthly lists: does the twelfth month cost what the first did?

On a SCRATCH database (`satu_load_year_<pid>` on the server of DATABASE_URL, migrated, dropped
at the end; the app's own data is never touched), in a child process whose follow-up tasks go
to an in-process broker:
  1. B synthetic branches of two regencies each (73.30, 73.31, ...), one regency admin with TOTP;
  2. month 1: for each branch a generated N-row list (`participants.imports.generate`), then
     each later month the previous list with churn (`advance_month`): families in arrears a
     month longer (amounts follow the tariff, up to 24 billed months), some paying off (zero
     arrears on this list, gone from the next), some leaving the list, some of those coming
     back (relapse), some moving to the other regency of their branch or to another branch,
     participants whose pledge was paid by a donor paying off, and new families so that each
     list stays about N rows;
  3. every month, only through the public services, as the workers do after an upload:
     `import_create` + `import_run` for each branch (full list), `screening_run_for_import`,
     `reconcile_after_import`; pledges for 2 % of the participants in arrears, on those a donor
     could pledge (the pool without its assessment: `_PLEDGEABLE_SQL`; set-based SQL,
     as bench_reconcile makes them: 40 % paid, 40 % pledged, 20 % reserved), made three days
     after the list and ending as the app ends them: before the next list the beat jobs run
     as of its date (`pledges_expire_lapsed`: reservations past their hold;
     `pledges_lapse_unpaid`: pledges unpaid past the payment window), so the unfinished
     pledges stay what a month of use leaves, not a pile that never ends; VACUUM (ANALYZE)
     after each month (what autovacuum does in the month between two lists); then the
     dashboard of the first regency through the test client (p95 of R requests, each built
     afresh as after a change: `regencies.versions.fresh`), the
     database size and the arrears history's size (all partitions, if it has any);
  4. a table per month (stderr), the ratio month 12 / month 1 and month 12 / month 2 (month 1
     is the branch's first list: every participant new), and the JSON as the last stdout line.
     Screening's work is the queue entries it computes (those whose inputs changed, every one in
     month 1; `Screening.inputs_hash`): the table gives their number beside its time.
     Reconciliation's work is the unfinished pledges it decides, changed or not: the table gives
     their number and the time per 1,000 of them. Month 1 decides none (the first pledges follow
     the first list), and the number grows where a month leaves more unfinished (a disputed
     payment is checked again with every list until a list shows it paid), so the time per
     pledge decided, month 12 against month 2, is what says whether its cost grows with the
     history kept.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from psycopg2 import sql

from bench.management.commands.bench_import import Command as BenchImport
from bench.scratch import bench_campaigns, insert_pledges

FIRST_AS_OF = dt.date(2026, 1, 1)
REGIONS_PER_BRANCH = 2
ADMIN_EMAIL = "admin.year@bench.test"
MAX_BILLED_MONTHS = 24

# --- the churn of one month (pure: tests/bench) ---------------------------------------------


@dataclass(frozen=True)
class Churn:
    """Monthly rates. Shares of families in arrears unless said otherwise."""

    paid_off: float = 0.04  # pay everything: zero arrears on this list, gone from the next
    leave: float = 0.02  # leave the list (another segment, moved away, died)
    relapse: float = 0.25  # of the families that paid off or left: in arrears again
    move_regency: float = 0.01  # to the other regency of the branch
    move_branch: float = 0.002  # to a regency of another branch
    new_floor: float = 0.01  # new families each month at least, a share of month 1's families


@dataclass
class Family:
    kk: str
    rows: list[list[str]]
    branch: int
    state: str = "arrears"  # arrears | paid | gone | waiting (not listed yet)
    months: int = 1


@dataclass
class Year:
    """Every branch's families, the not-yet-listed ones (new families to come) and the places."""

    header: list[str]
    families: list[Family]
    reserve: dict[int, list[Family]]
    places: dict[str, list[tuple[str, str, str]]]  # regency code -> (kode_wilayah, kecamatan, desa)
    branch_regencies: dict[int, list[str]]
    target_families: dict[int, int] = field(default_factory=dict)

    def col(self, name: str) -> int:
        return self.header.index(name)


def tariff(care_class: str) -> int:
    from participants.imports.generate import TARIFF_BY_CLASS

    try:
        return TARIFF_BY_CLASS[int(care_class)]
    except (KeyError, ValueError):
        return TARIFF_BY_CLASS[3]


def families_of(header: Sequence[str], rows: Iterable[list[str]], *, branch: int) -> list[Family]:
    """Consecutive rows with the same `no_kk` are one family (as the generator writes them)."""
    kk, months = header.index("no_kk"), header.index("bulan_tunggak")
    out: list[Family] = []
    for row in rows:
        if out and out[-1].kk == row[kk]:
            out[-1].rows.append(row)
        else:
            out.append(Family(kk=row[kk], rows=[row], branch=branch, months=max(1, int(row[months] or 1))))
    return out


def _set_arrears(year: Year, family: Family, months: int) -> None:
    m, amount, status = year.col("bulan_tunggak"), year.col("jumlah_tunggakan"), year.col("status_peserta")
    care = year.col("kelas")
    family.months = months
    for row in family.rows:
        row[m] = str(months)
        row[amount] = str(min(months, MAX_BILLED_MONTHS) * tariff(row[care]))
        row[status] = "TIDAK AKTIF"


def _set_paid(year: Year, family: Family) -> None:
    m, amount, status = year.col("bulan_tunggak"), year.col("jumlah_tunggakan"), year.col("status_peserta")
    family.state = "paid"
    for row in family.rows:
        row[m], row[amount], row[status] = "0", "0", "AKTIF"


def _move(year: Year, family: Family, regency: str, rng: random.Random) -> None:
    place = rng.choice(year.places[regency])
    w, k, d = year.col("kode_wilayah"), year.col("kecamatan"), year.col("desa")
    for row in family.rows:
        row[w], row[k], row[d] = place


def regency_of(year: Year, family: Family) -> str:
    return family.rows[0][year.col("kode_wilayah")][:5]


def advance_month(year: Year, rng: random.Random, churn: Churn, *, paid_cards: set[str] | None = None
                  ) -> dict[str, int]:
    """The next month's families, in place. Returns what changed (counts of families)."""
    paid_cards = paid_cards or set()
    card = year.col("no_kartu")
    counts = {"paid_off": 0, "donor_paid": 0, "left": 0, "relapsed": 0, "moved_regency": 0,
              "moved_branch": 0, "new": 0, "grew": 0}
    branches = sorted(year.branch_regencies)
    for family in year.families:
        if family.state == "paid":
            family.state = "gone"
        elif family.state == "gone":
            if rng.random() < churn.relapse:
                family.state = "arrears"
                _set_arrears(year, family, rng.randint(1, 3))
                counts["relapsed"] += 1
        elif family.state == "arrears":
            if any(row[card] in paid_cards for row in family.rows):
                _set_paid(year, family)
                counts["donor_paid"] += 1
                continue
            roll = rng.random()
            if roll < churn.paid_off:
                _set_paid(year, family)
                counts["paid_off"] += 1
            elif roll < churn.paid_off + churn.leave:
                family.state = "gone"
                counts["left"] += 1
            else:
                _set_arrears(year, family, family.months + 1)
                counts["grew"] += 1
                roll = rng.random()
                if roll < churn.move_branch and len(branches) > 1:
                    family.branch = rng.choice([b for b in branches if b != family.branch])
                    _move(year, family, rng.choice(year.branch_regencies[family.branch]), rng)
                    counts["moved_branch"] += 1
                elif roll < churn.move_branch + churn.move_regency:
                    others = [r for r in year.branch_regencies[family.branch] if r != regency_of(year, family)]
                    if others:
                        _move(year, family, rng.choice(others), rng)
                        counts["moved_regency"] += 1
    for branch in branches:
        listed = sum(1 for f in year.families if f.branch == branch and f.state == "arrears")
        target = year.target_families.get(branch, listed)
        wanted = max(round(target * churn.new_floor), target - listed)
        reserve = year.reserve.get(branch, [])
        for _ in range(min(wanted, len(reserve))):
            family = reserve.pop(0)
            family.state = "arrears"
            year.families.append(family)
            counts["new"] += 1
    return counts


def month_rows(year: Year, branch: int) -> list[list[str]]:
    """The branch's list this month: families in arrears and those who just paid off."""
    return [row for f in year.families if f.branch == branch and f.state in ("arrears", "paid") for row in f.rows]


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def ratios(months: list[dict[str, Any]], keys: Sequence[str]) -> dict[str, dict[str, float | None]]:
    """Month 12 (the last) over month 1 and over month 2, per key."""
    out: dict[str, dict[str, float | None]] = {}
    last = months[-1]
    for base_index, name in ((0, "last_vs_first"), (1, "last_vs_second")):
        if len(months) <= base_index:
            continue
        base = months[base_index]
        out[name] = {k: (round(last[k] / base[k], 2) if base.get(k) else None) for k in keys}
    return out


# --- the command -----------------------------------------------------------------------------


class Command(BaseCommand):
    help = "Setahun daftar tunggakan bulanan per cabang pada basis data sementara (tabel di stderr, JSON di stdout)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--branches", type=int, default=2)
        parser.add_argument("--rows", type=int, default=5000, help="rows of each branch's first list")
        parser.add_argument("--months", type=int, default=12)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--dashboard-requests", type=int, default=10)
        parser.add_argument("--pledge-share", type=float, default=0.02,
                            help="new pledges each month, a share of the participants in arrears")
        parser.add_argument("--keep-db", action="store_true")
        parser.add_argument("--child", action="store_true", help="(internal)")

    def handle(self, *args: Any, **options: Any) -> None:
        settings.DEBUG = False
        if options["branches"] < 1 or options["rows"] < 10 or options["months"] < 1:
            raise CommandError("--branches >= 1, --rows >= 10, --months >= 1", returncode=2)
        if options["child"]:
            self._child(options)
            return
        helper = BenchImport(stdout=self.stdout, stderr=self.stderr)  # type: ignore[arg-type]  # an OutputWrapper is a text stream; the stubs want typing.TextIO
        work = Path(tempfile.mkdtemp(prefix="satu-bench-year-"))
        db_name = f"satu_load_year_{os.getpid()}"
        try:
            helper._admin_sql(f'CREATE DATABASE "{db_name}"')
            env = helper._child_env(db_name, work)
            env["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
            child_args = ["--child", "--branches", str(options["branches"]), "--rows", str(options["rows"]),
                          "--months", str(options["months"]), "--seed", str(options["seed"]),
                          "--dashboard-requests", str(options["dashboard_requests"]),
                          "--pledge-share", str(options["pledge_share"])]
            self.stderr.write(f"basis data sementara {db_name}")
            result = helper.run_child("bench_year", child_args, env=env)
        finally:
            if not options["keep_db"]:
                with contextlib.suppress(Exception):
                    helper._admin_sql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            shutil.rmtree(work, ignore_errors=True)
        result["peak_rss_mb"] = result.get("peak_rss_mb")
        self.stderr.write(format_months(result["months"]))
        for name, values in result["ratios"].items():
            self.stderr.write(f"{name}: " + ", ".join(f"{k} {v}x" if v is not None else f"{k} -"
                                                      for k, v in values.items()))
        self.stdout.write(json.dumps(result))

    # --- the child, in the scratch database ------------------------------------------------------

    def _child(self, options: dict[str, Any]) -> None:
        from django.core.management import call_command

        from config.celery_app import app as celery_app

        if not connection.settings_dict["NAME"].startswith("satu_load"):
            raise CommandError("--child runs only in a satu_load* scratch database", returncode=2)
        celery_app.conf.update(broker_url="memory://localhost/")
        started = time.monotonic()
        call_command("migrate", verbosity=0)
        branches = _setup(options["branches"])
        work = Path(tempfile.mkdtemp(prefix="satu-year-lists-"))
        try:
            year = _first_year(branches, rows=options["rows"], months=options["months"], seed=options["seed"],
                               work=work)
            rng = random.Random(f"year:{options['seed']}")
            client, dashboard = _dashboard_client(branches[0])
            months = []
            for month in range(1, options["months"] + 1):
                as_of = _add_months(FIRST_AS_OF, month - 1)
                changes: dict[str, int] = {}
                if month > 1:
                    changes = advance_month(year, rng, Churn(), paid_cards=_paid_cards())
                row = _one_month(year, branches, month=month, as_of=as_of, work=work,
                                 pledge_share=options["pledge_share"])
                row["changes"] = changes
                times = _dashboard_times(client, dashboard, options["dashboard_requests"])
                row["dashboard_p95_ms"] = round(percentile(times, 0.95), 1)
                row["dashboard_p50_ms"] = round(statistics.median(times), 1)
                row.update(_sizes())
                months.append(row)
                self.stderr.write(
                    f"bulan {month:>2} ({as_of}): {row['rows']} baris ({row['row_errors']} salah), "
                    f"impor {row['import_s']} s, "
                    f"penyaringan {row['screening_s']} s ({row['screening_computed']} entri dihitung), "
                    f"rekonsiliasi {row['reconcile_s']} s "
                    f"({row['pledges_decided']} janji diputuskan), "
                    f"dasbor p95 {row['dashboard_p95_ms']} ms, DB {row['db_mb']} MB, riwayat {row['history_mb']} MB "
                    f"({row['history_rows']} baris) {changes}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        keys = ("import_s", "screening_s", "reconcile_s", "reconcile_ms_per_1000_decided", "dashboard_p95_ms",
                "db_mb", "history_mb")
        self.stdout.write(json.dumps({
            "branches": options["branches"], "rows": options["rows"], "cpus": os.cpu_count(),
            "months": months, "ratios": ratios(months, keys),
            "postgres": _server_settings(),
            "seconds": round(time.monotonic() - started, 1),
        }))


def format_months(months: list[dict[str, Any]]) -> str:
    lines = [
        "| month | as of | rows | new / paid off / left / relapsed / moved | row errors | import s | "
        "screening s | queue entries computed | reconciliation s | pledges decided | reconciliation ms per 1,000 decided | "
        "dashboard p95 ms | DB MB | history MB | history rows |",
        "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in months:
        c = m.get("changes") or {}
        churn = (f"{c.get('new', 0)} / {c.get('paid_off', 0) + c.get('donor_paid', 0)} / {c.get('left', 0)} / "
                 f"{c.get('relapsed', 0)} / {c.get('moved_regency', 0) + c.get('moved_branch', 0)}" if c else "")
        lines.append(
            f"| {m['month']} | {m['as_of']} | {m['rows']:,} | {churn} | {m['row_errors']} | {m['import_s']} | "
            f"{m['screening_s']} | {m.get('screening_computed', 0):,} | {m['reconcile_s']} | {m.get('pledges_decided', 0):,} | "
            f"{m.get('reconcile_ms_per_1000_decided') or '-'} | {m['dashboard_p95_ms']} | {m['db_mb']} | "
            f"{m['history_mb']} | {m['history_rows']:,} |")
    return "\n".join(lines)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    return day.replace(year=day.year + index // 12, month=index % 12 + 1)


def _setup(count: int) -> list[Any]:
    """B branches of two synthetic regencies each, and a regency admin of the first one."""
    from accounts.mfa import enrol_totp
    from accounts.models import User
    from regencies.models import BpjsBranch, Membership, Regency
    from regencies.roles import Role

    branches = []
    for b in range(count):
        branch = BpjsBranch.objects.create(code=f"year-{b + 1:02d}", name=f"KC Bench {b + 1:02d}",
                                           timezone="Asia/Makassar")
        for r in range(REGIONS_PER_BRANCH):
            number = 30 + b * REGIONS_PER_BRANCH + r
            regency = Regency.objects.create(
                code=f"73.{number:02d}", name=f"Kabupaten Bench {number}", slug=f"bench-{number}",
                kind="kabupaten", timezone="Asia/Makassar")
            branch.regencies.add(regency)
        branches.append(branch)
    admin = User.objects.create_user(email=ADMIN_EMAIL, password=None, full_name="Admin Bench")
    first = branches[0].regencies.order_by("code").first()
    if first is None:
        raise CommandError("the benchmark branches have no regency")
    Membership.objects.for_regency(first).create(regency=first, user=admin, role=Role.REGENCY_ADMIN, is_active=True)
    enrol_totp(admin, "JBSWY3DPEHPK3PXP")
    return branches


def _first_year(branches: list[Any], *, rows: int, months: int, seed: int, work: Path) -> Year:
    """Month 1's lists and every branch's reserve of new families (one generated file each)."""
    from participants.imports.generate import generate_arrears_file, regency_spec
    from regencies.reference import REGENCIES

    header: list[str] = []
    families: list[Family] = []
    reserve: dict[int, list[Family]] = {}
    places: dict[str, list[tuple[str, str, str]]] = {}
    branch_regencies: dict[int, list[str]] = {}
    target: dict[int, int] = {}
    for index, branch in enumerate(branches):
        regencies = list(branch.regencies.order_by("code"))
        specs = [regency_spec(code=r.code, name=r.name, kind=r.kind, district_names=REGENCIES[0].districts)
                 for r in regencies]
        path = work / f"pool-{branch.code}.csv"
        pool_rows = rows + round(rows * 0.08 * months) + 100
        generate_arrears_file(regencies=specs, branch=branch.code, rows=pool_rows, out=path, fmt="csv",
                              seed=seed * 1000 + index, as_of=FIRST_AS_OF, even=True)
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            everyone = families_of(header, reader, branch=index)
        w, k, d = header.index("kode_wilayah"), header.index("kecamatan"), header.index("desa")
        for family in everyone:
            for row in family.rows:
                places.setdefault(row[w][:5], []).append((row[w], row[k], row[d]))
        random.Random(seed * 1000 + index).shuffle(everyone)
        taken = 0
        cut = len(everyone)
        for position, family in enumerate(everyone):
            if taken >= rows:
                cut = position
                break
            taken += len(family.rows)
        families.extend(everyone[:cut])
        reserve[index] = everyone[cut:]
        for family in reserve[index]:
            family.state = "waiting"
        branch_regencies[index] = [r.code for r in regencies]
        target[index] = cut
        path.unlink()
    for code in places:
        places[code] = sorted(set(places[code]))
    return Year(header=header, families=families, reserve=reserve, places=places,
                branch_regencies=branch_regencies, target_families=target)


def _one_month(year: Year, branches: list[Any], *, month: int, as_of: dt.date, work: Path,
               pledge_share: float) -> dict[str, Any]:
    from assessments.screening import screening_run_for_import
    from donations.reconciliation.rules import OUTCOMES
    from donations.reconciliation.services import reconcile_after_import
    from participants import services
    from participants.models import ImportMode, ImportStatus

    imports, rows, errors = [], 0, 0
    import_s = screening_s = reconcile_s = 0.0
    lapse_s, lapsed = _lapse_jobs(as_of)
    for index, branch in enumerate(branches):
        path = work / f"tunggakan-{branch.code}-{as_of.isoformat()}.csv"
        listed = month_rows(year, index)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(year.header)
            writer.writerows(listed)
        rows += len(listed)
        t = time.monotonic()
        arrears_import, _duplicate = services.import_create(
            branch=branch, actor=None, uploaded_file=path, as_of=as_of, mode=ImportMode.FULL, enqueue=False)
        arrears_import = services.import_run(import_id=arrears_import.pk)
        import_s += time.monotonic() - t
        path.unlink()
        if arrears_import.status != ImportStatus.APPLIED:
            raise CommandError(f"month {month} {branch.code}: import {arrears_import.status}: "
                               f"{arrears_import.message}")
        errors += arrears_import.invalid or 0
        imports.append(arrears_import.pk)
    # The jobs the apply queues (screening, then reconciliation), in the order the workers take them.
    computed = 0  # the queue entries screening computed (the others' inputs had not changed)
    for import_id in imports:
        t = time.monotonic()
        screened = screening_run_for_import(import_id=import_id)
        screening_s += time.monotonic() - t
        computed += sum(summary["computed"] for summary in screened["regencies"].values())
    decided = 0  # the unfinished pledges the runs decided, changed or not: reconciliation's work
    for import_id in imports:
        t = time.monotonic()
        result = reconcile_after_import(import_id=import_id)
        reconcile_s += time.monotonic() - t
        decided += sum(result.get(outcome, 0) for outcome in OUTCOMES)
    pledges = _pledges(share=pledge_share, as_of=as_of, month=month)
    # A month passes before the next list: autovacuum would have vacuumed and analysed what the
    # month wrote (the benchmark's server may run without it: every list's updates would then
    # stay as dead rows in the tables and indexes, and the plans rest on month 1's sizes).
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE)")
    return {"month": month, "as_of": as_of.isoformat(), "rows": rows, "row_errors": errors,
            "import_s": round(import_s, 2), "screening_s": round(screening_s, 2), "screening_computed": computed,
            "reconcile_s": round(reconcile_s, 2), "pledges_decided": decided,
            "reconcile_ms_per_1000_decided": round(reconcile_s * 1e6 / decided, 1) if decided else None,
            "pledges": pledges,
            "lapse_s": round(lapse_s, 2), "lapsed": lapsed}


def _list_moment(day: dt.date) -> dt.datetime:
    """The bench's clock: a list arrives at 08:00 UTC of its date."""
    return dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC)


def _lapse_jobs(as_of: dt.date) -> tuple[float, dict[str, int]]:
    """The beat jobs that end pledges, run as of the list's date: reservations past their hold
    expire, confirmed pledges with nothing paid past the payment window lapse."""
    from donations.services import pledges_expire_lapsed, pledges_lapse_unpaid

    t = time.monotonic()
    moment = _list_moment(as_of)
    expired = pledges_expire_lapsed(now=moment)
    lapse = pledges_lapse_unpaid(now=moment)
    return time.monotonic() - t, {"expired": expired, "lapsed_unpaid": lapse["lapsed"]}


# Who a donor can pledge this month: the pool's participants (`donations.selectors._listed_and_free`)
# without its assessment: in arrears on the newest list (not cleared: a participant gone from a list
# keeps the months of its last record), not written off, and held by no pledge (active, disputed, or
# verified and not yet overtaken by a list). Before session 22 the benchmark read only
# `months_in_arrears > 0`, and paid pledges of participants already gone from the lists (whose
# payment no later list can show) stayed unfinished all year, more each month.
_PLEDGEABLE_SQL = (
    "p.status <> 'cleared' AND p.months_in_arrears > 0 AND p.written_off IS NOT TRUE "
    "AND NOT EXISTS (SELECT 1 FROM donations_pledge x WHERE x.participant_id = p.id "
    "  AND (x.status IN ('reserved', 'pledged', 'paid', 'disputed') "
    "       OR (x.status = 'verified' AND (p.as_of IS NULL OR x.verified_at::date >= p.as_of))))"
)


def _pledges(*, share: float, as_of: dt.date, month: int) -> dict[str, int]:
    """This month's pledges in set-based SQL on the participants a donor can pledge
    (`_PLEDGEABLE_SQL`), `share` of those in arrears, made three days after the list: 40 % paid
    (with a payment that day), 40 % pledged (due after the regency's payment window), 20 %
    reserved (for the campaign's hold)."""
    from django.contrib.auth import get_user_model

    from donations.selectors import money_settings
    from regencies.models import Regency

    donor, _created = get_user_model().objects.get_or_create(email="donatur.year@bench.test")
    bench_campaigns("year")
    windows = {pk: money_settings(pk).payment_window_days for pk in Regency.objects.values_list("pk", flat=True)}
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql.SQL(
            "CREATE TEMP TABLE year_pick ON COMMIT DROP AS "
            "SELECT p.id, p.regency_id, p.arrears_amount, p.months_in_arrears, p.last_import_id, p.as_of, "
            "       p.segment, row_number() OVER (ORDER BY md5(p.id::text || %(month)s)) AS k "
            "FROM participants_participant p WHERE {pledgeable} "
            "ORDER BY md5(p.id::text || %(month)s) "
            "LIMIT (SELECT ceil(count(*) * %(share)s) FROM participants_participant "
            "       WHERE status <> 'cleared' AND months_in_arrears > 0)"
        ).format(pledgeable=sql.SQL(_PLEDGEABLE_SQL)), {"month": str(month), "share": share})
        pledges, payments = insert_pledges(
            cur, pick="year_pick", campaigns="year", donor_id=donor.pk,
            payment_code="'Y' || b.id || '-' || %(month)s", receipt_prefix="KW/Y/",
            paid_on=as_of + dt.timedelta(days=3), at=_list_moment(as_of + dt.timedelta(days=3)),
            windows=windows, params={"month": str(month)})
    return {"pledges": pledges, "payments": payments}


def _paid_cards() -> set[str]:
    """Card numbers of participants whose pledge was paid: the next list shows them paid off."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT p.card_number FROM donations_pledge x JOIN participants_participant p ON p.id = x.participant_id "
            "WHERE x.status = 'paid'")
        return {card for (card,) in cur.fetchall()}


def _dashboard_client(branch: Any) -> tuple[Any, str]:
    """A test client signed in as the first regency's admin, past the TOTP step (as allauth
    records it), and the dashboard's path."""
    from django.test import Client

    from accounts.models import User
    from bench.load import _session_for

    regency = branch.regencies.order_by("code").first()
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[settings.SESSION_COOKIE_NAME] = _session_for(User.objects.get(email=ADMIN_EMAIL))
    return client, f"/r/{regency.slug}/"


def _dashboard_times(client: Any, path: str, count: int) -> list[float]:
    """The dashboard built afresh each time (`regencies.versions.fresh`): what it costs after a
    change, which is what grows with the data; kept, it is read from the cache until the next."""
    from regencies.versions import fresh

    response = client.get(path)  # the first after a list: caches filled by the import are cold
    if response.status_code != 200:
        raise CommandError(f"dashboard {path}: HTTP {response.status_code}")
    times = []
    with fresh():
        for _ in range(max(1, count)):
            t = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - t) * 1000)
    return times


# The server settings a year's cost depends on most (README, "Scaling"): runs on differently set
# servers are not comparable month for month.
SERVER_SETTINGS = ("server_version", "shared_buffers", "effective_cache_size", "max_wal_size", "checkpoint_timeout",
                   "autovacuum")


def _server_settings() -> dict[str, str]:
    with connection.cursor() as cur:
        cur.execute("SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)", [list(SERVER_SETTINGS)])
        return dict(cur.fetchall())


def _sizes() -> dict[str, Any]:
    """The database, and the arrears history with every partition it may have."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        db = cur.fetchone()[0]
        # A partitioned table has no storage of its own (its partitions have); a plain table is
        # not in pg_partition_tree: the larger of the two is the history's size either way.
        cur.execute("SELECT greatest(pg_total_relation_size('participants_arrearsrecord'), "
                    "(SELECT coalesce(sum(pg_total_relation_size(relid)), 0) "
                    " FROM pg_partition_tree('participants_arrearsrecord')))")
        history = int(cur.fetchone()[0])
        cur.execute("SELECT count(*) FROM participants_arrearsrecord")
        history_rows = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM participants_participant")
        participants = cur.fetchone()[0]
    return {"db_mb": round(db / 2**20, 1), "history_mb": round(history / 2**20, 1),
            "history_rows": history_rows, "participants": participants}
