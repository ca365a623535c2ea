"""Tables the database itself keeps append-only (for migrations: `migrations.RunSQL(*append_only(t))`).

Three walls, so that no one who uses the application's database role can rewrite history
(SECURITY.md, "Append-only audit trail and ledger"):

1. Triggers: every UPDATE or DELETE of a row and every TRUNCATE of the table is refused with
   SQLSTATE 42501 (insufficient_privilege), whoever asks, the table's owner included.
2. The application's role owns no table (docker-compose.yml, deploy/postgres-init/): it can
   neither DROP nor DISABLE the triggers (both need ownership) and holds no TRUNCATE privilege.
3. Triggers do not fire with `session_replication_role = replica`, which only a superuser may
   set. The test runner, which connects as a superuser, sets it for its own flush between
   transactional tests (tests/conftest.py); the application's role cannot.
"""


def append_only(table: str) -> tuple[str, str]:
    """SQL that makes `table` refuse every UPDATE, DELETE and TRUNCATE, and SQL that lifts it."""
    forward_truncate, backward_truncate = append_only_truncate(table)
    forward = f"""
CREATE OR REPLACE FUNCTION {table}_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table} is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change();
{forward_truncate}"""
    backward = f"""{backward_truncate}
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
DROP FUNCTION IF EXISTS {table}_refuse_change();
"""
    return forward, backward


def append_only_truncate(table: str) -> tuple[str, str]:
    """SQL that makes `table` (already `append_only`) refuse TRUNCATE, also as the target of another
    table's `TRUNCATE ... CASCADE`, and SQL that lifts it. `CREATE OR REPLACE`: the same trigger
    whether a table got it from `append_only` or from a later migration."""
    forward = f"""
CREATE OR REPLACE TRIGGER {table}_no_truncate
    BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse_change();
"""
    backward = f"""
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
"""
    return forward, backward
