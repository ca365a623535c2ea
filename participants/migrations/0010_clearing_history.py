"""The clearing history screening reads (`ClearingHistory`, one row per participant and regency)
and its mark per regency, filled from the existing arrears history: every regency's rows made by
one pass over its records, exactly as the imports keep them from now on.

Self-contained on purpose (the statement is a copy of `participants.imports.apply._REBUILD_SQL`
at this migration): a migration keeps working when the application code changes later.
Reversible: the reverse drops the tables (the history itself is untouched).
"""

from __future__ import annotations

import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

_REBUILD_SQL = """
WITH imp AS (
    SELECT ai.id, ai.as_of, ai.mode, br.regency_id
    FROM participants_arrearsimport ai JOIN regencies_bpjsbranch_regencies br ON br.bpjsbranch_id = ai.branch_id
    WHERE br.regency_id = ANY(%(regs)s) AND (ai.status = %(imp_applied)s OR ai.id = %(this)s)
),
full_imp AS (
    SELECT DISTINCT regency_id, as_of FROM imp WHERE mode = %(mode_full)s
),
rec0 AS (
    SELECT r.id, r.participant_id, r.regency_id, r.as_of, r.months_in_arrears AS months,
           LEAD(r.as_of) OVER w AS next_as_of,
           LEAD(r.months_in_arrears) OVER w AS next_months,
           min(ARRAY[r.as_of - DATE '2000-01-01', r.months_in_arrears::int])
               FILTER (WHERE r.months_in_arrears > 0)
               OVER (PARTITION BY r.participant_id, r.regency_id ORDER BY r.as_of
                     RANGE BETWEEN '1 day'::interval FOLLOWING AND UNBOUNDED FOLLOWING) AS later_arrears,
           row_number() OVER (PARTITION BY r.participant_id, r.regency_id
                              ORDER BY r.as_of DESC, r.id DESC) AS newest
    FROM participants_arrearsrecord r
    JOIN imp ON imp.id = r.arrears_import_id AND imp.regency_id = r.regency_id
    WHERE r.regency_id = ANY(%(regs)s)
    WINDOW w AS (PARTITION BY r.participant_id, r.regency_id ORDER BY r.as_of, r.id)
),
rec AS (
    SELECT rec0.*,
           LEAD(rec0.later_arrears) OVER (PARTITION BY rec0.participant_id, rec0.regency_id
                                          ORDER BY rec0.as_of, rec0.id) AS next_later_arrears
    FROM rec0
),
clr AS (
    SELECT rec.id, rec.participant_id, rec.regency_id, rec.as_of, rec.months, rec.newest,
           gap.absent_as_of,
           CASE WHEN rec.months = 0 THEN NULL
                WHEN gap.absent_as_of IS NOT NULL THEN gap.absent_as_of
                WHEN rec.next_months = 0 THEN rec.next_as_of
           END AS cleared_date,
           CASE WHEN gap.absent_as_of IS NOT NULL THEN rec.later_arrears
                WHEN rec.next_months = 0 THEN rec.next_later_arrears
           END AS after_clear
    FROM rec
    LEFT JOIN LATERAL (
        SELECT min(f.as_of) AS absent_as_of FROM full_imp f
        WHERE f.regency_id = rec.regency_id AND f.as_of > rec.as_of
          AND (rec.next_as_of IS NULL OR f.as_of < rec.next_as_of)
    ) gap ON TRUE
)
INSERT INTO participants_clearinghistory (regency_id, participant_id, last_as_of, last_months, last_cleared,
                        awaiting_next, clearings)
SELECT regency_id, participant_id,
       max(as_of) FILTER (WHERE newest = 1),
       coalesce(max(months) FILTER (WHERE newest = 1), 0),
       coalesce(bool_or(newest = 1 AND months > 0 AND absent_as_of IS NOT NULL), FALSE),
       coalesce(bool_or(cleared_date IS NOT NULL AND after_clear IS NULL), FALSE),
       coalesce(jsonb_agg(jsonb_build_object(
                    'from', as_of, 'months', months, 'cleared', cleared_date,
                    'next', DATE '2000-01-01' + after_clear[1], 'next_months', after_clear[2])
                ORDER BY as_of, id) FILTER (WHERE cleared_date IS NOT NULL), '[]'::jsonb)
FROM clr
GROUP BY regency_id, participant_id
"""


_MARK_SQL = """
INSERT INTO participants_clearinghistorymark (regency_id, imports, newest_import_id)
SELECT r.id, count(ai.id), max(ai.id)
FROM regencies_regency r
LEFT JOIN regencies_bpjsbranch_regencies br ON br.regency_id = r.id
LEFT JOIN participants_arrearsimport ai ON ai.branch_id = br.bpjsbranch_id AND ai.status = 'applied'
GROUP BY r.id
"""


def fill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT id FROM regencies_regency ORDER BY id")
        for (regency_id,) in cur.fetchall():
            cur.execute(_REBUILD_SQL, {"regs": [regency_id], "this": None,
                                       "imp_applied": "applied", "mode_full": "full"})
        cur.execute(_MARK_SQL)



class Migration(migrations.Migration):

    dependencies = [
        ('participants', '0009_history_partitioned_by_month'),
        ('regencies', '0005_regency_retention_years'),
    ]

    operations = [
        migrations.CreateModel(
            name='ClearingHistoryMark',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('imports', models.PositiveIntegerField(default=0)),
                ('newest_import_id', models.BigIntegerField(blank=True, null=True)),
                ('regency', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='regencies.regency')),
            ],
        ),
        migrations.CreateModel(
            name='ClearingHistory',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('last_as_of', models.DateField(blank=True, null=True)),
                ('last_months', models.PositiveSmallIntegerField(default=0)),
                ('last_cleared', models.BooleanField(default=False)),
                ('awaiting_next', models.BooleanField(default=False)),
                ('clearings', models.JSONField(blank=True, default=list)),
                ('participant', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='participants.participant')),
                ('regency', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regencies.regency')),
            ],
            options={
                'verbose_name': 'riwayat pelunasan',
                'verbose_name_plural': 'riwayat pelunasan',
                'abstract': False,
                'base_manager_name': 'all_regencies',
                'default_manager_name': 'all_regencies',
                'indexes': [models.Index(fields=['regency', 'participant'], name='clearing_history_regency'), models.Index(condition=models.Q(('last_cleared', False), ('last_months__gt', 0)), fields=['regency', 'last_as_of'], name='clearing_history_open')],
                'constraints': [models.UniqueConstraint(fields=('participant', 'regency'), name='clearing_history_unique')],
            },
            managers=[
                ('all_regencies', django.db.models.manager.Manager()),
            ],
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
