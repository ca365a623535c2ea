"""Participants' status, months and amount copied into `participants_standing`, kept there by
statement triggers (`participants/standing.py`), with the indexes keyed on them moved there: a
list's monthly update of a participant then writes no index entry of the participant table.

The participant table also leaves half of each page free (fillfactor 50): an update is HOT only
when the new version fits on the page of the old one, and a list rewrites most of a regency's
participants in one statement, before any old version can be pruned. With full pages, 155,000
of 2.4 million updates of a year were HOT; with half-free pages an update of 10,800
participants took 106-127 ms against 228-284 ms (bench/README.md, "Session 16"). The setting
applies to pages written from now on; `VACUUM FULL participants_participant` in a quiet hour
applies it to the existing ones at once."""

import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models

from participants.standing import FILL_SQL, standing_reverse_sql, standing_sql


class Migration(migrations.Migration):

    dependencies = [
        ('participants', '0013_data_version'),
        ('regencies', '0007_data_version_members_places'),
    ]

    operations = [
        migrations.CreateModel(
            name='Standing',
            fields=[
                ('participant', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='standing', serialize=False, to='participants.participant')),
                ('status', models.CharField(choices=[('active', 'Aktif'), ('inactive', 'Tidak aktif (menunggak)'), ('cleared', 'Tidak lagi di daftar tunggakan')], db_collation='C', max_length=10, verbose_name='status')),
                ('months_in_arrears', models.PositiveSmallIntegerField(verbose_name='bulan tunggakan')),
                ('arrears_amount', models.BigIntegerField(verbose_name='jumlah tunggakan (Rp)')),
            ],
            options={
                'verbose_name': 'posisi tunggakan peserta',
                'verbose_name_plural': 'posisi tunggakan peserta',
                'abstract': False,
                'base_manager_name': 'all_regencies',
                'default_manager_name': 'all_regencies',
            },
            managers=[
                ('all_regencies', django.db.models.manager.Manager()),
            ],
        ),
        migrations.AddField(
            model_name='standing',
            name='regency',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regencies.regency'),
        ),
        migrations.RunSQL(FILL_SQL + ";\n" + standing_sql(), standing_reverse_sql()),
        migrations.RunSQL("ALTER TABLE participants_participant SET (fillfactor = 50)",
                          "ALTER TABLE participants_participant RESET (fillfactor)"),
        migrations.AddIndex(
            model_name='standing',
            index=models.Index(fields=['regency', 'status', 'months_in_arrears'], name='standing_status_months'),
        ),
        migrations.AddIndex(
            model_name='standing',
            index=models.Index(fields=['regency', 'months_in_arrears', 'arrears_amount', 'participant'], name='standing_sort_months'),
        ),
        migrations.AddIndex(
            model_name='standing',
            index=models.Index(fields=['regency', 'arrears_amount', 'participant'], name='standing_sort_amount'),
        ),
        migrations.RemoveIndex(
            model_name='participant',
            name='participant_regency_ccd5a6_idx',
        ),
        migrations.RemoveIndex(
            model_name='participant',
            name='participant_sort_months',
        ),
        migrations.RemoveIndex(
            model_name='participant',
            name='participant_sort_amount',
        ),
    ]
