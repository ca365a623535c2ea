"""The reconciliation trail and the ledger refuse TRUNCATE too (core.append_only: a
statement-level BEFORE TRUNCATE trigger)."""

from django.db import migrations

from core.append_only import append_only_truncate


class Migration(migrations.Migration):
    dependencies = [("donations", "0011_pledge_quoted_on")]

    operations = [
        migrations.RunSQL(*append_only_truncate("donations_reconciliationoutcome")),
        migrations.RunSQL(*append_only_truncate("donations_ledgerentry")),
    ]
