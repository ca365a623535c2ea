"""`manage.py purge_personal_data [--dry-run]`: the retention purge in the foreground (no Celery).

Anonymises participants past their regency's retention period (no open pledge) and deletes the
uploaded files of imports and statements past PRIVACY_UPLOAD_RETENTION_DAYS (donations.privacy.retention).
The last stdout line is one JSON object with the counts. `--dry-run` counts and changes nothing.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from donations.privacy.retention import personal_data_purge


class Command(BaseCommand):
    help = "Anonimkan data pribadi peserta yang masa simpannya berakhir dan hapus berkas unggahan lama."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="hanya menghitung, tidak mengubah apa pun")

    def handle(self, *args, **options):
        result = personal_data_purge(dry_run=options["dry_run"])
        self.stdout.write(json.dumps(result.as_dict()))
