"""Tables the database itself keeps append-only (for migrations: `migrations.RunSQL(*append_only(t))`)."""


def append_only(table: str) -> tuple[str, str]:
    """SQL that makes `table` refuse every UPDATE and DELETE of a row, and SQL that lifts it."""
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
"""
    backward = f"""
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
DROP FUNCTION IF EXISTS {table}_refuse_change();
"""
    return forward, backward
