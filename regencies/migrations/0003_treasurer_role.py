from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('regencies', '0002_contribution_share'),
    ]

    operations = [
        migrations.AlterField(
            model_name='invitation',
            name='role',
            field=models.CharField(choices=[('regency_admin', 'Admin Pemda'), ('pemda_staff', 'Staf Pemda (ASN)'), ('assessor', 'Asesor'), ('supervisor', 'Supervisor asesmen'), ('treasurer', 'Bendahara')], max_length=20, verbose_name='peran'),
        ),
        migrations.AlterField(
            model_name='membership',
            name='role',
            field=models.CharField(choices=[('regency_admin', 'Admin Pemda'), ('pemda_staff', 'Staf Pemda (ASN)'), ('assessor', 'Asesor'), ('supervisor', 'Supervisor asesmen'), ('treasurer', 'Bendahara')], max_length=20, verbose_name='peran'),
        ),
    ]
