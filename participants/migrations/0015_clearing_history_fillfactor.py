"""The clearing histories leave half of each page free (fillfactor 50).

Each list rewrites the history row of every participant it names (the newest record's date and
months), and the date is in an index, so no update is HOT. With full pages the new versions went
wherever a vacuum had freed room: after a year of monthly lists a regency's 14,800 rows lay on
2,080 pages (187 after the first list), and screening reads them all each month. With room on its
page, a row's new version stays there. The setting applies to pages written from now on;
`VACUUM FULL participants_clearinghistory` in a quiet hour applies it to the existing ones.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('participants', '0014_participant_standing'),
    ]

    operations = [
        migrations.RunSQL("ALTER TABLE participants_clearinghistory SET (fillfactor = 50)",
                          "ALTER TABLE participants_clearinghistory RESET (fillfactor)"),
    ]
