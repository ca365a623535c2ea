"""Benchmark (not a test): the broker outage and the poison files on a 200,000-row list.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/satu .venv/bin/python bench/outage_200k.py [--rows 200000]

Setup as bench/faults_200k.py (a scratch database `satu_bench_faults_<pid>`, branches palopo and
selong, palopo's generated list applied once as the baseline); the broker is a throwaway
redis-server of this script on a free loopback port, never the app's. Then:
- Redis stopped during an upload: the redis-server is killed (SIGKILL), palopo's list is uploaded
  (import_create: the run goes to the outbox), Redis is started again after --outage seconds,
  the relay runs (as beat would) and a real Celery worker on the `imports` queue (a child
  process) applies the list. Time to recovery: from Redis back to `applied`.
- Poison CSV: palopo's list with a stray quote (`"UDIN" SYAMSUDDIN`), a NUL byte, an ESC, a
  5,000-character name and a quote never closed on five rows spread over the file.
- XLSX dimension bombs: one cell at XFD1048576 (declared and present), one at GR200000.
Prints the fault table (stderr) and JSON (last stdout line); drops the database.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.faults_200k import AS_OF, Bench  # noqa: E402
from bench.standalone import log, scratch_django  # noqa: E402


class OutageBench(Bench):
    def __init__(self, *, outage: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.outage = outage
        self.k = 100  # blank lines appended: each fault file has other bytes than the baseline

    def next_variant(self) -> Path:
        self.k += 1
        return self.variant(self.k)

    def own_redis(self):
        from tests.core.broker import OwnRedis

        return OwnRedis()

    def fault_broker_down(self) -> None:
        from core.models import OutboxMessage
        from core.outbox import relay
        from participants import services
        from regencies.models import BpjsBranch
        from tests.core.broker import celery_broker

        log("Redis stopped during an upload ...")
        server = self.own_redis()
        server.start()
        path = self.next_variant()
        before = self.counts()
        worker = None
        try:
            with celery_broker(server.url):
                server.stop()
                t0 = time.monotonic()
                imp, _duplicate = services.import_create(
                    branch=BpjsBranch.objects.get(code="palopo"), actor=None, uploaded_file=str(path),
                    as_of=AS_OF.replace(day=2), mode="partial",
                )
                answered = time.monotonic() - t0
                waiting = OutboxMessage.objects.get(task="participants.import_run", args=[imp.pk])
                log(f"  upload answered in {answered:.2f} s: {imp.status}; outbox row sent_at={waiting.sent_at}, "
                    f"attempts={waiting.attempts}")
                time.sleep(self.outage)
                server.start()
                back = time.monotonic()
                env = dict(self.env, REDIS_URL=server.url, PYTHONUNBUFFERED="1")
                worker = subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "config.celery_app", "worker", "-Q", "imports",
                     "-P", "solo", "-c", "1", "-n", f"bench-imports-{os.getpid()}@%h", "-l", "warning"],
                    env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                    stderr=(self.work / "worker.log").open("a"),
                )
                sent = relay()  # beat's next tick
                log(f"  relay after Redis came back: {sent}")
                self.wait_status(imp.pk, {"applied", "failed", "rejected"}, timeout=600)
                t1 = time.monotonic()
            self.record("Redis stopped during an upload", imp.pk, t0=back, t1=t1, before=before,
                        note=f"upload answered in {answered:.2f} s (202, queued); Redis down {self.outage:.0f} s; "
                             "time from Redis back to applied")
        finally:
            if worker is not None:
                worker.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.wait(timeout=30)
                if worker.poll() is None:
                    worker.kill()
            server.stop()

    def fault_poison_csv(self) -> None:
        from participants import services
        from participants.models import ImportRowError

        log("poison CSV ...")
        source = self.palopo.read_bytes().decode("utf-8-sig")
        lines = source.split("\n")
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
        header = next(csv.reader([lines[0]], dialect=dialect))
        name_at = next(i for i, h in enumerate(header) if "nama" in h.lower())
        n = len(lines) - 2
        poisons = {
            max(1, n // 20): lambda v: '"UDIN" SYAMSUDDIN',
            max(2, n // 4): lambda v: v[:2] + "\x00" + v[2:],
            max(3, n // 2): lambda v: v[:2] + "\x1b" + v[2:],
            max(4, 3 * n // 4): lambda v: v + "X" * 5000,
            max(5, n - 1): lambda v: '"' + v,
        }
        for index, poison in poisons.items():
            cells = next(csv.reader([lines[index]], dialect=dialect))
            out = io.StringIO()
            csv.writer(out, delimiter=dialect.delimiter, quotechar='"', quoting=csv.QUOTE_MINIMAL,
                       lineterminator="").writerow(
                [poison(c) if i == name_at else c for i, c in enumerate(cells)])
            raw = out.getvalue()
            if index in (max(1, n // 20), max(5, n - 1)):  # written raw: broken quotes on purpose
                cells[name_at] = poison(cells[name_at])
                raw = dialect.delimiter.join(cells)
            lines[index] = raw
        path = self.work / "palopo-racun.csv"
        path.write_bytes("\n".join(lines).encode("utf-8"))
        before = self.counts()
        imp = self.upload("palopo", path, as_of=AS_OF.replace(day=3))
        t0 = time.monotonic()
        with contextlib.suppress(Exception):
            services.import_run(import_id=imp.pk)
        t1 = time.monotonic()
        errors = list(ImportRowError.objects.filter(arrears_import=imp).order_by("row")
                      .values_list("row", "column"))
        self.record("Poison CSV (quote, NUL, ESC, 5,000 chars, open quote)", imp.pk, t0=t0, t1=t1, before=before,
                    note=f"row errors {errors}; spreadsheet rows {sorted(i + 1 for i in poisons)}")

    def fault_xlsx_bombs(self) -> None:
        from tests.participants.crafted import crafted_xlsx

        for label, cells, dimension in [
            ("XLSX one cell at XFD1048576 (declared)", [("XFD1048576", "x")], "A1:XFD1048576"),
            ("XLSX header + a cell at XFD1048576", [("A1", "no_kartu"), ("XFD1048576", "x")], None),
            ("XLSX header + a cell at GR200000", [("A1", "no_kartu"), ("B1", "nama"), ("GR200000", "x")], None),
        ]:
            log(f"{label} ...")
            path = crafted_xlsx(self.work / f"bom-{len(self.results)}.xlsx", cells, dimension=dimension)
            before = self.counts()
            imp = self.upload("palopo", path, as_of=AS_OF.replace(day=4))
            from participants import services

            t0 = time.monotonic()
            services.import_run(import_id=imp.pk)
            t1 = time.monotonic()
            self.record(label, imp.pk, t0=t0, t1=t1, before=before,
                        note=f"{path.stat().st_size} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--outage", type=float, default=20.0, help="seconds Redis stays down")
    parser.add_argument("--faults", default="broker_down,poison_csv,xlsx_bombs")
    args = parser.parse_args()
    # never the app's Redis: the broker of the outage fault is our own redis-server
    child_env = {"REDIS_URL": "redis://127.0.0.1:1/0", "CELERY_TASK_ALWAYS_EAGER": "False"}
    with scratch_django(prefix="satu-outage-", child_env=child_env, shared=("REDIS_URL",)) as (work, env):
        bench = OutageBench(rows=args.rows, work=work, env=env, outage=args.outage)
        bench.setup(baseline=True)
        bench.run(args.faults)
        bench.report()

if __name__ == "__main__":
    main()
