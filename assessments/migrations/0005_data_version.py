"""Writes to `assessments_assessment` and `assessments_screening` (the queue) move their regencies'
data version (`regencies/versions.py`)."""

from django.db import migrations

from regencies.versions import trigger_reverse_sql, trigger_sql


class Migration(migrations.Migration):

    dependencies = [
        ("assessments", "0004_seed_writeoff_programme_2026"),
        ("regencies", "0006_data_version"),
    ]

    operations = [
        migrations.RunSQL(trigger_sql(table), trigger_reverse_sql(table))
        for table in ("assessments_assessment", "assessments_screening")
    ]
