"""The queue's order as a rank that one more month in arrears leaves as it is.

`priority` becomes `priority_base` (the priority without the months in arrears, which the model
adds from the participant) and `queue_rank` (the index's key). The rank starts as the priority:
every entry of a regency on the same footing, so the order is unchanged until the regency's next
screening, which gives every entry its rank from the list's month once.

The queue also leaves half of each page free (fillfactor 50), as the participant table does: the
new version of an entry a month's screening rewrites can then go on its page. With full pages each
new version goes wherever a vacuum freed room, and a regency's entries spread over the table
(bench/README.md, "Session 18").
"""

from django.db import migrations, models

_SPLIT = """
UPDATE assessments_screening s
SET priority_base = s.priority - 10 * LEAST(GREATEST(p.months_in_arrears, 0), 24),
    queue_rank = s.priority
FROM participants_participant p
WHERE p.id = s.participant_id
"""

_JOIN = """
UPDATE assessments_screening s
SET priority = s.priority_base + 10 * LEAST(GREATEST(p.months_in_arrears, 0), 24)
FROM participants_participant p
WHERE p.id = s.participant_id
"""


class Migration(migrations.Migration):

    dependencies = [
        ('assessments', '0006_screening_assigned_partial'),
        ('participants', '0014_participant_standing'),
    ]

    operations = [
        migrations.AddField(
            model_name='screening',
            name='priority_base',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='screening',
            name='queue_rank',
            field=models.IntegerField(default=0),
        ),
        migrations.RunSQL(_SPLIT, _JOIN),
        migrations.RemoveIndex(
            model_name='screening',
            name='screening_regency_priority',
        ),
        migrations.RemoveField(
            model_name='screening',
            name='priority',
        ),
        migrations.AddIndex(
            model_name='screening',
            index=models.Index(fields=['regency', '-queue_rank'], name='screening_regency_rank'),
        ),
        migrations.RunSQL("ALTER TABLE assessments_screening SET (fillfactor = 50)",
                          "ALTER TABLE assessments_screening RESET (fillfactor)"),
    ]
