"""Load benchmark: the list pages of a big regency under concurrent load, through gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/satu REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python -m bench.load --participants 100000 [--duration 30] [--connections 16] [--json]

What it does, with the app's own code paths:
1. a scratch database `satu_load_<N>` (or `--db NAME`) on the server of DATABASE_URL, migrated;
   seeded in a child process (dev settings): the demo tenants, users (TOTP) and campaigns
   (`reporting.demo.demo_seed` with no participants), then KC Palopo's generated list with N
   rows per regency (`participants.imports.generate`) through the real import
   (`import_create` + `import_run`), screening (`screening_run_for_import`), approved
   assessments for about 40 % of Luwu Utara's queue and 2 % submitted ones (bulk insert of the
   rows the workflow leaves), a few pledges through the services (`donations.demo.seed_pledges`)
   and 1 % more in SQL. `--reuse-db` keeps an existing database (migrated, not seeded again);
2. static files collected into a scratch directory; gunicorn with W sync workers on
   127.0.0.1 at a free port, production settings (`bench.load_settings`: DEBUG off, whitenoise
   manifest, persistent connections, the Redis cache);
3. one session per role, stored as allauth stores a login that passed the TOTP step (the
   password record and the `mfa` record), so the MFA middleware lets it through as it does a
   real login; in a child process with the same settings, each page once through Django's
   test client: its status, its SQL query count (`CaptureQueriesContext`) and its time alone;
4. each page with `wrk` (C connections, T seconds, a Lua script counting non-2xx answers),
   waiting after each until gunicorn is idle again (bounded);
5. the table on stdout (with `--json`: on stderr, and the JSON on stdout);
   gunicorn is stopped at the end, also on Ctrl-C; the database is dropped unless --keep-db.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
REGENCY_SLUG = "luwu-utara"
CAMPAIGN_SLUG = "lutra-peduli"
ADMIN_EMAIL = "admin.lutra@demo.test"
ASSESSOR_EMAIL = "asesor.lutra@demo.test"
DONOR_EMAIL = "donatur@demo.test"
PAGE_SIZE_WEB = 50  # participants.views.PARTICIPANTS_PER_PAGE
PAGE_SIZE_API = 50  # REST_FRAMEWORK["PAGE_SIZE"]
DEEP_PAGE = 500

WRK_MISSING = (
    "wrk tidak ditemukan di PATH. Pasang dulu: `apt-get install -y wrk` (Debian/Ubuntu) "
    "atau `brew install wrk` (macOS), lalu jalankan lagi."
)

# Counts non-2xx answers per wrk thread (wrk's own count leaves 3xx out) and prints the
# summary as one JSON line, so that nothing depends on the layout of wrk's text report.
WRK_SCRIPT = r"""
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  non2xx = 0
end
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, ' ..
    '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_timeout": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, bad,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class Page:
    name: str
    label: str
    role: str  # "admin", "assessor", "donor" or "" (anonymous)


PAGES: tuple[Page, ...] = (
    Page("participants", "participants page 1", "admin"),
    Page("participants_search", "participants, name search", "admin"),
    Page("participants_deep", "participants, deep page", "admin"),
    Page("api", "API participants page 1", "admin"),
    Page("api_deep", "API participants, deep page", "admin"),
    Page("queue", "assessor queue", "assessor"),
    Page("campaign_participants", "donor: campaign participants", "donor"),
    Page("dashboard", "regency dashboard", "admin"),
    Page("campaign_public", "campaign page, anonymous", ""),
)
PAGE_NAMES = tuple(p.name for p in PAGES)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- pure helpers (tests/bench) ------------------------------------------------------------


def parse_wrk_output(text: str) -> dict[str, Any]:
    """The summary the Lua script prints (`WRK_JSON {...}`), in seconds and requests/s.

    Raises ValueError when wrk printed no summary (it failed to start or to connect)."""
    match = re.search(r"^WRK_JSON (\{.*\})\s*$", text, flags=re.MULTILINE)
    if match is None:
        raise ValueError(f"wrk printed no summary: {text.strip()[-300:]!r}")
    raw = json.loads(match.group(1))
    duration = raw["duration_us"] / 1e6
    errors = {k.removeprefix("errors_"): raw[k] for k in raw if k.startswith("errors_")}
    return {
        "requests": raw["requests"],
        "duration_s": round(duration, 3),
        "rps": round(raw["requests"] / duration, 2) if duration > 0 else 0.0,
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "max_ms": round(raw["max_us"] / 1000, 1),
        "non2xx": raw["non2xx"],
        "socket_errors": errors,
        "bytes": raw["bytes"],
    }


def deep_page(count: int, page_size: int, wanted: int = DEEP_PAGE) -> int:
    """Page `wanted`, or the last page when the list is shorter (a page past the end is a 404
    in the API, which would measure the error page instead of the list)."""
    return max(1, min(wanted, math.ceil(count / page_size)))


def page_paths(*, regency_count: int, search: str, deep_cursor: str | None = None) -> dict[str, str]:
    """The path of each page. `deep_cursor`: the keyset position of row (DEEP_PAGE - 1) x 50,
    where pages that page by cursor are read (the `next` links lead there); without it, the
    deep pages are `?page=N` (read with OFFSET)."""
    base = f"/r/{REGENCY_SLUG}/participants/"
    api = f"/api/v1/regencies/{REGENCY_SLUG}/participants/"
    if deep_cursor:
        web_deep_path, api_deep_path = f"{base}?cursor={deep_cursor}", f"{api}?cursor={deep_cursor}"
    else:
        web_deep_path = f"{base}?page={deep_page(regency_count, PAGE_SIZE_WEB)}"
        api_deep_path = f"{api}?page={deep_page(regency_count, PAGE_SIZE_API)}"
    return {
        "participants": base,
        "participants_search": f"{base}?q={search}",
        "participants_deep": web_deep_path,
        "api": api,
        "api_deep": api_deep_path,
        "queue": f"/r/{REGENCY_SLUG}/assessments/",
        "campaign_participants": f"/c/{CAMPAIGN_SLUG}/participants/",
        "dashboard": f"/r/{REGENCY_SLUG}/",
        "campaign_public": f"/c/{CAMPAIGN_SLUG}/",
    }


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _cpu(value: Any) -> str:
    return "-" if value is None else f"{value:,.1f}"


def format_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table: one row per page."""
    lines = [
        "| page | path | req/s | p50 ms | p95 ms | p99 ms | queries | alone ms | web CPU ms/req | "
        "db CPU ms/req | non-2xx | socket errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        errors = sum((r.get("socket_errors") or {}).values())
        if r.get("requests") == 0:
            # wrk records only answers that arrived: none in the whole run is no latency at all.
            r = r | {"p50_ms": None, "p95_ms": None, "p99_ms": None,
                     "non2xx": f"{r.get('non2xx', 0)} (none answered in {r.get('duration_s', 0):.0f} s)"}
        lines.append(
            f"| {r['label']} | `{r['path']}` | {r.get('rps', 0):,.1f} | {_ms(r.get('p50_ms'))} | "
            f"{_ms(r.get('p95_ms'))} | {_ms(r.get('p99_ms'))} | {r.get('queries', '-')} | "
            f"{_ms(r.get('alone_ms'))} | {_cpu(r.get('web_cpu_ms'))} | {_cpu(r.get('db_cpu_ms'))} | "
            f"{r.get('non2xx', '-')} | {errors} |"
        )
    return "\n".join(lines)


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


# --- database -------------------------------------------------------------------------------


def _admin(url: str):
    import psycopg2

    conn = psycopg2.connect(with_db(url, "postgres"))
    conn.autocommit = True
    return conn


def db_exists(url: str, name: str) -> bool:
    conn = _admin(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cur.fetchone() is not None
    finally:
        conn.close()


def admin_sql(url: str, sql: str) -> None:
    conn = _admin(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def backend_pids(url: str, name: str) -> list[int]:
    """The PostgreSQL server processes serving database `name` (the workers' connections)."""
    conn = _admin(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name])
            return [pid for (pid,) in cur.fetchall()]
    finally:
        conn.close()


# --- CPU per request ------------------------------------------------------------------------------


def cpu_times(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process still there (psutil; {} without it)."""
    try:
        import psutil
    except ImportError:
        return {}
    seconds = {}
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            seconds[pid] = times.user + times.system
    return seconds


def worker_pids(server_pid: int) -> list[int]:
    try:
        import psutil
    except ImportError:
        return []
    with contextlib.suppress(psutil.Error):
        return [child.pid for child in psutil.Process(server_pid).children(recursive=True)]
    return []


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings (a process that appeared counts whole)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


# --- children ---------------------------------------------------------------------------------


def _child_seed(participants: int) -> dict[str, Any]:
    """In the scratch database, dev settings (demo data allowed)."""
    import django

    django.setup()
    import datetime as dt
    import random
    import zoneinfo

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from config.celery_app import app as celery_app

    # Follow-up tasks of the import go to an in-process broker; screening runs here instead.
    celery_app.conf.update(broker_url="memory://localhost/")
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    from reporting.demo import demo_seed

    demo_seed(participants=0)
    from accounts.models import User
    from assessments.demo import _answers
    from assessments.models import Assessment, Screening
    from assessments.questionnaire import QUESTIONNAIRE_VERSION
    from assessments.screening import screening_run_for_import
    from donations.demo import seed_pledges
    from participants import services
    from participants.imports.generate import generate_arrears_file
    from participants.management.commands.generate_arrears import branch_regencies
    from participants.models import ImportMode, Participant
    from regencies.models import BpjsBranch, Regency

    timings: dict[str, float] = {}
    branch = BpjsBranch.objects.get(code="palopo")
    specs = branch_regencies(branch.code) or []
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(branch.timezone)).date()
    with tempfile.TemporaryDirectory(prefix="satu-load-") as tmp:
        path = Path(tmp) / f"tunggakan-palopo-{today.isoformat()}.csv"
        t = time.monotonic()
        generate_arrears_file(regencies=specs, branch=branch.code, rows=participants * len(specs), out=path,
                              fmt="csv", seed=1, as_of=today, even=True, columns_2026=True)
        timings["generate_s"] = round(time.monotonic() - t, 1)
        t = time.monotonic()
        arrears_import, _duplicate = services.import_create(
            branch=branch, actor=None, uploaded_file=path, as_of=today, mode=ImportMode.FULL, enqueue=False)
        arrears_import = services.import_run(import_id=arrears_import.pk)
        timings["import_s"] = round(time.monotonic() - t, 1)
    t = time.monotonic()
    screening_run_for_import(import_id=arrears_import.pk)
    timings["screening_s"] = round(time.monotonic() - t, 1)

    # The rows the assessment workflow leaves (start, answers, submit, a second person's
    # approval), inserted in bulk: through the services this would take hours at 100k.
    regency = Regency.objects.get(slug=REGENCY_SLUG)
    assessor = User.objects.get(email=ASSESSOR_EMAIL)
    supervisor = User.objects.get(email="supervisor.lutra@demo.test")
    rng = random.Random(2026)
    now = timezone.now()
    candidates = list(
        Screening.objects.for_regency(regency).exclude(recommendation__in=["likely_ineligible", "written_off"])
        .order_by("participant_id").values_list("participant_id", flat=True))
    rows = []
    for index, participant_id in enumerate(candidates):
        if index % 5 in (0, 2):
            rows.append(Assessment(
                regency=regency, participant_id=participant_id, status="approved", outcome="eligible",
                questionnaire_version=QUESTIONNAIRE_VERSION, answers=_answers(rng, today), route="donor",
                valid_until=today + dt.timedelta(days=365), created_by=assessor, submitted_by=assessor,
                submitted_at=now, decided_by=supervisor, decided_at=now, consent_recorded_by=assessor,
                consent_recorded_at=now))
        elif index % 50 == 1:
            rows.append(Assessment(
                regency=regency, participant_id=participant_id, status="submitted",
                questionnaire_version=QUESTIONNAIRE_VERSION, answers=_answers(rng, today), route="donor",
                created_by=assessor, submitted_by=assessor, submitted_at=now, consent_recorded_by=assessor,
                consent_recorded_at=now))
    t = time.monotonic()
    Assessment.objects.bulk_create(rows, batch_size=5000)
    timings["assessments_s"] = round(time.monotonic() - t, 1)
    # A few pledges through the real services, then 1 % of the approved ones in SQL.
    pledges = seed_pledges()["pledges"]
    with connection.cursor() as cur:
        cur.execute(_BULK_PLEDGES_SQL, {"regency": regency.pk, "slug": CAMPAIGN_SLUG,
                                        "donor": User.objects.get(email=DONOR_EMAIL).pk})
        bulk = cur.rowcount
        cur.execute("ANALYZE")
    return {
        "participants_in_regency": Participant.objects.for_regency(regency).count(),
        "participants_total": Participant.all_regencies.count(),
        "assessments": len(rows), "pledges_services": pledges, "pledges_sql": bulk,
        "timings": timings, "seconds": round(time.monotonic() - started, 1),
    }


# Pledged (60 %), paid (20 %) and reserved (20 %) pledges of the demo donor on lutra-peduli for
# every 100th approved participant, with the columns `pledge_reserve` / `pledge_confirm` set.
_BULK_PLEDGES_SQL = """
WITH pick AS (
    SELECT p.id, p.regency_id, p.arrears_amount, p.months_in_arrears, p.last_import_id, p.as_of,
           p.segment, row_number() OVER (ORDER BY p.id) AS k
    FROM participants_participant p
    JOIN assessments_assessment a ON a.participant_id = p.id AND a.status = 'approved'
    WHERE p.regency_id = %(regency)s
      AND NOT EXISTS (SELECT 1 FROM donations_pledge x WHERE x.participant_id = p.id)
), chosen AS (SELECT * FROM pick WHERE k %% 100 = 0)
INSERT INTO donations_pledge (regency_id, public_id, campaign_id, participant_id, donor_id, is_pooled,
    status, amount, arrears_amount, months_in_arrears, monthly_tariff, months_ahead, arrears_import_id,
    as_of, segment, expires_at, pledged_at, paid_at, release_reason, created_at, updated_at,
    payment_code, paid_amount, lapse_notices, quoted_on, covers_until)
SELECT b.regency_id, gen_random_uuid(), c.id, b.id, %(donor)s, false,
    CASE WHEN b.k %% 5 = 0 THEN 'paid' WHEN b.k %% 5 = 1 THEN 'reserved' ELSE 'pledged' END,
    b.arrears_amount + 35000, b.arrears_amount, b.months_in_arrears, 35000, 0, b.last_import_id, b.as_of,
    b.segment, CASE WHEN b.k %% 5 = 1 THEN now() + interval '3 days' END,
    CASE WHEN b.k %% 5 <> 1 THEN now() END, CASE WHEN b.k %% 5 = 0 THEN now() END, '', now(), now(),
    'LB' || b.id, CASE WHEN b.k %% 5 = 0 THEN b.arrears_amount + 35000 ELSE 0 END, 0,
    b.as_of, date_trunc('month', b.as_of)::date
FROM chosen b JOIN donations_campaign c ON c.slug = %(slug)s
"""


def _session_for(user) -> str:
    """A stored session of `user` as allauth leaves it after the password and the TOTP step."""
    from importlib import import_module

    from allauth.mfa.models import Authenticator
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = "allauth.account.auth_backends.AuthenticationBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    records: list[dict[str, Any]] = [{"method": "password", "at": time.time(), "email": user.email}]
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if totp is not None:
        records.append({"method": "mfa", "at": time.time(), "id": totp.pk, "type": "totp"})
    store["account_authentication_methods"] = records
    store["account_authentication_methods_user"] = str(user.pk)
    store.create()
    return store.session_key


def _deep_cursor(client: Any, *, rows: int) -> str | None:
    """The cursor after the first `rows` participants, reached by following the API's `next`
    links (200 a page, then the rest); None when the API pages by number only."""
    from urllib.parse import parse_qs, urlsplit

    path = f"/api/v1/regencies/{REGENCY_SLUG}/participants/"
    cursor: str | None = None
    left = rows
    while left > 0:
        query = {"page_size": str(min(left, 200))}
        if cursor:
            query["cursor"] = cursor
        response = client.get(path, query)
        following = response.json().get("next") if response.status_code == 200 else None
        cursor = (parse_qs(urlsplit(following).query).get("cursor") or [None])[0] if following else None
        if cursor is None:
            return None
        left -= min(left, 200)
    return cursor


def _child_prepare(single: int) -> dict[str, Any]:
    """With the gunicorn's settings: sessions, then each page once through the test client."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from participants.models import Participant
    from regencies.models import Regency

    regency = Regency.objects.get(slug=REGENCY_SLUG)
    count = Participant.objects.for_regency(regency).count()
    first = Participant.objects.for_regency(regency).order_by("id").values_list("name", flat=True).first() or "A"
    search = first.split()[-1].lower()
    sessions = {
        "admin": _session_for(User.objects.get(email=ADMIN_EMAIL)),
        "assessor": _session_for(User.objects.get(email=ASSESSOR_EMAIL)),
        "donor": _session_for(User.objects.get(email=DONOR_EMAIL)),
    }
    walker = Client(HTTP_HOST="127.0.0.1")
    walker.cookies[settings.SESSION_COOKIE_NAME] = sessions["admin"]
    cursor = _deep_cursor(walker, rows=min(count, DEEP_PAGE * PAGE_SIZE_WEB) - PAGE_SIZE_WEB)
    paths = page_paths(regency_count=count, search=search, deep_cursor=cursor)
    pages = []
    for page in PAGES:
        client = Client(HTTP_HOST="127.0.0.1")
        if page.role:
            client.cookies[settings.SESSION_COOKIE_NAME] = sessions[page.role]
        path = paths[page.name]
        response = client.get(path)  # warm: the first request of a process fills caches
        times, queries = [], None
        for _ in range(max(1, single)):
            with CaptureQueriesContext(connection) as captured:
                t = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - t) * 1000)
            if queries is None:
                queries = len(captured.captured_queries)
        pages.append({"name": page.name, "label": page.label, "role": page.role, "path": path,
                      "status": response.status_code, "queries": queries,
                      "alone_ms": round(sorted(times)[len(times) // 2], 1),
                      "alone_max_ms": round(max(times), 1)})
    return {"regency_participants": count, "sessions": sessions, "pages": pages,
            "session_cookie": settings.SESSION_COOKIE_NAME}


# --- the run ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "bench.load", *args], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[:2]} failed ({proc.returncode}): {proc.stdout[-500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _get(port: int, path: str, cookie: str | None, timeout: float) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        started = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def wait_idle(port: int, *, limit: float) -> float:
    """Until /healthz answers within a second (the requests wrk left queued are done)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        with contextlib.suppress(OSError, http.client.HTTPException):
            _status, seconds = _get(port, "/healthz", None, timeout=limit)
            if seconds < 1.0:
                break
        time.sleep(0.5)
    return time.monotonic() - started


def run_wrk(*, wrk: str, url: str, cookie: str | None, connections: int, threads: int, duration: int,
            script: Path) -> dict[str, Any]:
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", f"--timeout={duration + 60}s",
           "-s", str(script)]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    proc = subprocess.run([*cmd, url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=duration + 120)
    return parse_wrk_output(proc.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1000, help="rows per regency of KC Palopo's list")
    parser.add_argument("--duration", type=int, default=30, help="seconds of wrk per page (default 30)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--pages", default=",".join(PAGE_NAMES), help=f"subset of {','.join(PAGE_NAMES)}")
    parser.add_argument("--single", type=int, default=3, help="requests alone per page (test client)")
    parser.add_argument("--db", default=None, help="database name (default satu_load_<N>)")
    parser.add_argument("--reuse-db", action="store_true", help="use the database as it is when it exists")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--drain-limit", type=float, default=180.0,
                        help="seconds to wait after each page for gunicorn to be idle")
    parser.add_argument("--json", action="store_true", help="only the JSON on stdout (table on stderr)")
    parser.add_argument("--child", choices=("seed", "prepare"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "seed":
        print(json.dumps(_child_seed(args.participants)))
        return 0
    if args.child == "prepare":
        print(json.dumps(_child_prepare(args.single)))
        return 0

    wrk = shutil.which("wrk")
    if wrk is None:
        log(WRK_MISSING)
        return 2
    if args.participants < 1 or args.duration < 1 or args.connections < 1:
        parser.error("--participants, --duration and --connections must be at least 1")
    wanted = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = set(wanted) - set(PAGE_NAMES)
    if unknown:
        parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
    db_name = args.db or f"satu_load_{args.participants}"
    if not db_name.startswith("satu_load"):
        parser.error("--db must start with satu_load (a scratch database this tool may drop)")
    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/satu")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7")
    scratch = with_db(base_url, db_name)
    static_root = Path(tempfile.mkdtemp(prefix="satu-load-static-"))
    common = os.environ | {"DATABASE_URL": scratch, "REDIS_URL": redis_url, "DJANGO_DEBUG": "False",
                           "DJANGO_LOG_LEVEL": "ERROR", "PYTHONPATH": str(ROOT)}
    prod = common | {
        "DJANGO_SETTINGS_MODULE": "bench.load_settings", "BENCH_STATIC_ROOT": str(static_root),
        "DJANGO_SECRET_KEY": "bench-load-not-secret-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    }
    server: subprocess.Popen[bytes] | None = None
    created = False

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    started = time.monotonic()
    result: dict[str, Any] = {}
    try:
        seed: dict[str, Any] = {"reused": True}
        if not (args.reuse_db and db_exists(base_url, db_name)):
            admin_sql(base_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            admin_sql(base_url, f'CREATE DATABASE "{db_name}"')
            created = True
            log(f"==> {db_name}: migrate and seed {args.participants:,} participants per regency of KC Palopo")
            seed = _run_child(["--child", "seed", "--participants", str(args.participants)],
                              common | {"DJANGO_SETTINGS_MODULE": "config.settings.dev"})
            log(f"    seeded: {seed}")
        else:
            log(f"==> {db_name}: reused as it is (migrations applied if any are new)")
            subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                           env=common | {"DJANGO_SETTINGS_MODULE": "config.settings.dev"}, check=True)
        t = time.monotonic()
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
                       cwd=ROOT, env=prod, check=True)
        log(f"==> static files collected ({time.monotonic() - t:.1f} s)")
        prepared = _run_child(["--child", "prepare", "--single", str(args.single)], prod)
        for page in prepared["pages"]:
            log(f"    alone: {page['name']:<22} {page['status']}  {page['queries']:>3} queries  "
                f"{page['alone_ms']:>8.1f} ms  {page['path']}")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", str(args.workers),
             "--bind", f"127.0.0.1:{port}", "--timeout", "600", "--backlog", "2048",
             "--log-level", "warning"],
            cwd=ROOT, env=prod, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, http.client.HTTPException):
                if _get(port, "/healthz", None, timeout=5)[0] == 200:
                    break
            if server.poll() is not None:
                raise RuntimeError("gunicorn exited at start")
            time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not answer /healthz within 60 s")
        log(f"==> gunicorn: {args.workers} workers on 127.0.0.1:{port}; wrk {args.connections} connections, "
            f"{args.duration} s per page")
        script = static_root / "count.lua"
        script.write_text(WRK_SCRIPT)
        # Each worker imports the views' modules at its first requests (seconds on this machine):
        # a few seconds of the light public page first, so that no page pays for it.
        run_wrk(wrk=wrk, url=f"http://127.0.0.1:{port}/c/{CAMPAIGN_SLUG}/", cookie=None,
                connections=2 * args.workers, threads=1, duration=3, script=script)
        wait_idle(port, limit=args.drain_limit)
        rows = []
        cookie_name = prepared["session_cookie"]
        for page in prepared["pages"]:
            if page["name"] not in wanted:
                continue
            cookie = f"{cookie_name}={prepared['sessions'][page['role']]}" if page["role"] else None
            status, _seconds = _get(port, page["path"], cookie, timeout=600)
            web_before = cpu_times(worker_pids(server.pid))
            db_before = cpu_times(backend_pids(base_url, db_name))
            measured = run_wrk(wrk=wrk, url=f"http://127.0.0.1:{port}{page['path']}", cookie=cookie,
                               connections=args.connections, threads=args.threads, duration=args.duration,
                               script=script)
            drained = wait_idle(port, limit=args.drain_limit)
            # What a request cost the machine, however many cores it has: the workers' and their
            # PostgreSQL connections' CPU over the run (the drain included), per answered request.
            answered = max(int(measured.get("requests") or 0), 1)
            if web_before:
                measured["web_cpu_ms"] = round(
                    1000 * cpu_used(web_before, cpu_times(worker_pids(server.pid))) / answered, 1)
                measured["db_cpu_ms"] = round(
                    1000 * cpu_used(db_before, cpu_times(backend_pids(base_url, db_name))) / answered, 1)
            row = page | measured | {"gunicorn_status": status, "drain_s": round(drained, 1),
                                     "load_average_1m": round(os.getloadavg()[0], 2)}
            rows.append(row)
            log(f"    {page['name']:<22} {measured['rps']:>7.1f} req/s  p50 {measured['p50_ms']:>8.1f}  "
                f"p95 {measured['p95_ms']:>8.1f}  p99 {measured['p99_ms']:>8.1f} ms  CPU web "
                f"{_cpu(measured.get('web_cpu_ms'))} db {_cpu(measured.get('db_cpu_ms'))} ms/req  non-2xx "
                f"{measured['non2xx']}  (status {status}, drained {drained:.1f} s)")
        result = {
            "participants_per_regency": args.participants,
            "regency_participants": prepared["regency_participants"], "db": db_name,
            "workers": args.workers, "connections": args.connections, "duration_s": args.duration,
            "cpus": os.cpu_count(), "seed": seed, "pages": rows,
            "wall_s": round(time.monotonic() - started, 1),
        }
    except KeyboardInterrupt:
        log("==> interrupted")
        return 130
    finally:
        if server is not None and server.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        shutil.rmtree(static_root, ignore_errors=True)
        if created and not args.keep_db:
            with contextlib.suppress(Exception):
                admin_sql(base_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            log(f"==> dropped {db_name}")
    table = format_table(result["pages"])
    header = (f"{result['regency_participants']:,} participants in Luwu Utara, gunicorn {args.workers} workers, "
              f"wrk {args.connections} connections x {args.duration} s, {os.cpu_count()} CPUs")
    if args.json:
        log(header)
        log(table)
        print(json.dumps(result))
    else:
        print(header)
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
