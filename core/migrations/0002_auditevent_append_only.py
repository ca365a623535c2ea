"""The database itself refuses to change or remove an audit event."""

from django.db import migrations

from core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunSQL(*append_only("core_auditevent"))]
