"""Benchmark (not a test): 200 concurrent pledge attempts on 50 participants through gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/satu .venv/bin/python bench/pledge_race.py

What it does, with public tools only:
1. creates a scratch database `satu_bench_pledge_<pid>` on the server of DATABASE_URL and
   migrates it (the app's own data is never touched);
2. seeds one regency with N participants in arrears, each with an approved assessment, one
   active public campaign, and D donor users with verified e-mails and API tokens;
3. starts gunicorn (W sync workers) on 127.0.0.1 at a free port, settings `config.settings.test`
   (e-mail to memory, Celery tasks run in the request like a worker would, no SMTP needed);
4. releases D threads together, each POSTing `campaigns/<slug>/pledges/` for participant
   (i mod N) with its own token (urllib; one connection per request), bounded in time;
5. asserts exactly N x 201, the rest 409, no 5xx, and N reserved pledges in the database;
6. prints throughput and p50/p95 latency (table on stderr, JSON as the last stdout line),
   stops gunicorn and drops the database.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.standalone import DATABASE_URL, admin_sql, log, with_db  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(*, participants: int, donors: int) -> tuple[str, list[str], list[str]]:
    """In this process (Django set up against the scratch database)."""
    import datetime as dt

    from allauth.account.models import EmailAddress
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from accounts.tokens import token_create
    from assessments.models import Assessment
    from donations.models import Audience, Campaign, CampaignStatus, Kind
    from participants.models import Participant
    from regencies.models import District, Regency

    regency = Regency.objects.create(code="73.22", name="Luwu Utara", slug="luwu-utara", timezone="Asia/Makassar")
    district = District.objects.create(regency=regency, code="73.22.01", name="Masamba")
    admin = User.objects.create_user(email="admin.bench@example.test", password=None)
    people = Participant.objects.bulk_create([
        Participant(regency=regency, card_number=f"{1_000_000_000 + i:013d}", nik=f"{7322014101800000 + i:016d}",
                    name=f"Peserta Bench {i}", care_class=3, segment="PBPU", district=district,
                    months_in_arrears=6 + i % 12, arrears_amount=(6 + i % 12) * 35_000, status="inactive",
                    as_of=dt.date(2026, 11, 1))
        for i in range(participants)
    ])
    Assessment.objects.bulk_create([
        Assessment(regency=regency, participant=p, status="approved", outcome="eligible",
                   valid_until=timezone.localdate() + dt.timedelta(days=365), questionnaire_version=1, created_by=admin)
        for p in people
    ])
    campaign = Campaign.objects.create(regency=regency, slug="bench-peduli", title="Bench", audience=Audience.PUBLIC,
                                       kind=Kind.ONE_TO_ONE, status=CampaignStatus.ACTIVE)
    unusable = "!"  # an unusable password: donors authenticate with their tokens
    users = User.objects.bulk_create([User(email=f"donor{i}@bench.test", password=unusable) for i in range(donors)])
    EmailAddress.objects.bulk_create([EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users])
    tokens = [token_create(user=u, name="bench")[1] for u in users]
    connection.close()
    return campaign.slug, [str(p.public_id) for p in people], tokens


def fire(*, base: str, slug: str, participants: list[str], tokens: list[str], timeout: float) -> list[dict]:
    barrier = threading.Barrier(len(tokens))
    results: list[dict] = [{} for _ in tokens]

    def attempt(i: int) -> None:
        body = json.dumps({"participant": participants[i % len(participants)]}).encode()
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            f"{base}/api/v1/campaigns/{slug}/pledges/", data=body, method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Token {tokens[i]}"},
        )
        barrier.wait(timeout=30)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - our own server
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, payload = exc.code, exc.read()
        except Exception as exc:
            status, payload = 0, repr(exc).encode()
        results[i] = {"status": status, "seconds": time.perf_counter() - started, "body": payload[:300]}

    threads = [threading.Thread(target=attempt, args=(i,), daemon=True) for i in range(len(tokens))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout + 35
    for t in threads:
        t.join(max(deadline - time.monotonic(), 0.1))
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--participants", type=int, default=50)
    parser.add_argument("--attempts", type=int, default=200, help="donors, one attempt each")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds for the whole burst")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL", DATABASE_URL)
    db_name = f"satu_bench_pledge_{os.getpid()}"
    scratch = with_db(base_url, db_name)
    # Every attempt comes from 127.0.0.1: lift the per-address reservation limit for the race.
    env = os.environ | {"DATABASE_URL": scratch, "DJANGO_SETTINGS_MODULE": "config.settings.test",
                        "DJANGO_LOG_LEVEL": "ERROR", "RESERVATION_RATE_IP": "100000/hour"}
    python = str(ROOT / ".venv" / "bin" / "python")
    gunicorn = str(ROOT / ".venv" / "bin" / "gunicorn")
    admin_sql(base_url, f'CREATE DATABASE "{db_name}"')
    server = None
    try:
        log(f"==> {db_name}: migrate")
        subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        os.environ.update({"DATABASE_URL": scratch, "DJANGO_SETTINGS_MODULE": "config.settings.test"})
        import django

        django.setup()
        slug, participants, tokens = seed(participants=args.participants, donors=args.attempts)
        log(f"==> seeded {len(participants)} eligible participants, {len(tokens)} donors with tokens")

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [gunicorn, "config.wsgi:application", "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
             "--backlog", "2048", "--timeout", "60", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/api/v1/campaigns/", timeout=2).read()  # noqa: S310
                break
            except Exception:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        log(f"==> gunicorn: {args.workers} workers on {base}; firing {len(tokens)} attempts")

        started = time.perf_counter()
        results = fire(base=base, slug=slug, participants=participants, tokens=tokens, timeout=args.timeout)
        wall = time.perf_counter() - started

        # Service time without queueing: 20 attempts one after another (all 409 by now).
        serial = []
        for i in range(20):
            one = fire(base=base, slug=slug, participants=participants[i % len(participants):][:1],
                       tokens=tokens[i:i + 1], timeout=args.timeout)
            serial.append(one[0]["seconds"])

        statuses: dict[int, int] = {}
        for r in results:
            statuses[r.get("status", -1)] = statuses.get(r.get("status", -1), 0) + 1
        latencies = [r["seconds"] for r in results if "seconds" in r]
        from donations.models import Pledge

        reserved = Pledge.all_regencies.filter(status="reserved").count()
        distinct = Pledge.all_regencies.filter(status="reserved").values("participant").distinct().count()
        from django.db import connection

        connection.close()
        summary = {
            "workers": args.workers, "participants": len(participants), "attempts": len(tokens),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "reserved_in_db": reserved, "distinct_participants": distinct,
            "wall_seconds": round(wall, 3), "throughput_rps": round(len(results) / wall, 1),
            "p50_ms": round(1000 * statistics.median(latencies), 1),
            "p95_ms": round(1000 * percentile(latencies, 0.95), 1),
            "max_ms": round(1000 * max(latencies), 1),
            "serial_409_p50_ms": round(1000 * statistics.median(serial), 1),
            "load_average_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
        }
        log(f"  statuses {summary['statuses']}  reserved in DB {reserved} ({distinct} participants)")
        log(f"  wall {summary['wall_seconds']} s  throughput {summary['throughput_rps']} req/s  "
            f"p50 {summary['p50_ms']} ms  p95 {summary['p95_ms']} ms  max {summary['max_ms']} ms  "
            f"(one at a time: p50 {summary['serial_409_p50_ms']} ms)")
        problems = []
        if statuses.get(201, 0) != len(participants):
            problems.append(f"expected {len(participants)} x 201, got {statuses.get(201, 0)}")
        if statuses.get(409, 0) != len(tokens) - len(participants):
            problems.append(f"expected {len(tokens) - len(participants)} x 409, got {statuses.get(409, 0)}")
        if any(code >= 500 or code <= 0 for code in statuses):
            bad = [r for r in results if r.get("status", 0) >= 500 or r.get("status", 0) <= 0][:3]
            problems.append(f"5xx or no answer: {bad}")
        if reserved != len(participants) or distinct != len(participants):
            problems.append(f"database holds {reserved} reserved pledges for {distinct} participants")
        summary["ok"] = not problems
        summary["problems"] = problems
        print(json.dumps(summary))
        return 0 if not problems else 1
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        if not args.keep:
            admin_sql(base_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            log(f"==> dropped {db_name}")


if __name__ == "__main__":
    sys.exit(main())
