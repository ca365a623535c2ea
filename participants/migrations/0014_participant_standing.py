"""Participants' status, months and amount copied into `participants_standing`, kept there by
statement triggers (`participants/standing.py`), with the indexes keyed on them moved there: a
list's monthly update of a participant then writes no index entry of the participant table."""

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
