"""`ClearingHistory.once_in_arrears` (the `reactivated` figure's "once in arrears": some record of
the regency listed not active), filled from the existing arrears history: one pass over each
regency's records (the rows exist, every flag is still false: each participant once in arrears is
set), giving what `rebuild_clearing_history` gives from now on, and the partial index the figure
reads it by.

Self-contained on purpose (the statement is a copy of `participants.imports.apply._ONCE_IN_ARREARS_SQL`
at this migration): a migration keeps working when the application code changes later.
Reversible: the reverse drops the index and the column (the history itself is untouched).
"""

from __future__ import annotations

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

_ONCE_IN_ARREARS_SQL = """
INSERT INTO participants_clearinghistory AS c (regency_id, participant_id, last_as_of, last_months, last_cleared,
                             awaiting_next, clearings, once_in_arrears)
SELECT o.regency_id, o.participant_id, NULL::date, 0, FALSE, FALSE, '[]'::jsonb, TRUE
FROM (SELECT DISTINCT r.regency_id, r.participant_id FROM participants_arrearsrecord r
      WHERE r.regency_id = ANY(%(regs)s) AND r.bpjs_status = %(bpjs_inactive)s) o
WHERE NOT EXISTS (SELECT 1 FROM participants_clearinghistory k WHERE k.participant_id = o.participant_id
                  AND k.regency_id = o.regency_id AND k.once_in_arrears)
ON CONFLICT (participant_id, regency_id) DO UPDATE SET once_in_arrears = TRUE
"""


def fill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT id FROM regencies_regency ORDER BY id")
        for (regency_id,) in cur.fetchall():
            cur.execute(_ONCE_IN_ARREARS_SQL, {"regs": [regency_id], "bpjs_inactive": "inactive"})
        cur.execute("ANALYZE participants_clearinghistory")


class Migration(migrations.Migration):

    dependencies = [
        ('participants', '0010_clearing_history'),
        ('regencies', '0005_regency_retention_years'),
    ]

    operations = [
        migrations.AddField(
            model_name='clearinghistory',
            name='once_in_arrears',
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='clearinghistory',
            index=models.Index(condition=models.Q(('once_in_arrears', True)), fields=['regency', 'participant'],
                               name='clearing_history_once'),
        ),
    ]
