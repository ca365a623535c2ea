"""The version of each regency's data, kept by the database (`regencies/versions.py`)."""

from django.db import migrations

from regencies.versions import SCHEMA_REVERSE_SQL, SCHEMA_SQL


class Migration(migrations.Migration):

    dependencies = [
        ("regencies", "0005_regency_retention_years"),
    ]

    operations = [migrations.RunSQL(SCHEMA_SQL, SCHEMA_REVERSE_SQL)]
