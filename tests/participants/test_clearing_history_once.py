"""`ClearingHistory.once_in_arrears` as migration 0011 fills it from an existing history: the same
flags the apply keeps and a rebuild gives (its statement is a frozen copy of the rebuild's)."""

from __future__ import annotations

import datetime as dt
import importlib
from types import SimpleNamespace

import pytest
from django.db import connection

from participants.imports.apply import rebuild_clearing_history
from participants.models import ClearingHistory
from tests.participants.importing import line, run_import

migration = importlib.import_module("participants.migrations.0011_clearing_history_once_in_arrears")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _flags(regency_ids) -> list[tuple[int, int]]:
    return sorted(
        ClearingHistory.all_regencies.filter(regency_id__in=regency_ids, once_in_arrears=True)
        .values_list("participant_id", "regency_id")
    )


def test_the_migration_fills_what_the_apply_keeps(branch_a, regency_a, regency_a2, tmp_path):
    luwu = {"code": "73.17.01.2001", "kecamatan": "Belopa", "desa": "Tampumia"}
    run_import(branch_a, tmp_path, [
        line(1, months=3), line(2, months=0, status="AKTIF"), line(3, months=0), line(4, months=2, **luwu),
    ], as_of=dt.date(2026, 1, 1))
    run_import(branch_a, tmp_path, [
        line(1, months=0, status="AKTIF"), line(2, months=4), line(4, months=0, status="AKTIF"),
        line(5, months=0, status="AKTIF", **luwu),
    ], as_of=dt.date(2026, 2, 1))
    regs = [regency_a.pk, regency_a2.pk]
    kept = _flags(regs)
    assert len(kept) == 4  # 1, 2 and 3 in Luwu Utara (3 not active at zero months), 4 in Luwu

    ClearingHistory.all_regencies.filter(regency_id__in=regs).update(once_in_arrears=False)
    migration.fill(None, SimpleNamespace(connection=connection))  # type: ignore[arg-type]
    assert _flags(regs) == kept

    with connection.cursor() as cur:
        rebuild_clearing_history(cur, regs)
    assert _flags(regs) == kept
