"""What the stand-alone benchmark scripts (faults_200k, outage_200k, pledge_race) share: progress
on stderr, the scratch database beside DATABASE_URL's, and Django set up on it in this process.

They run as `python bench/<script>.py`, outside `manage.py`: nothing here touches Django before
`scratch_django` sets it up."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/satu"  # when the environment names none


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def with_db(url: str, name: str) -> str:
    """`url` with the database `name`."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def admin_sql(url: str, sql: str) -> None:
    """One statement on the server's `postgres` database, outside a transaction (CREATE/DROP DATABASE)."""
    import psycopg2

    conn = psycopg2.connect(with_db(url, "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@contextlib.contextmanager
def scratch_django(*, prefix: str, child_env: dict[str, str] | None = None,
                   shared: tuple[str, ...] = ()) -> Iterator[tuple[Path, dict[str, str]]]:
    """A scratch database `satu_bench_faults_<pid>` on DATABASE_URL's server and a work folder
    (`prefix`), Django set up on them in this process (dev settings, DEBUG off, tasks to an
    in-process broker, never the app's). Yields (work folder, the children's environment:
    `child_env` added; of it, the keys in `shared` apply here too). The database and the folder
    are gone afterwards, whatever happens."""
    url = os.environ.get("DATABASE_URL", DATABASE_URL)
    db_name = f"satu_bench_faults_{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix=prefix))
    env = dict(os.environ)
    env.update(DATABASE_URL=with_db(url, db_name), DJANGO_MEDIA_ROOT=str(work / "media"), DJANGO_DEBUG="False",
               DJANGO_SETTINGS_MODULE="config.settings.dev", PYTHONPATH=str(ROOT), **(child_env or {}))
    admin_sql(url, f'CREATE DATABASE "{db_name}"')
    try:
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_MEDIA_ROOT", "DJANGO_DEBUG",
                                                "DJANGO_SETTINGS_MODULE", *shared)})
        import django

        django.setup()
        from django.conf import settings

        from config.celery_app import app

        settings.DEBUG = False
        app.conf.update(broker_url="memory://localhost/", task_always_eager=False)
        yield work, env
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        for _ in range(3):
            try:
                admin_sql(url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
                break
            except Exception:
                time.sleep(1)
        shutil.rmtree(work, ignore_errors=True)
