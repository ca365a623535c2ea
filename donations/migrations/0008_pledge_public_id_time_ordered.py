"""New pledges get time-ordered public ids (UUID version 7); existing ones keep theirs.

No change in the database: the default is Python's."""

from django.db import migrations, models

import core.ids


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0007_reconciliation_outcomes_are_the_trail"),
    ]

    operations = [
        migrations.AlterField(
            model_name="pledge",
            name="public_id",
            field=models.UUIDField(default=core.ids.uuid7, editable=False),
        ),
    ]
