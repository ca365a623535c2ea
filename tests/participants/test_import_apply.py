"""The apply step of the arrears import: routing, repeats, upserts, history, clearing, rollback."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from participants.imports import apply as apply_module
from participants.models import (
    ArrearsImport,
    ArrearsRecord,
    Family,
    ImportRowError,
    Participant,
    ParticipantStatus,
)
from regencies.models import District, Village
from tests.factories import DistrictFactory, VillageFactory
from tests.participants.importing import card, line, run_import

pytestmark = pytest.mark.django_db

OCT, NOV, DEC = dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True, params=["row by row", "rebuilding indexes"])
def insert_path(request, monkeypatch):
    """Every test runs twice: inserts maintaining the indexes, and inserts that drop the
    secondary indexes and build them again (what a branch's first big list does)."""
    bulk = request.param == "rebuilding indexes"
    monkeypatch.setattr(apply_module, "_worth_rebuilding", lambda cur, table, *, new_rows: bulk)
    return request.param


def _index_definitions() -> dict[str, list[tuple[str, str, str]]]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname, i.relname, pg_get_indexdef(x.indexrelid), coalesce((SELECT"
            " pg_get_constraintdef(k.oid) FROM pg_constraint k WHERE k.conindid = x.indexrelid"
            " AND k.conrelid = x.indrelid), '') "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid "
            "WHERE c.relname IN ('participants_participant', 'participants_family',"
            " 'participants_arrearsrecord', 'participants_standing') ORDER BY 1, 2"
        )
        found: dict[str, list[tuple[str, str, str]]] = {}
        for table, name, definition, constraint in cur.fetchall():
            found.setdefault(table, []).append((name, definition, constraint))
    return found


def participants():
    return Participant.all_regencies.all()


def test_rows_are_routed_to_their_regency(branch_a, regency_a, regency_a2, tmp_path):
    rows = [
        line(1, code="73.22.01.2001"),
        line(2, code="73.17", kecamatan="Belopa", desa="Sabe"),
        line(3, code="7317", kecamatan="Belopa", desa="Sabe"),
        line(4, code="52.03.01.2001", kecamatan="Selong", desa="Pancor"),
    ]
    imp = run_import(branch_a, tmp_path, rows)

    assert imp.status == "applied"
    assert (imp.rows, imp.valid, imp.invalid) == (4, 3, 1)
    assert imp.regency_counts == {"73.17": 2, "73.22": 1}
    assert Participant.objects.for_regency(regency_a).get().card_number == card(1)
    assert Participant.objects.for_regency(regency_a2).count() == 2
    error = ImportRowError.objects.get(arrears_import=imp)
    assert (error.row, error.column) == (5, "kode_wilayah")
    assert not Participant.all_regencies.filter(card_number=card(4)).exists()


def test_card_number_repeated_in_a_file_keeps_the_first_row(branch_a, tmp_path):
    rows = [line(1, months=2), line(2), line(1, months=9), line(1, months=7)]
    imp = run_import(branch_a, tmp_path, rows)

    assert (imp.valid, imp.invalid, imp.new) == (2, 2, 2)
    assert participants().get(card_number=card(1)).months_in_arrears == 2
    errors = list(ImportRowError.objects.filter(arrears_import=imp).order_by("row"))
    assert [(e.row, e.column) for e in errors] == [(4, "no_kartu"), (5, "no_kartu")]
    assert all("baris 2" in e.message for e in errors)
    assert ArrearsRecord.all_regencies.filter(arrears_import=imp).count() == 2


def test_card_number_registered_outside_the_branch_is_a_row_error(branch_a, branch_b, regency_b, tmp_path):
    run_import(branch_b, tmp_path, [line(1, code="52.03.01.2001", kecamatan="Selong", desa="Pancor")])
    imp = run_import(branch_a, tmp_path, [line(1), line(2)])

    assert (imp.valid, imp.invalid, imp.new) == (1, 1, 1)
    error = ImportRowError.objects.get(arrears_import=imp)
    assert error.column == "no_kartu" and "Lombok Timur" in error.message
    assert participants().get(card_number=card(1)).regency == regency_b


def test_card_moving_between_regencies_of_the_branch_follows_the_file(branch_a, regency_a2, tmp_path):
    run_import(branch_a, tmp_path, [line(1)], as_of=OCT)
    imp = run_import(branch_a, tmp_path, [line(1, code="73.17.03", kecamatan="Belopa", desa="")], as_of=NOV)

    moved = participants().get(card_number=card(1))
    assert moved.regency == regency_a2
    assert moved.district.code == "73.17.03"
    assert moved.family.regency == regency_a2
    assert imp.updated == 1


def test_counts_new_updated_unchanged_over_two_imports(branch_a, tmp_path):
    first = run_import(branch_a, tmp_path, [line(1), line(2), line(3)], as_of=OCT)
    assert (first.new, first.updated, first.unchanged) == (3, 0, 0)
    before = participants().get(card_number=card(1)).updated_at

    second = run_import(branch_a, tmp_path, [line(1), line(2, months=4), line(3), line(4)], as_of=NOV)

    assert (second.new, second.updated, second.unchanged, second.cleared) == (1, 1, 2, 0)
    assert participants().get(card_number=card(2)).months_in_arrears == 4
    # An unchanged row is not rewritten.
    assert participants().get(card_number=card(1)).updated_at == before
    assert ArrearsRecord.all_regencies.filter(arrears_import=second).count() == 4


def test_full_mode_clears_the_absent_and_partial_does_not(branch_a, tmp_path):
    run_import(branch_a, tmp_path, [line(1, months=5), line(2), line(3)], as_of=OCT)

    partial = run_import(branch_a, tmp_path, [line(2)], as_of=NOV, mode="partial")
    assert partial.cleared == 0
    assert not participants().filter(status=ParticipantStatus.CLEARED).exists()

    full = run_import(branch_a, tmp_path, [line(2), line(3)], as_of=DEC)
    assert full.cleared == 1
    gone = participants().get(card_number=card(1))
    assert gone.status == ParticipantStatus.CLEARED
    assert gone.cleared_at == DEC
    # The arrears are kept as they were: the history shows the absence.
    assert (gone.months_in_arrears, gone.arrears_amount) == (5, 175_000)
    assert not ArrearsRecord.all_regencies.filter(participant=gone, arrears_import=full).exists()


def test_full_mode_keeps_participants_whose_rows_are_invalid(branch_a, tmp_path):
    run_import(branch_a, tmp_path, [line(1), line(2), line(3)], as_of=OCT)
    # Card 3's row is invalid (a region outside the branch) but names card 3: keep it.
    imp = run_import(branch_a, tmp_path, [line(2), line(3, code="99.99")], as_of=NOV)

    assert imp.invalid == 1
    assert imp.cleared == 1
    assert participants().get(card_number=card(1)).status == ParticipantStatus.CLEARED
    assert participants().get(card_number=card(3)).status != ParticipantStatus.CLEARED


def test_full_mode_with_an_unreadable_card_number_clears_nobody_and_says_so(branch_a, tmp_path):
    run_import(branch_a, tmp_path, [line(1), line(2)], as_of=OCT)
    imp = run_import(branch_a, tmp_path, [line(2), line(3, card_number="12AB")], as_of=NOV)

    assert imp.invalid == 1
    assert imp.cleared == 0
    assert participants().get(card_number=card(1)).status != ParticipantStatus.CLEARED
    assert "TIDAK ditandai" in imp.message


def test_a_cleared_participant_who_returns_is_in_arrears_again(branch_a, tmp_path):
    run_import(branch_a, tmp_path, [line(1), line(2)], as_of=OCT)
    run_import(branch_a, tmp_path, [line(2)], as_of=NOV)
    imp = run_import(branch_a, tmp_path, [line(1), line(2, months=4)], as_of=DEC)

    back = participants().get(card_number=card(1))
    assert back.status == ParticipantStatus.INACTIVE and back.cleared_at is None
    assert imp.updated == 2


def test_an_older_import_is_history_only(branch_a, tmp_path):
    run_import(branch_a, tmp_path, [line(1, months=6), line(2, months=6)], as_of=NOV)
    old = run_import(branch_a, tmp_path, [line(1, months=2), line(3, months=2)], as_of=OCT)

    assert old.status == "applied" and old.is_outdated
    assert "riwayat" in old.message
    assert old.cleared == 0
    current = participants().get(card_number=card(1))
    assert current.months_in_arrears == 6
    assert participants().get(card_number=card(2)).status != ParticipantStatus.CLEARED
    history = ArrearsRecord.all_regencies.filter(participant=current).order_by("as_of")
    assert [(r.as_of, r.months_in_arrears) for r in history] == [(OCT, 2), (NOV, 6)]
    # First seen in the older file, absent from the newer full list: known, but not in arrears now.
    newcomer = participants().get(card_number=card(3))
    assert newcomer.status == ParticipantStatus.CLEARED


def test_districts_and_villages_are_matched_by_code_and_by_name(branch_a, regency_a, tmp_path):
    masamba = DistrictFactory(regency=regency_a, name="Masamba", code="73.22.01")
    VillageFactory(district=masamba, regency=regency_a, name="Baloli", code="73.22.01.2001")
    sabbang = DistrictFactory(regency=regency_a, name="Sabbang", code="")
    rows = [
        line(1, code="73.22.01.2001", kecamatan="MASAMBA", desa="BALOLI"),  # both by code
        line(2, code="73.22", kecamatan="  sabbang ", desa="Dandang"),  # district by name, new village
        line(3, code="73.22", kecamatan="SABBANG", desa="dandang"),  # the same, other spelling
        line(4, code="73.22.09.2002", kecamatan="Rampi", desa="Onondowa"),  # both new, with codes
        line(5, code="73.22", kecamatan="", desa=""),  # no place at all
    ]
    run_import(branch_a, tmp_path, rows)

    by_card = {p.card_number: p for p in participants().select_related("district", "village")}
    assert by_card[card(1)].district == masamba
    assert by_card[card(1)].village.code == "73.22.01.2001"
    assert by_card[card(2)].district == sabbang
    assert by_card[card(2)].village == by_card[card(3)].village
    assert by_card[card(2)].village.name == "Dandang"
    assert by_card[card(4)].district.code == "73.22.09"
    assert by_card[card(4)].village.code == "73.22.09.2002"
    assert by_card[card(5)].district is None and by_card[card(5)].village is None
    assert District.objects.for_regency(regency_a).count() == 3
    assert Village.objects.for_regency(regency_a).count() == 3


def test_a_district_known_by_name_takes_the_code_from_the_file(branch_a, regency_a, tmp_path):
    district = DistrictFactory(regency=regency_a, name="Sabbang", code="")
    run_import(branch_a, tmp_path, [line(1, code="73.22.05", kecamatan="SABBANG", desa="")])

    district.refresh_from_db()
    assert district.code == "73.22.05"
    assert participants().get().district == district


def test_families_are_upserted_by_regency_and_number(branch_a, regency_a, regency_a2, tmp_path):
    kk = "7322010101019999"
    rows = [
        line(1, kk=kk),
        line(2, kk=kk),
        line(3, kk=kk, code="73.17", kecamatan="Belopa", desa="Sabe"),
    ]
    run_import(branch_a, tmp_path, rows, as_of=OCT)
    run_import(branch_a, tmp_path, [*rows, line(4, kk=kk)], as_of=NOV)

    family = Family.objects.for_regency(regency_a).get(number=kk)
    assert family.members.count() == 3
    assert family.village.code == "73.22.01.2001"
    assert Family.objects.for_regency(regency_a2).filter(number=kk).count() == 1
    assert Family.all_regencies.count() == 2


def test_a_family_lives_where_its_first_row_says_and_moves_with_the_next_list(
    branch_a, regency_a, tmp_path
):
    kk = "7322010101018888"
    first = [
        line(1, kk=kk, code="73.22.01.2002", desa="Bone Tua"),
        line(2, kk=kk, code="73.22.01.2001", desa="Baloli"),
    ]
    run_import(branch_a, tmp_path, first, as_of=OCT)
    assert Family.objects.for_regency(regency_a).get(number=kk).village.code == "73.22.01.2002"

    moved = [line(2, kk=kk, code="73.22.01.2001", desa="Baloli"), line(1, kk=kk, code="73.22.01.2002", desa="Bone Tua")]
    run_import(branch_a, tmp_path, moved, as_of=NOV)
    assert Family.objects.for_regency(regency_a).get(number=kk).village.code == "73.22.01.2001"


def test_a_mid_apply_error_rolls_back_everything(branch_a, tmp_path, monkeypatch):
    run_import(branch_a, tmp_path, [line(1, months=1)], as_of=OCT)

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    # After districts, families and participants were written, before clearing.
    original = apply_module._participants

    def upsert_then_explode(*args, **kwargs):
        original(*args, **kwargs)
        explode()

    monkeypatch.setattr(apply_module, "_participants", upsert_then_explode)
    with pytest.raises(RuntimeError):
        run_import(branch_a, tmp_path, [line(1, months=9), line(2)], as_of=NOV)

    failed = ArrearsImport.objects.get(as_of=NOV)
    assert failed.status == "failed"
    assert "tidak ada data yang diterapkan" in failed.message
    assert participants().count() == 1
    assert participants().get().months_in_arrears == 1
    assert not ArrearsRecord.all_regencies.filter(arrears_import=failed).exists()
    assert not Family.all_regencies.filter(number=line(2)["no_kk"]).exists()


def test_rebuilt_indexes_are_those_the_migrations_made(branch_a, tmp_path, insert_path):
    before = _index_definitions()
    # pk, card, public_id, family, 2 lookups, 2 list orders, name trigram; the standing's pk, its
    # count by status and months, its 2 list orders
    assert len(before["participants_participant"]) == 9
    assert len(before["participants_standing"]) == 4

    with CaptureQueriesContext(connection) as queries:
        first = run_import(branch_a, tmp_path, [line(n) for n in range(1, 6)], as_of=OCT)
        second = run_import(branch_a, tmp_path, [line(n, months=4) for n in range(3, 9)], as_of=NOV)

    assert _index_definitions() == before
    dropped = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("DROP INDEX", "ALTER TABLE"))]
    assert bool(dropped) == (insert_path == "rebuilding indexes")
    assert (first.new, second.new, second.updated) == (5, 3, 3)
    assert participants().get(card_number=card(8)).months_in_arrears == 4
    assert ArrearsRecord.all_regencies.count() == 11


def test_busy_tables_keep_their_indexes_and_the_import_still_applies(branch_a, tmp_path, monkeypatch):
    """Another session reading participants (an open transaction): the apply waits no
    longer than the lock timeout for it, and inserts keeping the indexes instead."""
    monkeypatch.setattr(apply_module, "_worth_rebuilding", lambda cur, table, *, new_rows: True)
    monkeypatch.setattr(apply_module, "_BULK_LOCK_TIMEOUT", "200ms")
    reader = connection.get_new_connection(connection.get_connection_params())
    try:
        with reader.cursor() as cur:
            cur.execute("SELECT count(*) FROM participants_participant")  # holds ACCESS SHARE
        with CaptureQueriesContext(connection) as queries:
            imp = run_import(branch_a, tmp_path, [line(n) for n in range(1, 4)])
    finally:
        reader.close()

    assert imp.status == "applied" and imp.new == 3
    sql = [q["sql"].replace('"', "") for q in queries.captured_queries]  # identifiers come quoted
    assert not [q for q in sql if q.startswith("ALTER TABLE participants_participant DROP")]
    assert [q for q in sql if q.startswith("ALTER TABLE participants_family DROP")]  # not busy
    assert [q for q in sql if q.startswith("DROP INDEX standing_sort_months")]  # not busy either
    indexes = _index_definitions()
    assert (len(indexes["participants_participant"]), len(indexes["participants_standing"])) == (9, 4)
