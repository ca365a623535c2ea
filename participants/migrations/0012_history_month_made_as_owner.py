"""A month's partition of the arrears history is made by a function that runs as the tables' owner.

Only the owner of `participants_arrearsrecord` may attach a partition to it (PostgreSQL refuses
anyone else: "must be owner of table"), and in the deployment of docker-compose.yml the web, the
workers and beat log in as the application's role, which owns nothing (deploy/postgres-init/).
The import (before its apply) and the monthly beat job therefore failed to make a new month as
that role. `participants_history_month_make(month)` does the whole making (the advisory lock,
the table, the month's rows moved out of DEFAULT, ATTACH) with the rights of the role that ran
this migration, the owner (SECURITY DEFINER); its search path is this schema, then pg_temp, so
nothing the caller creates is found in their place. The table it makes belongs to the owner,
so the default privileges give the application its rows, as for a table a migration makes.

It returns NULL when the month is attached already, -1 when a table of that name exists but is
detached (its rows keep going to DEFAULT), else the rows it moved out of DEFAULT (0 or more).
"""

from django.db import migrations

LOCK_KEY = (0x5A7A, 0x0921)  # participants.partitions._LOCK_KEY: every maker of partitions waits for the others

FUNCTION = """
CREATE FUNCTION {schema}.participants_history_month_make(month date) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    low date := date_trunc('month', month)::date;
    high date := (date_trunc('month', month) + interval '1 month')::date;
    part text := format('participants_arrearsrecord_y%sm%s', to_char(low, 'YYYY'), to_char(low, 'MM'));
    parent regclass := '{schema}.participants_arrearsrecord'::regclass;
    moved bigint := 0;
BEGIN
    PERFORM pg_advisory_xact_lock({lock_a}, {lock_b});
    IF EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
               WHERE i.inhparent = parent AND c.relname = part) THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = part AND c.relkind = 'r'
               AND c.relnamespace = '{schema}'::regnamespace) THEN
        RETURN -1;
    END IF;
    EXECUTE format('CREATE TABLE {schema}.%I (LIKE {schema}.participants_arrearsrecord'
                   ' INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', part);
    IF EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
               WHERE i.inhparent = parent AND c.relname = 'participants_arrearsrecord_default') THEN
        EXECUTE format('WITH moved AS (DELETE FROM {schema}.participants_arrearsrecord_default'
                       ' WHERE as_of >= %L AND as_of < %L RETURNING *)'
                       ' INSERT INTO {schema}.%I SELECT * FROM moved', low, high, part);
        GET DIAGNOSTICS moved = ROW_COUNT;
    END IF;
    EXECUTE format('ALTER TABLE {schema}.participants_arrearsrecord ATTACH PARTITION {schema}.%I'
                   ' FOR VALUES FROM (%L) TO (%L)', part, low, high);
    RETURN moved;
END;
$$;
"""


def create(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT quote_ident(current_schema())")
        (schema,) = cur.fetchone()
        cur.execute(FUNCTION.format(schema=schema, lock_a=LOCK_KEY[0], lock_b=LOCK_KEY[1]))


def drop(apps, schema_editor):
    schema_editor.execute("DROP FUNCTION participants_history_month_make(date)")


class Migration(migrations.Migration):
    dependencies = [("participants", "0011_clearing_history_once_in_arrears")]

    operations = [migrations.RunPython(create, drop)]
