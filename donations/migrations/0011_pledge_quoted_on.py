"""The rules of 2026, the pledge side.

- `Pledge.quoted_on` (the regency's date of the latest quote) and `covers_until` (the first day of
  the last month whose contribution the amount includes): a pledge confirmed or paid in a later
  month is re-quoted. Existing pledges: quoted on the day they were made (in their regency's time
  zone), covering that month plus their months ahead.
- `Pledge.rehab_instalments`: a pledge for the remaining REHAB instalments (null otherwise).
- `ReconciliationRun.released_written_off`: pledges released because the arrears were written off.
"""

from django.db import migrations, models

BACKFILL = """
UPDATE donations_pledge p
   SET quoted_on = (p.created_at AT TIME ZONE r.timezone)::date,
       covers_until = (date_trunc('month', p.created_at AT TIME ZONE r.timezone)
                       + make_interval(months => p.months_ahead))::date
  FROM regencies_regency r
 WHERE r.id = p.regency_id AND p.quoted_on IS NULL;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("donations", "0010_money"),
        ("regencies", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="pledge",
            name="quoted_on",
            field=models.DateField(blank=True, null=True, verbose_name="jumlah dihitung pada"),
        ),
        migrations.AddField(
            model_name="pledge",
            name="covers_until",
            field=models.DateField(blank=True, null=True, verbose_name="iuran dibayar sampai bulan"),
        ),
        migrations.AddField(
            model_name="pledge",
            name="rehab_instalments",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="sisa cicilan REHAB"),
        ),
        migrations.AddField(
            model_name="reconciliationrun",
            name="released_written_off",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="reconciliationoutcome",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("verified", "Terverifikasi"),
                    ("disputed", "Dipersoalkan"),
                    ("released_cleared_by_other", "Dilepas: tunggakan dilunasi pihak lain"),
                    ("released_left_segment", "Dilepas: keluar dari segmen PBPU/BP"),
                    ("released_written_off", "Dilepas: tunggakan dihapus (pemutihan)"),
                ],
                max_length=30,
                verbose_name="hasil",
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
