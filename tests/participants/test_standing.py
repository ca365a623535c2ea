"""`participants_standing` holds each participant's regency, status, months and amount as the
participant row has them, whatever wrote the participant (participants/standing.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from core import integrity
from participants.models import Participant, ParticipantStatus, Standing
from tests.factories import ParticipantFactory
from tests.participants.importing import card, line, run_import

pytestmark = pytest.mark.django_db

OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# The checks `manage.py check_integrity` runs on the standing: a participant whose standing is
# missing or differs, and a standing whose participant is gone.
STANDING_CHECKS = ("copy:participants_standing", "orphan:participants_standing.participant_id")


def mismatches() -> dict[str, int]:
    """The standing checks that fail, with their counts of bad rows."""
    report = integrity.run(only=STANDING_CHECKS)
    assert set(report.checks) == set(STANDING_CHECKS)  # both checks exist and ran
    return report.failed


def standing_of(participant: Participant) -> tuple:
    s = Standing.all_regencies.get(participant_id=participant.pk)
    return s.regency_id, s.status, s.months_in_arrears, s.arrears_amount


def test_every_orm_write_of_a_participant_is_copied(regency_a, regency_b):
    one = ParticipantFactory(regency=regency_a, months_in_arrears=4, arrears_amount=140_000)
    two, three = Participant.all_regencies.bulk_create([
        ParticipantFactory.build(regency=regency_a, card_number=card(70), nik="7322014101890070"),
        ParticipantFactory.build(regency=regency_a, card_number=card(71), nik="7322014101890071"),
    ])
    assert standing_of(one) == (regency_a.pk, ParticipantStatus.INACTIVE, 4, 140_000)

    one.months_in_arrears, one.arrears_amount = 5, 175_000
    one.save()
    Participant.all_regencies.filter(pk=two.pk).update(status=ParticipantStatus.CLEARED, months_in_arrears=0)
    Participant.all_regencies.filter(pk=three.pk).update(regency=regency_b)
    assert standing_of(one) == (regency_a.pk, ParticipantStatus.INACTIVE, 5, 175_000)
    assert standing_of(two)[1:3] == (ParticipantStatus.CLEARED, 0)
    assert standing_of(three)[0] == regency_b.pk

    Participant.all_regencies.filter(pk=three.pk).delete()
    assert not Standing.all_regencies.filter(participant_id=three.pk).exists()
    assert mismatches() == {}


def test_a_write_that_changes_none_of_its_values_leaves_the_standing_row_as_it_is(regency_a):
    participant = ParticipantFactory(regency=regency_a)

    def version() -> str:
        with connection.cursor() as cur:
            cur.execute("SELECT ctid::text FROM participants_standing WHERE participant_id = %s", [participant.pk])
            return cur.fetchone()[0]

    before = version()
    Participant.all_regencies.filter(pk=participant.pk).update(name="NAMA BARU", address="Jl. Baru")
    assert version() == before
    Participant.all_regencies.filter(pk=participant.pk).update(months_in_arrears=9)
    assert version() != before


def test_imports_keep_the_standing_of_every_participant(branch_a, tmp_path):
    first = run_import(branch_a, tmp_path, [line(n, months=n) for n in range(1, 7)], as_of=OCT)
    # A month on: some grow, one moves to the other regency of the branch, one pays off, one is gone.
    rows = [line(n, months=n + 1) for n in range(1, 4)]
    rows += [line(4, code="73.17.01.2001", kecamatan="Luwu", desa="Bua", months=5),
             line(5, months=0, amount=0, status="AKTIF"), line(8, months=2)]
    second = run_import(branch_a, tmp_path, rows, as_of=NOV)

    assert (first.status, second.status) == ("applied", "applied")
    assert Standing.all_regencies.count() == Participant.all_regencies.count() == 7
    assert mismatches() == {}
    gone = Participant.all_regencies.get(card_number=card(6))
    assert standing_of(gone)[1] == ParticipantStatus.CLEARED


def test_a_list_that_changes_the_arrears_updates_the_participants_without_new_index_entries(branch_a, tmp_path):
    """HOT updates (heap-only tuples): no participant index keys on what a list changes monthly,
    so the new row version needs no index entry (the standing's indexes take them)."""
    run_import(branch_a, tmp_path, [line(n, months=n) for n in range(1, 7)], as_of=OCT)

    def updates() -> tuple[int, int]:
        with connection.cursor() as cur:
            cur.execute("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
                        "WHERE relname = 'participants_participant'")
            return cur.fetchone()

    before, before_hot = updates()
    second = run_import(branch_a, tmp_path, [line(n, months=n + 1) for n in range(1, 7)], as_of=NOV)
    after, after_hot = updates()

    assert second.updated == 6
    assert after - before >= 6
    assert after_hot - before_hot == after - before
    with connection.cursor() as cur:
        cur.execute("SELECT reloptions FROM pg_class WHERE relname = 'participants_participant'")
        assert cur.fetchone()[0] == ["fillfactor=50"]
    assert mismatches() == {}
