"""Perpres 64/2020: the participant's monthly contribution per class (PBPU/BP).

Class I Rp150.000 and class II Rp100.000 from 1 July 2020; class III the participant
pays Rp35.000 from 1 January 2021 (the state adds Rp7.000). Unchanged through 2026.
New rows are added by the national operator in the admin.
"""

import datetime

from django.db import migrations

TARIFFS = [
    (1, 150_000, datetime.date(2020, 7, 1), "Perpres 64/2020"),
    (2, 100_000, datetime.date(2020, 7, 1), "Perpres 64/2020"),
    (3, 35_000, datetime.date(2021, 1, 1), "Perpres 64/2020 (bagian peserta; Rp7.000 dibantu pemerintah)"),
]


def seed(apps, schema_editor):
    Tariff = apps.get_model("donations", "Tariff")
    for care_class, amount, effective_from, note in TARIFFS:
        Tariff.objects.get_or_create(
            care_class=care_class, effective_from=effective_from, defaults={"amount": amount, "note": note}
        )


def unseed(apps, schema_editor):
    Tariff = apps.get_model("donations", "Tariff")
    for care_class, _amount, effective_from, _note in TARIFFS:
        Tariff.objects.filter(care_class=care_class, effective_from=effective_from).delete()


class Migration(migrations.Migration):
    dependencies = [("donations", "0002_campaigns_pledges")]
    operations = [migrations.RunPython(seed, unseed)]
