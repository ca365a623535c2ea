"""`make run`: services, migrate, seed_demo, Celery workers + beat and the web server on 127.0.0.1:8000.

Ctrl-C (SIGINT) or SIGTERM stops everything this started, the embedded PostgreSQL and
Redis included; when one child dies the rest are stopped and the dead one is named.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import urllib.error
import urllib.request

from scripts.procs import ProcessGroup, SignalWatch, StopRequested, run_step
from scripts.services import (
    ROOT,
    VAR,
    ServiceError,
    port_is_free,
    port_owner,
    remove_env_file,
    start_services,
    write_env_file,
)

DEMO_LOGINS = [
    ("bpjs.palopo@demo.test", "BPJS admin, KC Palopo"),
    ("bpjs.selong@demo.test", "BPJS admin, KC Selong (Lombok Timur 52.03)"),
    ("admin.lutra@demo.test", "regency admin, Luwu Utara"),
    ("staf.lutra@demo.test", "Pemda staff, Luwu Utara"),
    ("asesor.lutra@demo.test", "assessor, Luwu Utara"),
    ("supervisor.lutra@demo.test", "assessment supervisor, Luwu Utara"),
    ("bendahara.lutra@demo.test", "treasurer (bendahara), Luwu Utara"),
    ("admin.lotim@demo.test", "regency admin, Lombok Timur"),
    ("asesor.lotim@demo.test", "assessor, Lombok Timur"),
    ("donatur@demo.test", "community donor"),
]

SEED_JSON = VAR / "seed_demo.json"
CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"

# (name, queues it consumes, label): see CELERY_TASK_ROUTES.
WORKERS = [
    ("imports", "imports", "the Celery worker for imports"),
    ("jobs", "jobs", "the Celery worker for screening, reconciliation and other jobs"),
    ("email", "email,celery", "the Celery worker for e-mail and the outbox relay"),
]


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run_settings(environ: dict[str, str] | None = None) -> str:
    """The settings module of every process `make run` starts: config.settings.dev, whatever
    DJANGO_SETTINGS_MODULE the shell exports; another only when asked for by name in SATU_SETTINGS
    (`make run SATU_SETTINGS=config.settings.prod`)."""
    return (os.environ if environ is None else environ).get("SATU_SETTINGS") or "config.settings.dev"


def fail(message: str) -> int:
    print(f"\nmake run: {message}", file=sys.stderr, flush=True)
    return 1


OPERATOR_LOGIN = ("operator@demo.test", "national operator (Django admin /admin/)")
# Every demo user except the donor has TOTP with this secret.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105 - the documented demo secret


def logins_table(password: str, totp_secret: str = DEMO_TOTP_SECRET) -> str:
    logins = [*DEMO_LOGINS, OPERATOR_LOGIN]
    width = max(len(email) for email, _ in logins)
    rows = [f"  {'e-mail':<{width}}  role", f"  {'-' * width}  {'-' * 40}"]
    rows += [f"  {email:<{width}}  {role}" for email, role in logins]
    rows.append(f"  password for every demo user: {password}")
    rows.append(f"  two-factor code (every demo user except donatur@demo.test): TOTP secret {totp_secret}")
    rows.append(f"    get the current code with `oathtool --totp -b {totp_secret}` or any authenticator app")
    return "\n".join(rows)


def email_hint(environ: dict[str, str] | None = None) -> str:
    """Where the e-mails of this run go: with the dev settings' console backend, into this
    console, in the lines of the process that sends them (web: sign-up verification and password
    reset links; email: invitations and notifications)."""
    environ = dict(os.environ if environ is None else environ)
    backend = environ.get("DJANGO_EMAIL_BACKEND", "")
    if run_settings(environ) == "config.settings.dev" and backend in ("", CONSOLE_BACKEND):
        return ("  E-mails are not sent: they are printed here, in the `web |` lines (sign-up "
                "verification and password\n  reset links: copy the http://127.0.0.1... link) "
                "and the `email |` lines (invitations, notifications).")
    return f"  E-mails are sent by {backend or 'the e-mail backend of ' + run_settings(environ)}."


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own http://127.0.0.1 URL
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer (503 included) means the server is up
    except (urllib.error.URLError, OSError):
        return False


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make run", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--no-seed", action="store_true", help="skip seed_demo")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    began = time.monotonic()
    watch = SignalWatch()
    if not port_is_free(args.host, args.port):
        owner = port_owner(args.port)
        how = f"`kill {owner[1]}`" if owner else f"`ss -ltnp | grep :{args.port}` shows which"
        return fail(
            f"Port {args.port} on {args.host} is already in use"
            f"{f' by {owner[0]} (PID {owner[1]})' if owner else ''}: stop that program ({how}) "
            f"or run on another port with `make run PORT={args.port + 1}`."
        )

    services = None
    group: ProcessGroup | None = None
    died = None
    try:
        (VAR / "static").mkdir(parents=True, exist_ok=True)  # STATIC_ROOT: WhiteNoise warns when absent
        say("Services")
        services = start_services(pg_dir=VAR / "postgres", redis_dir=VAR / "redis", database="satu")
        watch.check()
        if services.started:
            write_env_file(services.env)

        env = {
            **os.environ,
            **services.env,
            "DJANGO_SETTINGS_MODULE": run_settings(),
            "PYTHONUNBUFFERED": "1",
        }
        group = ProcessGroup(env=env)
        python = sys.executable

        say("manage.py migrate")
        code = run_step(group, watch, "migrate", "migrate",
                        [python, "manage.py", "migrate", "--no-input", "-v", "1"])
        if code != 0:
            return fail(f"`manage.py migrate` failed (exit code {code}); its output is above.")

        if args.no_seed:
            say("seed_demo skipped (--no-seed)")
        else:
            say("manage.py seed_demo (idempotent)")
            # Its progress and summary are for people (stderr, shown); its JSON line is for
            # scripts and would bury them: it goes to a file.
            with SEED_JSON.open("w", encoding="utf-8") as seed_json:
                code = run_step(group, watch, "seed", "seed_demo", [python, "manage.py", "seed_demo"],
                                stdout=seed_json)
            say(f"seed_demo's JSON summary: {SEED_JSON.relative_to(ROOT)}")
            if code != 0:
                say(f"WARNING: `manage.py seed_demo` failed (exit code {code}); the app starts "
                    "anyway, but the demo data may be incomplete (output above).")

        say("Celery workers (imports, jobs, email), Celery beat and the web server")
        # One worker per queue (config/settings/base.py CELERY_TASK_ROUTES), so an arrears list
        # never waits behind screening or reconciliation; the e-mail worker also takes the
        # default queue (the outbox relay, which beat sends every OUTBOX_RELAY_SECONDS).
        for queue, queues, label in WORKERS:
            group.start(f"worker-{queue}", label,
                        [python, "-m", "celery", "-A", "config.celery_app", "worker", "-l", "info",
                         "-Q", queues, "-n", f"{queue}@%h", "--concurrency", "1"])
        group.start("beat", "Celery beat",
                    [python, "-m", "celery", "-A", "config.celery_app", "beat", "-l", "info",
                     "--schedule", str(VAR / "celerybeat-schedule")])
        group.start("web", "the web server (manage.py runserver)",
                    [python, "manage.py", "runserver", f"{args.host}:{args.port}"])

        url = f"http://{args.host}:{args.port}/"
        ready = False
        while True:
            dead = group.first_dead()
            if dead is not None:
                died = dead
                break
            if not ready and answers(url + "healthz"):
                ready = True
                password = os.environ.get("DEMO_PASSWORD", "demo-satu-untuk-satu")
                totp_secret = os.environ.get("DEMO_TOTP_SECRET", DEMO_TOTP_SECRET)
                print(
                    f"\n  Satu untuk Satu is running at {url}  (ready in "
                    f"{time.monotonic() - began:.1f} s)\n  API docs: {url}api/v1/docs/   "
                    f"health: {url}healthz   admin: {url}admin/\n\n{logins_table(password, totp_secret)}\n\n"
                    f"{email_hint()}\n\n"
                    "  Press Ctrl-C to stop everything.\n",
                    flush=True,
                )
            watch.sleep(0.25 if not ready else 0.5)
    except StopRequested as stop:
        print(f"\n==> {stop} received: stopping", flush=True)
    except ServiceError as exc:
        return fail(str(exc))
    finally:
        stopped = group.stop() if group is not None else []
        if died is not None:
            code = died.process.returncode
            how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
            print(
                f"\nmake run: {died.label} stopped unexpectedly ({how}); "
                "stopping the rest. Its last output is above.",
                file=sys.stderr, flush=True,
            )
        if services is not None:
            stopped += services.stop()
            remove_env_file()
        if stopped:
            print(f"==> Stopped: {', '.join(stopped)}", flush=True)
    return 1 if died is not None else 0


if __name__ == "__main__":
    sys.exit(main())
