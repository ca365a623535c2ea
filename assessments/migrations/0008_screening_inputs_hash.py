"""A queue entry keeps the hash of what its result was computed from, and its flags as bits.

Every existing entry starts with no hash: the regency's next screening computes each of them once
and records it; later screenings compute only the entries whose inputs changed. The bits have a
database default: a worker still on the previous release, which does not name them, can insert.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assessments', '0007_screening_queue_rank'),
    ]

    operations = [
        migrations.AddField(
            model_name='screening',
            name='flag_bits',
            field=models.PositiveSmallIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.AddField(
            model_name='screening',
            name='inputs_hash',
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
    ]
