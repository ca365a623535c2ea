"""Writes to `participants_participant` move their regencies' data version (`regencies/versions.py`)."""

from django.db import migrations

from regencies.versions import trigger_reverse_sql, trigger_sql


class Migration(migrations.Migration):

    dependencies = [
        ("participants", "0012_history_month_made_as_owner"),
        ("regencies", "0006_data_version"),
    ]

    operations = [migrations.RunSQL(trigger_sql("participants_participant"), trigger_reverse_sql("participants_participant"))]
