"""The audit trail refuses TRUNCATE too (core.append_only: a statement-level BEFORE TRUNCATE trigger)."""

from django.db import migrations

from core.append_only import append_only_truncate


class Migration(migrations.Migration):
    dependencies = [("core", "0005_outboxmessage")]

    operations = [migrations.RunSQL(*append_only_truncate("core_auditevent"))]
