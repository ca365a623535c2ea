"""Reconciliation's outcome rows become the audit trail of the pledge changes it makes.

A run no longer writes a core_auditevent row per changed pledge next to its outcome row (the two
said the same thing); so the outcome table is made append-only like the audit trail, and is
indexed by pledge (a pledge's history reads it) instead of by (regency, run); a run's rows,
written together, are found through a BRIN on the run.
"""

import django.contrib.postgres.indexes
from django.db import migrations, models

from core.append_only import append_only


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
        migrations.RunSQL(*append_only("donations_reconciliationoutcome")),
    ]
