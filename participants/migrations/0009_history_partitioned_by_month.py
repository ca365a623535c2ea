"""The arrears history (`participants_arrearsrecord`) becomes a table partitioned by RANGE on
`as_of`, one partition per list month, and a DEFAULT partition for a month nobody prepared.

`as_of` is the list's date (the import pipeline writes the import's `as_of` into every record),
so the month of a record is the month of its list: no extra column is needed. PostgreSQL wants
the partition key in every unique index: the primary key becomes (id, as_of) in the database
while Django keeps `id` as the primary key (ids come from one sequence, so they stay unique),
and the one-record-per-participant-and-import constraint becomes (participant, as_of, import),
which allows the same rows (an import has one `as_of`). Nothing has a foreign key to this table.

The existing rows are copied into the new table (one partition per month found, plus the
current and the next month), the old table dropped and the new one renamed; the secondary
indexes are made again with their names and definitions. Reversible: the reverse copies the
partitions still attached back into a plain table (a partition detached by
`manage.py history_partitions detach` stays where it is, a table of its own).

Self-contained on purpose (no import of participants.partitions): a migration keeps working
when the application code changes later.
"""

from __future__ import annotations

import datetime as dt

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.utils import CursorWrapper
from django.db.migrations.state import StateApps
from django.utils import timezone
from psycopg2 import sql

TABLE = "participants_arrearsrecord"
SEQUENCE = "participants_arrearsrecord_id_seq"
UNIQUE = "record_participant_import_unique"


def _q(name: str) -> str:
    """A quoted identifier (names here are constants or built from dates)."""
    return '"' + name.replace('"', '""') + '"'


def _month_after(month: dt.date) -> dt.date:
    """The first day of the month after `month` (a first of the month)."""
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _secondary_index_definitions(cursor: CursorWrapper, table: str) -> list[str]:
    """CREATE INDEX statements of `table`'s indexes that are neither the primary key nor a
    constraint's (those are made by name below)."""
    cursor.execute(
        "SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) "
        "ORDER BY x.indexrelid",
        [table],
    )
    # A partitioned table's index reads `ON ONLY table`: made again it must reach the partitions.
    return [definition.replace(" ON ONLY ", " ON ", 1) for (definition,) in cursor.fetchall()]


def _next_id(cursor: CursorWrapper) -> int:
    """The first id the sequence of the new table hands out: past every id used so far."""
    cursor.execute(sql.SQL("SELECT coalesce(max(id), 0) + 1 FROM {}").format(sql.Identifier(TABLE)))
    next_id = int(cursor.fetchone()[0])
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
    sequence = cursor.fetchone()[0]
    if sequence:
        # pg_get_serial_sequence gives the name quoted and schema-qualified already
        cursor.execute(sql.SQL("SELECT last_value + 1 FROM {}").format(sql.SQL(sequence)))
        next_id = max(next_id, int(cursor.fetchone()[0]))
    return next_id


def partition(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Plain table -> partitioned by month (rows copied)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT DISTINCT date_trunc('month', as_of)::date FROM {}").format(sql.Identifier(TABLE)))
        months = {row[0] for row in cursor.fetchall()}
        this_month = timezone.localdate().replace(day=1)
        months |= {this_month, _month_after(this_month)}
        indexes = _secondary_index_definitions(cursor, TABLE)
        next_id = _next_id(cursor)

        new = f"{TABLE}_partitioned"
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id DROP IDENTITY IF EXISTS")
        cursor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")
        cursor.execute(f"CREATE SEQUENCE {SEQUENCE} AS bigint START WITH {next_id}")
        cursor.execute(
            f"CREATE TABLE {new} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)"
            " PARTITION BY RANGE (as_of)"
        )
        cursor.execute(f"ALTER TABLE {new} ALTER COLUMN id SET DEFAULT nextval('{SEQUENCE}')")
        for month in sorted(months):
            cursor.execute(
                f"CREATE TABLE {TABLE}_y{month:%Y}m{month:%m} PARTITION OF {new}"
                f" FOR VALUES FROM ('{month.isoformat()}') TO ('{_month_after(month).isoformat()}')"
            )
        cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {new} DEFAULT")
        cursor.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(sql.Identifier(new), sql.Identifier(TABLE)))
        cursor.execute(f"DROP TABLE {TABLE}")
        cursor.execute(f"ALTER TABLE {new} RENAME TO {TABLE}")
        cursor.execute(f"ALTER SEQUENCE {SEQUENCE} OWNED BY {TABLE}.id")
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, as_of)")
        cursor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {UNIQUE} UNIQUE (participant_id, as_of, arrears_import_id)"
        )
        for definition in indexes:
            cursor.execute(definition)
        cursor.execute(f"ANALYZE {TABLE}")


def unpartition(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Partitioned -> one plain table again (the rows of the attached partitions)."""
    with schema_editor.connection.cursor() as cursor:
        indexes = _secondary_index_definitions(cursor, TABLE)
        next_id = _next_id(cursor)
        plain = f"{TABLE}_plain"
        cursor.execute(
            f"CREATE TABLE {plain} (LIKE {TABLE} INCLUDING CONSTRAINTS INCLUDING STORAGE)"
        )
        cursor.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(sql.Identifier(plain), sql.Identifier(TABLE)))
        cursor.execute(f"DROP TABLE {TABLE}")  # its partitions and its sequence with it
        cursor.execute(f"ALTER TABLE {plain} RENAME TO {TABLE}")
        cursor.execute(
            f"ALTER TABLE {TABLE} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY"
            f" (SEQUENCE NAME {SEQUENCE} START WITH {next_id})"
        )
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)")
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {UNIQUE} UNIQUE (participant_id, arrears_import_id)")
        for definition in indexes:
            cursor.execute(definition)


class Migration(migrations.Migration):

    dependencies = [
        ("participants", "0008_list_sort_and_search_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(partition, unpartition)],
            state_operations=[
                migrations.RemoveConstraint(model_name="arrearsrecord", name=UNIQUE),
                migrations.AddConstraint(
                    model_name="arrearsrecord",
                    constraint=models.UniqueConstraint(
                        fields=("participant", "as_of", "arrears_import"), name=UNIQUE
                    ),
                ),
            ],
        ),
    ]
