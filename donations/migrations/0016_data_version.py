"""Writes to `donations_pledge`, `donations_gift` and `donations_campaign` move their regencies' data
version (`regencies/versions.py`)."""

from django.db import migrations

from regencies.versions import trigger_reverse_sql, trigger_sql


class Migration(migrations.Migration):

    dependencies = [
        ("donations", "0015_pledge_tallies"),
        ("regencies", "0006_data_version"),
    ]

    operations = [
        migrations.RunSQL(trigger_sql(table), trigger_reverse_sql(table))
        for table in ("donations_pledge", "donations_gift", "donations_campaign")
    ]
