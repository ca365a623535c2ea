"""Benchmark (not a test): faults injected into an import of a 200,000-row list.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/satu .venv/bin/python bench/faults_200k.py [--rows 200000]

What it does:
1. creates a scratch database `satu_bench_faults_<pid>` on the server of DATABASE_URL, migrates
   it and sets up the reference branches `palopo` (4 regencies) and `selong` (1); the app's own
   data is never touched; tasks go to an in-process broker (never the app's);
2. generates the lists with `manage.py generate_arrears` (palopo: --rows, seed 1; selong: half
   as many, seed 2, plus one card number of palopo's list: a participant on both lists) and
   applies palopo's list once (the baseline every fault starts from);
3. injects each fault into a real run in a child process (`python -c`, Django on the scratch
   database) and then acts as beat + import worker would: every ARREARS_IMPORT_SWEEP_SECONDS
   (default 30 s, measured from the start, not from the fault) it runs
   `services.import_sweep()` and runs the imports it queued again (`services.import_run`).
   Stale heartbeat: ARREARS_IMPORT_STALE_SECONDS (default 60 s). The same defaults as production;
   set them in the environment to try others.
   - kill -9 mid-apply: SIGKILL the child while its import is `applying` (progress >= 80 %);
   - connection terminated mid-apply: pg_terminate_backend on the child's apply connection;
   - terminated twice: the same, and again on the run that follows (the dead letter), then the
     same file uploaded again;
   - mistaken full list: 5,000 rows as a `full` list uploaded as the browser does (ask_first):
     stops at `awaiting_confirmation` with a preview, then discarded;
   - two branches at once: palopo's list and selong's list applied by two children side by side.
4. prints a table (stderr) - fault, what the user sees (status + message), time to recovery or
   to the defined state, participants and history rows before/after - and the JSON (last stdout
   line); drops the database.

Every fault file is palopo's list again with k blank lines at the end (other bytes, the same
200,000 rows, a later as-of date, mode partial): a good run adds 200,000 history rows and
changes no participant; a failed one adds nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.standalone import log, scratch_django  # noqa: E402

AS_OF = dt.date(2026, 9, 1)

CHILD = r"""
import os, sys
import django
django.setup()
from config.celery_app import app
app.conf.broker_url = "memory://localhost/"
from django.db import connection
assert connection.settings_dict["NAME"].startswith("satu_bench_")
from participants import services
services.import_run(import_id=int(sys.argv[1]))
"""


class Bench:
    def __init__(self, *, rows: int, work: Path, env: dict) -> None:
        self.rows = rows
        self.work = work
        self.env = env
        self.started = time.monotonic()
        self.results: list[dict] = []
        from django.conf import settings

        self.sweep_every = float(settings.ARREARS_IMPORT_SWEEP_SECONDS)
        self.stale = settings.ARREARS_IMPORT_STALE_SECONDS

    # --- helpers -----------------------------------------------------------------------------

    def manage(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args], env=self.env, cwd=ROOT,
            check=True, capture_output=True, text=True,
        )
        return out.stdout

    def child(self, import_id: int) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, str(import_id)], env=self.env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=(self.work / f"child-{import_id}.log").open("a"),
        )

    def counts(self) -> dict:
        from participants.models import ArrearsRecord, Participant

        return {"participants": Participant.all_regencies.count(),
                "cleared": Participant.all_regencies.filter(status="cleared").count(),
                "records": ArrearsRecord.all_regencies.count()}

    def upload(self, branch_code: str, path: Path, *, as_of: dt.date, mode: str = "partial",
               ask_first: bool = False):
        from participants import services
        from regencies.models import BpjsBranch

        branch = BpjsBranch.objects.get(code=branch_code)
        arrears_import, duplicate = services.import_create(
            branch=branch, actor=None, uploaded_file=str(path), as_of=as_of, mode=mode, enqueue=False,
            ask_first=ask_first,
        )
        assert not duplicate, "the same bytes twice"
        return arrears_import

    def variant(self, k: int) -> Path:
        """Palopo's list with k blank lines: other bytes, the same rows."""
        path = self.work / f"palopo-{k}.csv"
        shutil.copyfile(self.palopo, path)
        with path.open("ab") as handle:
            handle.write(b"\n" * k)
        return path

    def wait_status(self, import_id: int, statuses: set[str], *, min_progress: int = 0, timeout: float = 600):
        from participants.models import ArrearsImport

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            imp = ArrearsImport.objects.get(pk=import_id)
            if imp.status in statuses and imp.progress >= min_progress:
                return imp
            time.sleep(0.05)
        raise TimeoutError(f"import {import_id} never reached {statuses}")

    def apply_backend(self) -> int:
        """The child's apply connection: the one with a transaction open (the heartbeat and progress
        connections write one UPDATE of the import at a time, autocommit)."""
        from django.db import connection

        with connection.cursor() as cur:
            for _ in range(200):
                cur.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction') "
                    "AND query NOT LIKE 'UPDATE participants_arrearsimport SET %%' "
                    "AND xact_start < now() - interval '100 milliseconds' ORDER BY xact_start LIMIT 1"
                )
                row = cur.fetchone()
                if row:
                    return int(row[0])
                time.sleep(0.01)
        raise TimeoutError("no apply connection found")

    def terminate(self, pid: int) -> None:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", [pid])

    def beat_until_final(self, import_id: int, *, timeout: float = 600) -> float:
        """Sweep on the beat's schedule and run what it queued, until the import is over."""
        from django.db import connection

        from participants import services
        from participants.models import FINAL_STATUSES, ArrearsImport

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = ArrearsImport.objects.values_list("status", flat=True).get(pk=import_id)
            if status in FINAL_STATUSES:
                return time.monotonic()
            since = time.monotonic() - self.started
            time.sleep(self.sweep_every - since % self.sweep_every)
            connection.close()
            swept = services.import_sweep()
            if swept["requeued"] or swept["failed"]:
                log(f"  sweep at +{time.monotonic() - self.started:.0f} s: {swept}")
            for requeued in swept["requeued"]:
                with contextlib.suppress(Exception):
                    services.import_run(import_id=requeued)
        raise TimeoutError(f"import {import_id} not over after {timeout} s")

    def record(self, fault: str, import_id: int, *, t0: float, t1: float, before: dict, note: str = "") -> None:
        from participants.models import ArrearsImport

        imp = ArrearsImport.objects.get(pk=import_id)
        after = self.counts()
        row = {
            "fault": fault, "status": imp.status, "message": imp.message.replace("\n", " "),
            "attempts": imp.attempts, "seconds": round(t1 - t0, 1), "before": before, "after": after,
            "valid": imp.valid, "note": note, "preview": imp.preview,
        }
        self.results.append(row)
        log(f"  -> {imp.status} in {row['seconds']} s; before {before}, after {after} {note}")

    # --- the faults --------------------------------------------------------------------------

    def setup(self, *, baseline: bool = True) -> None:
        log("migrate + branches ...")
        self.manage("bench_import", "--rows", "1", "--branch", "palopo", "--child", "setup")
        self.manage("bench_import", "--rows", "1", "--branch", "selong", "--child", "setup")
        log(f"generate {self.rows} rows ...")
        self.palopo = self.work / "palopo.csv"
        self.manage("generate_arrears", "--branch", "palopo", "--rows", str(self.rows), "--out", str(self.palopo),
                    "--seed", "1", "--as-of", AS_OF.isoformat())
        self.selong = self.work / "selong.csv"
        self.manage("generate_arrears", "--branch", "selong", "--rows", str(self.rows // 2), "--out",
                    str(self.selong), "--seed", "2", "--as-of", AS_OF.isoformat())
        self.mistake = self.work / "coba-5000.csv"
        self.manage("generate_arrears", "--branch", "palopo", "--rows", "5000", "--out", str(self.mistake),
                    "--seed", "3", "--as-of", AS_OF.isoformat())
        # One participant on both lists: palopo's first row, with a Lombok Timur code, in selong's.
        with self.palopo.open(encoding="utf-8-sig", newline="") as handle:
            sample = handle.read(4096)
            handle.seek(0)
            dialect = csv.Sniffer().sniff(sample, delimiters=",;")
            reader = csv.DictReader(handle, dialect=dialect)
            first = next(reader)
        code_column = next(name for name in first if name.strip().lower().replace(" ", "_") in
                           ("kode_wilayah", "kode_kab", "kd_kab", "kode_kab/kota"))
        card_column = next(name for name in first if "kartu" in name.lower() or name.lower() == "noka")
        self.shared_card = first[card_column].strip()
        first[code_column] = "52.03"
        with self.selong.open("a", encoding="utf-8", newline="") as handle:
            csv.DictWriter(handle, fieldnames=list(first), dialect=dialect).writerow(first)
        self.baseline_seconds = None
        if not baseline:
            return
        log("baseline: palopo's list ...")
        imp = self.upload("palopo", self.palopo, as_of=AS_OF, mode="full")
        t0 = time.monotonic()
        from participants import services

        services.import_run(import_id=imp.pk)
        imp.refresh_from_db()
        log(f"  baseline {imp.status} {imp.valid} rows in {time.monotonic() - t0:.1f} s")
        self.baseline_seconds = round(time.monotonic() - t0, 1)

    def fault_kill(self) -> None:
        log("fault: kill -9 mid-apply ...")
        imp = self.upload("palopo", self.variant(1), as_of=AS_OF + dt.timedelta(days=1))
        before = self.counts()
        child = self.child(imp.pk)
        self.wait_status(imp.pk, {"applying"}, min_progress=80)
        t0 = time.monotonic()
        child.send_signal(signal.SIGKILL)
        child.wait()
        t1 = self.beat_until_final(imp.pk)
        self.record("worker killed (SIGKILL) mid-apply", imp.pk, t0=t0, t1=t1, before=before)

    def _terminated_run(self, import_id: int) -> float:
        child = self.child(import_id)
        self.wait_status(import_id, {"applying"}, min_progress=80)
        pid = self.apply_backend()
        t0 = time.monotonic()
        self.terminate(pid)
        child.wait()
        return t0

    def fault_terminate(self) -> None:
        log("fault: apply connection terminated ...")
        imp = self.upload("palopo", self.variant(2), as_of=AS_OF + dt.timedelta(days=2))
        before = self.counts()
        t0 = self._terminated_run(imp.pk)
        imp.refresh_from_db()
        seen = f"after the fault: {imp.status} ({imp.message})"
        t1 = self.beat_until_final(imp.pk)
        self.record("apply's DB connection terminated", imp.pk, t0=t0, t1=t1, before=before, note=seen)

    def fault_terminate_twice(self) -> None:
        log("fault: apply connection terminated twice ...")
        path = self.variant(3)
        imp = self.upload("palopo", path, as_of=AS_OF + dt.timedelta(days=3))
        before = self.counts()
        t0 = self._terminated_run(imp.pk)
        self._terminated_run(imp.pk)  # the next run (as the swept task would start) dies the same way
        t1 = self.beat_until_final(imp.pk)
        self.record("DB connection terminated twice (dead letter)", imp.pk, t0=t0, t1=t1, before=before)
        log("  the same file uploaded again ...")
        again = self.upload("palopo", path, as_of=AS_OF + dt.timedelta(days=3))
        before = self.counts()
        t0 = time.monotonic()
        from participants import services

        services.import_run(import_id=again.pk)
        self.record("  ... same file uploaded again", again.pk, t0=t0, t1=time.monotonic(), before=before)

    def fault_mistake(self) -> None:
        log("fault: a 5,000-row trial list uploaded as a full list ...")
        from participants import services

        imp = self.upload("palopo", self.mistake, as_of=AS_OF + dt.timedelta(days=4), mode="full", ask_first=True)
        before = self.counts()
        t0 = time.monotonic()
        services.import_run(import_id=imp.pk)
        imp.refresh_from_db()
        t1 = time.monotonic()
        preview = {k: imp.preview.get(k) for k in ("would_clear", "would_clear_by_regency", "pledges_released")}
        services.import_discard_unconfirmed(arrears_import=imp, actor=None)
        self.record("5,000-row list uploaded as full", imp.pk, t0=t0, t1=t1, before=before,
                    note=f"stopped at awaiting_confirmation, preview {preview}; then discarded")

    def fault_two_branches(self) -> None:
        log("two branches side by side ...")
        from participants.models import ArrearsImport

        a = self.upload("palopo", self.variant(5), as_of=AS_OF + dt.timedelta(days=5))
        b = self.upload("selong", self.selong, as_of=AS_OF + dt.timedelta(days=5))
        before = self.counts()
        t0 = time.monotonic()
        children = [self.child(a.pk), self.child(b.pk)]
        both_applying = False
        while any(c.poll() is None for c in children):
            statuses = set(ArrearsImport.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True))
            both_applying = both_applying or statuses == {"applying"}
            time.sleep(0.05)
        t1 = time.monotonic()
        a.refresh_from_db()
        b.refresh_from_db()
        from participants.models import Participant

        owner = Participant.all_regencies.filter(card_number=self.shared_card).values_list(
            "regency__code", flat=True).first()
        note = (f"palopo {a.status} {a.valid} rows, selong {b.status} {b.valid} rows ({b.invalid} invalid); "
                f"both applying at once: {both_applying}; the shared card stays in {owner}")
        self.record("two branches' lists at once", b.pk, t0=t0, t1=t1, before=before, note=note)

    def run(self, faults: str) -> None:
        """The faults named (comma-separated: `kill,mistake`), one after another."""
        for fault in [f.strip() for f in faults.split(",") if f.strip()]:
            getattr(self, f"fault_{fault}")()

    def report(self) -> None:
        log("")
        log(f"{self.rows} rows; baseline apply {self.baseline_seconds} s; sweep every {self.sweep_every:.0f} s, "
            f"stale after {self.stale} s")
        log("| fault | what the user sees | time to recovery / defined state | participants / history rows "
            "before -> after |")
        log("|---|---|---:|---|")
        for r in self.results:
            seen = f"`{r['status']}`" + (f": {r['message']}" if r["message"] else "")
            if r["note"]:
                seen += f" ({r['note']})"
            log(f"| {r['fault']} | {seen} | {r['seconds']} s | {r['before']['participants']:,} / "
                f"{r['before']['records']:,} -> {r['after']['participants']:,} / {r['after']['records']:,} |")
        print(json.dumps({"rows": self.rows, "baseline_seconds": self.baseline_seconds, "results": self.results},
                         default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--faults", default="kill,terminate,terminate_twice,mistake,two_branches")
    parser.add_argument("--no-baseline", action="store_true",
                        help="start from an empty database (two_branches: both first lists at once)")
    args = parser.parse_args()
    with scratch_django(prefix="satu-faults-") as (work, env):
        bench = Bench(rows=args.rows, work=work, env=env)
        bench.setup(baseline=not args.no_baseline)
        bench.run(args.faults)
        bench.report()

if __name__ == "__main__":
    threading.excepthook = lambda args: log(f"thread error: {args.exc_value!r}")
    main()
