"""Writes to a regency's memberships and districts move its data version too: the dashboard
keeps its member counts and places with its figures (`reporting.views.regency_home`)."""

from django.db import migrations

from regencies.versions import trigger_reverse_sql, trigger_sql


class Migration(migrations.Migration):

    dependencies = [
        ("regencies", "0006_data_version"),
    ]

    operations = [
        migrations.RunSQL(trigger_sql(table), trigger_reverse_sql(table))
        for table in ("regencies_membership", "regencies_district")
    ]
