"""The campaign's and the donor's pledge lists read newest first in keyset pages:
`(created_at, id) < (x, y) ORDER BY created_at DESC, id DESC LIMIT n` walks these indexes from the
cursor. Each replaces the narrower index it starts with (same leading columns, so every earlier
read still uses it). Neither names `status`: a change of status stays a HOT update. The new ones
are built before the old ones go, so no read is ever left without one."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("donations", "0013_reconciliation_trigger_assessment"),
        ("participants", "0009_history_partitioned_by_month"),
        ("regencies", "0005_regency_retention_years"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="pledge",
            index=models.Index(fields=["regency", "campaign", "created_at", "id"], name="pledge_campaign_created"),
        ),
        migrations.AddIndex(
            model_name="pledge",
            index=models.Index(fields=["donor", "created_at", "id"], name="pledge_donor_created"),
        ),
        migrations.RemoveIndex(model_name="pledge", name="pledge_regency_campaign"),
        migrations.RemoveIndex(model_name="pledge", name="pledge_donor"),
    ]
