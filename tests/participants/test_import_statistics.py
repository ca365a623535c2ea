"""An apply that inserts a regency's first list analyzes the participants and the clearing history
when the planner's statistics predate them: the summary refresh in the same transaction and the
screening after it plan with them."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from psycopg2 import sql

from participants.imports import apply as apply_module
from participants.models import Participant
from tests.participants.importing import line, run_import

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _planned(regency_id: int, table: str = "participants_participant") -> int:
    with connection.cursor() as cur:
        cur.execute(sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM {} WHERE regency_id = %s").format(
            sql.Identifier(table)), [regency_id])
        plan = cur.fetchone()[0]
    return int((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])


def test_a_second_branchs_first_list_is_analyzed_in_its_apply(branch_a, branch_b, regency_b, tmp_path,
                                                               monkeypatch):
    monkeypatch.setattr(apply_module, "ANALYZE_MIN_ROWS", 500)
    run_import(branch_a, tmp_path, [line(n) for n in range(1, 2001)])
    with connection.cursor() as cur:
        # What autovacuum does after that commit.
        cur.execute("ANALYZE participants_participant; ANALYZE participants_clearinghistory")
    assert _planned(regency_b.pk) < 50  # a regency the statistics have not seen
    assert _planned(regency_b.pk, "participants_clearinghistory") < 50

    result = run_import(branch_b, tmp_path, [
        line(n, code="52.03.01.2001", kecamatan="Selong", desa="Pancor", kk=f"52030101012{n:05d}")
        for n in range(50_001, 50_801)
    ])

    assert result.status == "applied", result.message
    assert Participant.objects.for_regency(regency_b).count() == 800
    assert _planned(regency_b.pk) >= 400
    # The rows screening reads next, outside this transaction (the table did not double).
    assert _planned(regency_b.pk, "participants_clearinghistory") >= 400
