"""`manage.py bench_import --rows N [--format csv|xlsx] [--branch palopo] [--seed S]`

The import benchmark. On one generated file and a SCRATCH
database (`satu_bench_<pid>` on the same server, migrated, dropped at the end;
the app's own data is never touched) it times:
  a. pipeline     this import pipeline end to end (fresh database),
  b. reimport     the same rows again (a new file: same rows + a blank line, a
                  later as-of date; every row unchanged),
  c. import_export django-import-export into Participant with
                  import_id_fields=['card_number'], on min(N, 20000) rows only,
  d. psql_copy    `psql \\copy` of the CSV into an unindexed table, three times;
                  every ratio divides by the fastest.
Each method runs in its own child process, whose tasks go to an in-process broker (never
the app's); a pipeline child connects to it before its clock starts, as the worker that
runs imports has done before its first task. Peak RSS is that child's
ru_maxrss (os.wait4). A table goes to stderr, the JSON to the last stdout line.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

IMPORT_EXPORT_MAX_ROWS = 20_000
AS_OF = dt.date(2026, 10, 1)
REIMPORT_AS_OF = dt.date(2026, 11, 1)


def enter_child() -> None:
    """What every benchmark child does first: refuse any database but a scratch one, and send
    the tasks it enqueues (screening and reconciliation after an import, e-mails) to an
    in-process broker that ends with the child. On the real broker a worker would take them,
    with ids that mean other imports and pledges in the app's own database."""
    from config.celery_app import app as celery_app

    if not connection.settings_dict["NAME"].startswith("satu_bench_"):
        raise CommandError("--child runs only in a satu_bench_* scratch database", returncode=2)
    celery_app.conf.update(broker_url="memory://localhost/")


class Command(BaseCommand):
    help = "Benchmark impor tunggakan pada basis data sementara (tabel di stderr, JSON di stdout)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, required=True)
        parser.add_argument("--format", dest="fmt", choices=("csv", "xlsx"), default="csv")
        parser.add_argument("--branch", default="palopo")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--methods", default="pipeline,reimport,import_export,psql_copy",
            help="comma-separated subset of pipeline,reimport,import_export,psql_copy",
        )
        # Internal: one method inside a child process.
        parser.add_argument("--child", default=None, help="(internal)")
        parser.add_argument("--file", default=None, help="(internal)")
        parser.add_argument("--as-of", dest="as_of", default=None, help="(internal)")

    def handle(self, *args, **options):
        settings.DEBUG = False
        if options["child"]:
            self._child(options)
            return
        rows = options["rows"]
        if rows < 1:
            raise CommandError("--rows harus paling sedikit 1.", returncode=2)
        methods = [m.strip() for m in options["methods"].split(",") if m.strip()]
        unknown = set(methods) - {"pipeline", "reimport", "import_export", "psql_copy"}
        if unknown:
            raise CommandError(f"metode tidak dikenal: {', '.join(sorted(unknown))}", returncode=2)
        from regencies.reference import BRANCH_BY_CODE

        if options["branch"] not in BRANCH_BY_CODE:
            raise CommandError(f"cabang {options['branch']!r} tidak ada di data referensi", returncode=1)
        self._parent(rows=rows, fmt=options["fmt"], branch=options["branch"], seed=options["seed"],
                     methods=methods)

    # --- parent -----------------------------------------------------------------

    def _parent(self, *, rows: int, fmt: str, branch: str, seed: int, methods: list[str]) -> None:
        work = Path(tempfile.mkdtemp(prefix="satu-bench-"))
        db_name = f"satu_bench_{os.getpid()}"
        results: dict[str, dict] = {}
        try:
            files = self._generate(work, rows=rows, fmt=fmt, branch=branch, seed=seed)
            self._admin_sql(f'CREATE DATABASE "{db_name}"')
            env = self._child_env(db_name, work)
            self.stderr.write(f"basis data sementara {db_name}: migrasi ...")
            self._spawn(["--child", "setup"], env=env, branch=branch)
            if "pipeline" in methods:
                results["pipeline"] = self._spawn(
                    ["--child", "pipeline", "--file", str(files["main"]), "--as-of", AS_OF.isoformat()],
                    env=env, branch=branch,
                )
            if "reimport" in methods:
                if "pipeline" not in methods:
                    self._spawn(["--child", "pipeline", "--file", str(files["main"]),
                                 "--as-of", AS_OF.isoformat()], env=env, branch=branch)
                results["reimport"] = self._spawn(
                    ["--child", "pipeline", "--file", str(files["again"]),
                     "--as-of", REIMPORT_AS_OF.isoformat()],
                    env=env, branch=branch,
                )
            if "import_export" in methods:
                self._spawn(["--child", "reset"], env=env, branch=branch)
                results["import_export"] = self._spawn(
                    ["--child", "import_export", "--file", str(files["ie"])], env=env, branch=branch
                )
                results["import_export"]["note"] = (
                    f"only the first {min(rows, IMPORT_EXPORT_MAX_ROWS)} rows (CSV), into an empty table"
                )
            if "psql_copy" in methods:
                results["psql_copy"] = self._psql_copy(files["csv"], env=env, rows=rows, branch=branch)
        finally:
            with contextlib.suppress(Exception):
                self._admin_sql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            shutil.rmtree(work, ignore_errors=True)
        self._report(rows=rows, fmt=fmt, results=results, file_bytes=files["size"])

    def _generate(self, work: Path, *, rows: int, fmt: str, branch: str, seed: int) -> dict:
        from participants.imports.generate import generate_arrears_file, regency_spec
        from regencies.reference import BRANCH_BY_CODE, REGENCY_BY_CODE

        specs = [
            regency_spec(code=r.code, name=r.name, kind=r.kind, district_names=r.districts)
            for r in (REGENCY_BY_CODE[c] for c in BRANCH_BY_CODE[branch].regency_codes)
        ]
        started = time.monotonic()
        csv_path = work / "tunggakan.csv"
        generate_arrears_file(regencies=specs, branch=branch, rows=rows, out=csv_path, fmt="csv",
                              seed=seed, as_of=AS_OF)
        files: dict[str, Any] = {"csv": csv_path, "main": csv_path}
        if fmt == "xlsx":
            xlsx_path = work / "tunggakan.xlsx"
            generate_arrears_file(regencies=specs, branch=branch, rows=rows, out=xlsx_path, fmt="xlsx",
                                  seed=seed, as_of=AS_OF)
            files["main"] = xlsx_path
            # The same rows, other bytes: re-save through a CSV copy with one blank line.
        again = work / "tunggakan-lagi.csv"
        with csv_path.open("rb") as src, again.open("wb") as dst:
            shutil.copyfileobj(src, dst)
            dst.write(b"\n")
        files["again"] = again
        ie_path = work / "tunggakan-ie.csv"
        with csv_path.open("r", encoding="utf-8") as src, ie_path.open("w", encoding="utf-8") as dst:
            for index, text in enumerate(src):
                if index > IMPORT_EXPORT_MAX_ROWS:
                    break
                dst.write(text)
        files["ie"] = ie_path
        files["size"] = files["main"].stat().st_size
        self.stderr.write(
            f"berkas {files['main'].name}: {rows} baris, {files['size'] / 1e6:.1f} MB "
            f"({time.monotonic() - started:.1f} s)"
        )
        return files

    def _admin_sql(self, sql: str) -> None:
        params = connection.get_connection_params()
        params["dbname"] = "postgres"
        conn = connection.get_new_connection(params)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def _child_env(self, db_name: str, work: Path) -> dict:
        s = connection.settings_dict
        user = s.get("USER") or ""
        password = s.get("PASSWORD") or ""
        host = s.get("HOST") or ""
        port = s.get("PORT") or ""
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        netloc = f"{auth}{host}{':' + str(port) if port else ''}"
        env = dict(os.environ)
        env.update(
            DATABASE_URL=f"postgres://{netloc}/{db_name}",
            DJANGO_MEDIA_ROOT=str(work / "media"),
            DJANGO_DEBUG="False",
            PGDATABASE=db_name,
            PGHOST=host,
            PGPORT=str(port),
            PGUSER=user,
        )
        if password:
            env["PGPASSWORD"] = password
        env.setdefault("DJANGO_SETTINGS_MODULE", os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.dev"))
        return env

    def _spawn(self, args: list[str], *, env: dict, branch: str) -> dict:
        return self.run_child("bench_import", ["--rows", "1", "--branch", branch, *args], env=env)

    def run_child(self, command: str, args: list[str], *, env: dict) -> dict:
        """`manage.py <command> <args>` in a child process on the scratch database (`env`)."""
        manage = Path(settings.BASE_DIR) / "manage.py"
        return self._run_measured([sys.executable, str(manage), command, *args], env=env)

    def _run_measured(self, cmd: list[str], *, env: dict) -> dict:
        # Peak RSS: /usr/bin/time reports its child's ru_maxrss; a child forked straight
        # from this process would count this process's own pages (before exec) too.
        rss_file = tempfile.NamedTemporaryFile(suffix=".rss", delete=False)  # noqa: SIM115
        rss_file.close()
        timer = shutil.which("time") or "/usr/bin/time"
        measured = [timer, "-f", "%M", "-o", rss_file.name, *cmd] if Path(timer).exists() else cmd
        started = time.monotonic()
        proc = subprocess.Popen(measured, env=env, stdout=subprocess.PIPE, stderr=sys.stderr)
        output = proc.stdout.read().decode() if proc.stdout is not None else ""
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        max_kib = usage.ru_maxrss
        with contextlib.suppress(ValueError, OSError, IndexError):
            max_kib = int(Path(rss_file.name).read_text().split()[-1])
        with contextlib.suppress(OSError):
            os.unlink(rss_file.name)
        if proc.returncode != 0:
            raise CommandError(f"{' '.join(cmd[2:6])}... gagal (kode {proc.returncode}): {output[-500:]}")
        lines = output.strip().splitlines()
        result = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
        result["peak_rss_mb"] = round(max_kib / 1024, 1)  # KiB on Linux
        result["process_seconds"] = round(wall, 3)
        return result

    def _psql_copy(self, csv_path: Path, *, env: dict, rows: int, branch: str, runs: int = 3) -> dict:
        """The reference every ratio divides by: the fastest of `runs` copies into a new table.

        One copy alone moves by up to 2x from run to run (a checkpoint, the page cache);
        the fastest is the strictest yardstick for the pipeline.
        """
        psql = shutil.which("psql") or "/usr/bin/psql"
        cmd = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
               f"\\copy bench_copy FROM '{csv_path}' WITH (FORMAT csv, HEADER true)"]
        measured = []
        for _ in range(runs):
            self._spawn(["--child", "copy_table"], env=env, branch=branch)
            measured.append(self._run_measured(cmd, env=env))
        result = min(measured, key=lambda each: each["process_seconds"])
        result.update(rows=rows, seconds=result["process_seconds"],
                      each_seconds=[each["process_seconds"] for each in measured])
        return result

    def _report(self, *, rows: int, fmt: str, results: dict, file_bytes: int) -> None:
        for result in results.values():
            if result.get("seconds"):
                result["rows_per_s"] = round(result["rows"] / result["seconds"], 1)
        copy = results.get("psql_copy", {}).get("seconds")
        ratios = {}
        for name in ("pipeline", "reimport"):
            if copy and results.get(name, {}).get("seconds"):
                ratios[f"{name}_vs_psql_copy"] = round(results[name]["seconds"] / copy, 1)
        ie = results.get("import_export", {}).get("rows_per_s")
        if ie and results.get("pipeline", {}).get("rows_per_s"):
            ratios["pipeline_vs_import_export_per_row"] = round(results["pipeline"]["rows_per_s"] / ie, 1)
        self.stderr.write("")
        self.stderr.write(f"{'metode':<15}{'baris':>10}{'detik':>10}{'baris/s':>12}{'RSS puncak MB':>15}")
        for name, result in results.items():
            self.stderr.write(
                f"{name:<15}{result.get('rows', 0):>10}{result.get('seconds', 0):>10.2f}"
                f"{result.get('rows_per_s', 0):>12.0f}{result.get('peak_rss_mb', 0):>15.1f}"
            )
        for key, value in ratios.items():
            self.stderr.write(f"{key}: {value}x")
        self.stdout.write(json.dumps({
            "rows": rows, "format": fmt, "file_bytes": file_bytes, "cpus": os.cpu_count(),
            "methods": results, "ratios": ratios,
        }))

    # --- children (run in the scratch database) --------------------------------------

    def _child(self, options) -> None:
        enter_child()
        kind = options["child"]
        if kind == "setup":
            call_command("migrate", verbosity=0)
            self._setup_branch(options["branch"])
            self.stdout.write("{}")
        elif kind == "reset":
            with connection.cursor() as cur:
                cur.execute(
                    "TRUNCATE participants_arrearsrecord, participants_importrowerror, "
                    "participants_participant, participants_family CASCADE"
                )
            self.stdout.write("{}")
        elif kind == "copy_table":
            with connection.cursor() as cur:
                cur.execute("DROP TABLE IF EXISTS bench_copy")
                cur.execute("CREATE TABLE bench_copy (" + ", ".join(f"c{i} text" for i in range(17)) + ")")
            self.stdout.write("{}")
        elif kind == "pipeline":
            self._child_pipeline(options)
        elif kind == "import_export":
            self._child_import_export(options)
        else:
            raise CommandError(f"unknown child {kind!r}", returncode=2)

    def _setup_branch(self, code: str) -> None:
        from regencies.models import BpjsBranch, Regency
        from regencies.reference import BRANCH_BY_CODE, REGENCY_BY_CODE

        ref = BRANCH_BY_CODE[code]
        branch, _created = BpjsBranch.objects.get_or_create(
            code=ref.code, defaults={"name": ref.name, "timezone": ref.timezone}
        )
        for regency_code in ref.regency_codes:
            r = REGENCY_BY_CODE[regency_code]
            regency, _created = Regency.objects.get_or_create(
                code=r.code, defaults={"name": r.name, "slug": r.slug, "kind": r.kind, "timezone": r.timezone}
            )
            branch.regencies.add(regency)

    def _child_pipeline(self, options) -> None:
        from config.celery_app import app as celery_app
        from participants import services
        from regencies.models import BpjsBranch

        branch = BpjsBranch.objects.get(code=options["branch"])
        # The import runs in a Celery worker, which holds its broker connection (and has
        # loaded Celery's messaging modules) before its first task; this fresh process has
        # not, and would pay ~0.2 s for it at the import's first .delay() (the follow-up tasks).
        with celery_app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=1)
        started = time.monotonic()
        arrears_import, duplicate = services.import_create(
            branch=branch, actor=None, uploaded_file=options["file"],
            as_of=dt.date.fromisoformat(options["as_of"]), mode="full", enqueue=False,
        )
        arrears_import = services.import_run(import_id=arrears_import.pk)
        seconds = time.monotonic() - started
        summary = services.import_summary(arrears_import)
        self.stdout.write(json.dumps({
            "rows": summary["rows"], "seconds": round(seconds, 3), "status": summary["status"],
            "valid": summary["valid"], "new": summary["new"], "updated": summary["updated"],
            "unchanged": summary["unchanged"], "duplicate": duplicate,
        }))

    def _child_import_export(self, options) -> None:
        import tablib

        resource = _participant_resource()
        started = time.monotonic()
        with open(options["file"], encoding="utf-8") as handle:
            dataset = tablib.Dataset().load(handle.read(), format="csv")
        result = resource.import_data(dataset, dry_run=False, raise_errors=True, use_transactions=True)
        seconds = time.monotonic() - started
        self.stdout.write(json.dumps({
            "rows": len(dataset), "seconds": round(seconds, 3),
            "new": result.totals.get("new", 0), "errors": result.has_errors(),
        }))


def _participant_resource():
    """django-import-export's usual way: one ModelResource with widgets for the file's columns."""
    from import_export import fields, resources, widgets

    from participants.models import Participant
    from regencies.models import Regency

    class RegencyCodeWidget(widgets.ForeignKeyWidget):
        def clean(self, value, row=None, **kwargs):
            return super().clean(str(value)[:5], row=row, **kwargs)

    class StatusWidget(widgets.CharWidget):
        def clean(self, value, row=None, **kwargs):
            return "active" if str(value).strip().upper() == "AKTIF" else "inactive"

    date = widgets.DateWidget(format="%d-%m-%Y")

    class ParticipantResource(resources.ModelResource):
        card_number = fields.Field(attribute="card_number", column_name="no_kartu")
        nik = fields.Field(attribute="nik", column_name="nik")
        name = fields.Field(attribute="name", column_name="nama")
        birth_date = fields.Field(attribute="birth_date", column_name="tgl_lahir", widget=date)
        sex = fields.Field(attribute="sex", column_name="jenis_kelamin")
        relationship = fields.Field(attribute="relationship", column_name="hubungan_keluarga")
        care_class = fields.Field(attribute="care_class", column_name="kelas", widget=widgets.IntegerWidget())
        segment = fields.Field(attribute="segment", column_name="segmen")
        regency = fields.Field(
            attribute="regency", column_name="kode_wilayah", widget=RegencyCodeWidget(Regency, "code")
        )
        address = fields.Field(attribute="address", column_name="alamat")
        months_in_arrears = fields.Field(
            attribute="months_in_arrears", column_name="bulan_tunggak", widget=widgets.IntegerWidget()
        )
        arrears_amount = fields.Field(
            attribute="arrears_amount", column_name="jumlah_tunggakan", widget=widgets.IntegerWidget()
        )
        last_paid_date = fields.Field(attribute="last_paid_date", column_name="tgl_bayar_terakhir", widget=date)
        bpjs_status = fields.Field(attribute="bpjs_status", column_name="status_peserta", widget=StatusWidget())

        class Meta:
            model = Participant
            import_id_fields = ["card_number"]
            fields = (
                "card_number", "nik", "name", "birth_date", "sex", "relationship", "care_class", "segment",
                "regency", "address", "months_in_arrears", "arrears_amount", "last_paid_date", "bpjs_status",
            )
            skip_unchanged = True

        def get_queryset(self):
            return Participant.all_regencies.all()

    return ParticipantResource()
