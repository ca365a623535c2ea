"""Reconciliation's outcome rows become the audit trail of the pledge changes it makes.

A run no longer writes a core_auditevent row per changed pledge next to its outcome row (the two
said the same thing); so the outcome table is made append-only like the audit trail, and is
indexed by pledge (a pledge's history reads it) instead of by (regency, run); a run's rows,
written together, are found through a BRIN on the run.
"""

import django.contrib.postgres.indexes
from django.db import migrations, models

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION donations_outcome_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'donations_reconciliationoutcome is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER donations_outcome_append_only
    BEFORE UPDATE OR DELETE ON donations_reconciliationoutcome
    FOR EACH ROW EXECUTE FUNCTION donations_outcome_refuse_change();
"""

NOT_APPEND_ONLY = """
DROP TRIGGER IF EXISTS donations_outcome_append_only ON donations_reconciliationoutcome;
DROP FUNCTION IF EXISTS donations_outcome_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0006_reconciliation_fewer_writes"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="reconciliationoutcome", name="recon_outcome_regency_run"),
        migrations.AddIndex(
            model_name="reconciliationoutcome",
            index=models.Index(fields=["pledge"], name="recon_outcome_pledge"),
        ),
        migrations.AddIndex(
            model_name="reconciliationoutcome",
            index=django.contrib.postgres.indexes.BrinIndex(fields=["run"], name="recon_outcome_run_brin"),
        ),
        migrations.RunSQL(APPEND_ONLY, NOT_APPEND_ONLY),
    ]
