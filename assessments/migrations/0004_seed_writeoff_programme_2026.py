"""The 2026 write-off as reported: announced 5 Nov 2025, Perpres in
draft on 10 Feb 2026, no official text seen. The national operator corrects it in the admin
once the Perpres is issued (name, legal basis, dates, deciles)."""

import datetime as dt

from django.db import migrations

NAME = "Pemutihan tunggakan iuran JKN 2026 (Perpres dalam penyusunan)"


def seed(apps, schema_editor):
    WriteOffProgramme = apps.get_model("assessments", "WriteOffProgramme")
    if WriteOffProgramme.objects.filter(name=NAME).exists():
        return
    WriteOffProgramme.objects.create(
        name=NAME,
        legal_basis=(
            "Rancangan Perpres (draf per 10 Februari 2026; diumumkan 5 November 2025); "
            "anggaran Rp20 triliun APBN 2026. Belum ada teks resmi."
        ),
        starts_on=dt.date(2026, 1, 1),
        ends_on=None,
        deciles_automatic=[1, 2, 3, 4],
        deciles_may_apply=[5, 6, 7, 8, 9, 10],
        care_classes=[3],
        segments=["PBPU", "BP"],
        months_counted=24,
        once_per_person=True,
        note=(
            "Menurut pemberitaan (Okt 2025 - Feb 2026): tunggakan PBPU/BP kelas III rumah tangga yang "
            "dipindah ke PBI (atau PBPU Pemda) dihapus; otomatis untuk desil DTSEN 1-4, atas pengajuan "
            "untuk desil 5 ke atas; hanya 24 bulan terakhir; sekali per orang."
        ),
    )


def unseed(apps, schema_editor):
    apps.get_model("assessments", "WriteOffProgramme").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("assessments", "0003_writeoff_programme_and_routes"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
