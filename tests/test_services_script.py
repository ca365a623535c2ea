"""scripts/services.py: the URLs it builds, the env file the dev settings read, one-sentence faults.

Starting the embedded PostgreSQL inside the suite would be too slow; `make run` and
`make test` start it for real.
"""

import os
import socket

import environ
import pytest

from scripts.run import DEMO_LOGINS, logins_table
from scripts.services import (
    PID_KEY,
    ServiceError,
    check_database,
    check_redis,
    format_env_text,
    load_env_file,
    parse_env_text,
    port_is_free,
    postgres_socket_url,
    redact_url,
    redis_tcp_url,
)


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("socket_dir", "port", "host", "expected_port"),
    [
        ("/work/main/var/postgres", 5432, "/work/main/var/postgres", ""),
        ("/srv/a+b/with space/var/postgres", 5433, "/srv/a+b/with space/var/postgres", 5433),
    ],
)
def test_socket_url_is_understood_by_django_environ(socket_dir, port, host, expected_port):
    url = postgres_socket_url(socket_dir, database="satu", port=port)

    config = environ.Env.db_url_config(url)

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["HOST"] == host
    assert config["NAME"] == "satu"
    assert config["USER"] == "postgres"
    assert config["PORT"] == expected_port


def test_redis_url_is_one_that_redis_py_and_celery_both_accept():
    import redis
    from kombu import Connection

    url = redis_tcp_url(6390, db=2)

    assert url == "redis://127.0.0.1:6390/2"
    kwargs = redis.connection.parse_url(url)
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", 6390, 2)
    assert Connection(url).transport_cls == "redis"


def test_redact_url_hides_only_the_password():
    assert redact_url("postgres://satu:s3cret@db:5432/satu") == "postgres://satu:***@db:5432/satu"
    assert redact_url("redis://:pw@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert redact_url("postgres://postgres@127.0.0.1/satu") == "postgres://postgres@127.0.0.1/satu"


def test_env_text_round_trips_and_ignores_comments_and_quotes():
    text = format_env_text({"DATABASE_URL": "postgres://x@/%2Fa/satu", "REDIS_URL": "redis://h:1/0"}, pid=42)

    parsed = parse_env_text(text + "\n# note\n\nQUOTED='a b'\nnot a line\n")

    assert parsed == {
        PID_KEY: "42",
        "DATABASE_URL": "postgres://x@/%2Fa/satu",
        "REDIS_URL": "redis://h:1/0",
        "QUOTED": "a b",
    }


def test_loader_sets_only_variables_that_are_not_set(tmp_path):
    path = tmp_path / "services.env"
    path.write_text(format_env_text({"DATABASE_URL": "postgres://file/satu", "REDIS_URL": "redis://file:1/0"}, pid=os.getpid()))
    env = {"DATABASE_URL": "postgres://mine/satu"}

    applied = load_env_file(path, env)

    assert applied == {"REDIS_URL": "redis://file:1/0"}
    assert env == {"DATABASE_URL": "postgres://mine/satu", "REDIS_URL": "redis://file:1/0"}
    assert PID_KEY not in env


def test_loader_ignores_the_file_of_a_run_that_is_gone(tmp_path):
    path = tmp_path / "services.env"
    path.write_text(format_env_text({"DATABASE_URL": "postgres://stale/satu"}, pid=123456))
    env: dict[str, str] = {}

    assert load_env_file(path, env, is_alive=lambda pid: False) == {}
    assert env == {}
    assert load_env_file(path, env, is_alive=lambda pid: pid == 123456) == {"DATABASE_URL": "postgres://stale/satu"}


def test_loader_without_a_file_or_pid_changes_nothing(tmp_path):
    env: dict[str, str] = {}
    assert load_env_file(tmp_path / "missing.env", env) == {}
    (tmp_path / "nopid.env").write_text("DATABASE_URL=postgres://x/satu\n")
    assert load_env_file(tmp_path / "nopid.env", env) == {}
    assert env == {}


@pytest.mark.parametrize(("check", "url", "command", "opening", "variable"), [
    (check_database, "postgres://postgres:pw@127.0.0.1:{port}/satu", "make run",
     "PostgreSQL is not reachable at 127.0.0.1:{port}", "DATABASE_URL"),
    (check_redis, "redis://127.0.0.1:{port}/0", "make test",
     "Redis is not reachable at redis://127.0.0.1:{port}/0", "REDIS_URL"),
], ids=["postgres", "redis"])
def test_an_unreachable_service_is_one_sentence_naming_it(check, url, command, opening, variable):
    port = free_loopback_port()

    with pytest.raises(ServiceError) as caught:
        check(url.format(port=port), command=command)

    message = str(caught.value)
    assert message.startswith(opening.format(port=port))
    assert f"unset {variable}" in message and command in message
    assert "pw" not in message.replace("***", "")  # the password is never shown
    assert "\n" not in message


def test_database_that_is_not_postgres_is_refused_clearly():
    with pytest.raises(ServiceError, match="does not point at PostgreSQL"):
        check_database("mysql://root@127.0.0.1/satu")


def test_missing_database_is_named(db):
    from django.conf import settings

    cfg = settings.DATABASES["default"]
    url = f"postgres://{cfg['USER']}@{cfg['HOST'] or '127.0.0.1'}:{cfg['PORT'] or 5432}/satu_no_such_db_x"
    if str(cfg["HOST"]).startswith("/"):
        url = postgres_socket_url(cfg["HOST"], database="satu_no_such_db_x", user=cfg["USER"], port=int(cfg["PORT"] or 5432))

    with pytest.raises(ServiceError, match='The database "satu_no_such_db_x" does not exist'):
        check_database(url)
    # make test only needs the server: pytest-django creates its own test_ database
    check_database(url, need_database=False)


def test_port_in_use_is_detected():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert port_is_free("127.0.0.1", port) is False
    assert port_is_free("127.0.0.1", port) is True


def test_demo_logins_printed_are_the_contract_ones():
    table = logins_table("demo-satu-untuk-satu")

    assert len(DEMO_LOGINS) == 10
    for email in ("bpjs.palopo@demo.test", "admin.lutra@demo.test", "bendahara.lutra@demo.test",
                  "donatur@demo.test"):
        assert email in table
    assert "demo-satu-untuk-satu" in table
    assert "operator@demo.test" in table
    assert "JBSWY3DPEHPK3PXP" in table  # the demo TOTP secret (CONTRACT.md "MFA and tokens")
