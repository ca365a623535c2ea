"""The arrears history partitioned by list month (participants.partitions): the import writes its
month's partition, the monthly job makes the coming months, `history_partitions` lists, detaches,
archives and drops old months, and check_integrity watches the DEFAULT partition.

The test database has partitions for 2024-2028 (tests/conftest.py); these tests use months
outside that window, so that every partition they need is made (or not) by the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, ProgrammingError, connection
from django.test.utils import CaptureQueriesContext
from psycopg2 import sql

from core import integrity
from participants import partitions
from participants.imports import apply as apply_module
from participants.models import ArrearsImport, ArrearsRecord, Participant
from participants.selectors import participant_history
from participants.tasks import ensure_history_partitions
from regencies.models import BpjsBranch
from tests.participants.importing import card, line, run_import

pytestmark = pytest.mark.django_db

JUL, AUG, SEP = dt.date(2019, 7, 1), dt.date(2019, 8, 15), dt.date(2019, 9, 1)
DEFAULT_CHECK = "partition:participants_arrearsrecord.default"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _rows_in(table: str) -> int:
    with connection.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        return int(cur.fetchone()[0])


def _where(record: ArrearsRecord) -> str:
    """The partition that holds `record`."""
    with connection.cursor() as cur:
        cur.execute("SELECT tableoid::regclass::text FROM participants_arrearsrecord WHERE id = %s", [record.pk])
        return str(cur.fetchone()[0])


def _attached_months() -> set[dt.date]:
    return {p.month for p in partitions.history_partitions() if p.attached and p.month}


def _command(*args: str) -> dict[str, Any]:
    out, err = StringIO(), StringIO()
    call_command("history_partitions", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def _two_months(branch_a: BpjsBranch, tmp_path: Path) -> tuple[ArrearsImport, ArrearsImport]:
    """July: cards 1-4; August: cards 1-3 (card 4's newest record stays in July)."""
    july = run_import(branch_a, tmp_path, [line(n, months=5) for n in range(1, 5)], as_of=JUL, mode="partial",
                      name="juli.csv")
    august = run_import(branch_a, tmp_path, [line(n, months=6) for n in range(1, 4)], as_of=AUG, mode="partial",
                        name="agustus.csv")
    assert (july.status, august.status) == ("applied", "applied")
    return july, august


def test_an_import_of_two_list_months_writes_two_partitions(branch_a: BpjsBranch, tmp_path: Path) -> None:
    assert not {JUL, AUG.replace(day=1)} & _attached_months()

    _july, august = _two_months(branch_a, tmp_path)

    assert {JUL, AUG.replace(day=1)} <= _attached_months()
    assert _rows_in("participants_arrearsrecord_y2019m07") == 4
    assert _rows_in("participants_arrearsrecord_y2019m08") == 3
    assert _rows_in(partitions.DEFAULT_PARTITION) == 0
    record = ArrearsRecord.all_regencies.get(arrears_import=august, participant__card_number=card(1))
    assert _where(record) == "participants_arrearsrecord_y2019m08"
    assert integrity.run(only=[DEFAULT_CHECK]).ok


def test_an_import_whose_month_exists_changes_no_table(branch_a: BpjsBranch, tmp_path: Path) -> None:
    partitions.history_partition_ensure(month=SEP)
    with CaptureQueriesContext(connection) as queries:
        imp = run_import(branch_a, tmp_path, [line(1), line(2)], as_of=SEP)
    assert imp.status == "applied"
    ddl = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("CREATE TABLE", "ALTER TABLE"))]
    assert not [q for q in ddl if "arrearsrecord" in q]
    assert _rows_in("participants_arrearsrecord_y2019m09") == 2


def test_a_big_insert_keeps_the_history_indexes(
    branch_a: BpjsBranch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rebuilding the secondary indexes suits a plain table that an insert doubles; the history's
    indexes span every month while an insert fills one partition: they stay."""
    monkeypatch.setattr(apply_module, "_worth_rebuilding", lambda cur, table, *, new_rows: True)
    with CaptureQueriesContext(connection) as queries:
        imp = run_import(branch_a, tmp_path, [line(1), line(2)], as_of=SEP)
    assert imp.status == "applied"
    statements = [q["sql"].replace('"', "") for q in queries.captured_queries]
    assert [q for q in statements if q.startswith("ALTER TABLE participants_family DROP")]
    assert not [q for q in statements if "arrearsrecord" in q and " DROP " in f" {q}"]
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'participants_arrearsrecord_y2019m09'")
        assert cur.fetchone()[0] == 3  # (id, as_of), (participant, as_of, import), import


def test_a_row_of_a_month_without_partition_is_reported_then_moved(branch_a: BpjsBranch, tmp_path: Path) -> None:
    imp = run_import(branch_a, tmp_path, [line(1)], as_of=SEP)
    p = Participant.all_regencies.get()
    stray = ArrearsRecord.all_regencies.create(
        regency=p.regency, arrears_import=imp, participant=p, as_of=dt.date(2031, 3, 5), row_number=2,
        months_in_arrears=1, arrears_amount=35_000, bpjs_status="AKTIF", care_class=3, segment="PBPU",
    )
    assert _where(stray) == partitions.DEFAULT_PARTITION
    assert integrity.run(only=[DEFAULT_CHECK]).failed == {DEFAULT_CHECK: 1}

    assert partitions.history_partitions_from_default() == [dt.date(2031, 3, 1)]

    assert _where(stray) == "participants_arrearsrecord_y2031m03"
    assert integrity.run(only=[DEFAULT_CHECK]).ok
    stray.refresh_from_db()
    assert stray.arrears_amount == 35_000


def _reading_the_history() -> Any:
    """Another session with an open transaction that has read the history (ACCESS SHARE on every
    partition, as a long reconciliation run holds)."""
    reader = connection.get_new_connection(connection.get_connection_params())
    with reader.cursor() as cur:
        cur.execute("BEGIN; SELECT count(*) FROM participants_arrearsrecord")
    return reader


def test_making_a_partition_waits_no_longer_than_asked(branch_a: BpjsBranch, tmp_path: Path) -> None:
    """With a lock timeout (what the import passes) a busy history means "not now" (False; the
    rows would go to DEFAULT until the monthly job); without one, the caller's own lock settings
    rule and a timeout is an error. Once the reader is gone the import makes the month."""
    reader = _reading_the_history()
    try:
        assert partitions.history_partition_ensure(month=SEP, lock_timeout="200ms") is False
        assert SEP not in _attached_months()
        with connection.cursor() as cur:
            cur.execute("SET LOCAL lock_timeout = '200ms'")
        with pytest.raises(OperationalError) as timed_out:
            partitions.history_partition_ensure(month=SEP)
        assert timed_out.value.__cause__.pgcode == "55P03"
        with connection.cursor() as cur:
            cur.execute("SET LOCAL lock_timeout = 0")
    finally:
        reader.close()

    imp = run_import(branch_a, tmp_path, [line(1), line(2)], as_of=SEP)
    assert imp.status == "applied"
    assert _rows_in("participants_arrearsrecord_y2019m09") == 2


def test_the_beat_task_makes_the_coming_months_once() -> None:
    this_month = partitions.current_month()
    wanted = {partitions.month_add(this_month, n) for n in range(0, 5)}
    missing = wanted - _attached_months()

    made = ensure_history_partitions(months=4)

    assert {dt.date.fromisoformat(f"{m}-01") for m in made} == missing
    assert wanted <= _attached_months()
    assert ensure_history_partitions(months=4) == []
    assert ensure_history_partitions() == []  # HISTORY_PARTITION_MONTHS_AHEAD (3) is within


def test_the_list_command_shows_months_rows_and_size(branch_a: BpjsBranch, tmp_path: Path) -> None:
    _two_months(branch_a, tmp_path)

    listed = _command("list", "--exact")

    by_month = {p["month"]: p for p in listed["partitions"]}
    assert by_month["2019-07"]["rows"] == 4 and by_month["2019-07"]["attached"]
    assert by_month["2019-08"]["rows"] == 3 and by_month["2019-08"]["bytes"] > 0
    assert by_month["default"]["rows"] == 0
    months = [p["month"] for p in listed["partitions"] if p["month"] != "default"]
    assert months == sorted(months)
    assert listed["partitions"][-1]["month"] == "default"


def test_detach_archives_and_drops_only_the_old_month(branch_a: BpjsBranch, tmp_path: Path) -> None:
    july, august = _two_months(branch_a, tmp_path)
    # Card 4 was only on the July list: its newest record is there. A later list names it.
    run_import(branch_a, tmp_path, [line(4, months=7)], as_of=SEP, mode="partial", name="september.csv")
    newest = {p.card_number: p for p in Participant.all_regencies.all()}
    archive = tmp_path / "arsip"

    result = _command("detach", "--before", "2019-08", "--archive-dir", str(archive), "--drop", "--yes")

    assert result["ok"] and [m["month"] for m in result["months"]] == ["2019-07"]
    assert result["months"][0] | {"archive": None} == {
        "month": "2019-07", "table": "participants_arrearsrecord_y2019m07", "rows": 4,
        "detached": True, "archive": None, "dropped": True}
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('participants_arrearsrecord_y2019m07')")
        assert cur.fetchone()[0] is None
    with gzip.open(archive / "participants_arrearsrecord_y2019m07.csv.gz", "rt", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(int(r["participant_id"]) for r in rows) == sorted(p.pk for p in newest.values())
    assert {r["as_of"] for r in rows} == {"2019-07-01"} and {r["arrears_import_id"] for r in rows} == {str(july.pk)}

    # August and September untouched; the current lookups read them as before.
    assert ArrearsRecord.all_regencies.filter(as_of__lt=AUG).count() == 0
    assert ArrearsRecord.all_regencies.filter(arrears_import=august).count() == 3
    history = participant_history(participant=newest[card(1)])
    assert [(r.as_of, r.months_in_arrears) for r in history] == [(AUG, 6)]
    assert [r.months_in_arrears for r in participant_history(participant=newest[card(4)])] == [7]
    assert {JUL} & _attached_months() == set()
    assert {AUG.replace(day=1), SEP} <= _attached_months()
    assert integrity.run().ok


def test_detach_refuses_a_month_that_holds_a_newest_record(branch_a: BpjsBranch, tmp_path: Path) -> None:
    _two_months(branch_a, tmp_path)  # card 4's newest record is in July

    with pytest.raises(CommandError) as refused:
        _command("detach", "--before", "2019-08")

    assert refused.value.returncode == 1
    assert "2019-07 (1)" in str(refused.value) and "--force" in str(refused.value)
    assert JUL in _attached_months()
    assert ArrearsRecord.all_regencies.filter(as_of=JUL).count() == 4

    forced = _command("detach", "--before", "2019-08", "--force")

    assert forced["months"] == [{"month": "2019-07", "table": "participants_arrearsrecord_y2019m07", "rows": 0,
                                 "detached": True, "archive": None, "dropped": False}]
    assert JUL not in _attached_months()
    assert _rows_in("participants_arrearsrecord_y2019m07") == 4  # a table of its own, not dropped
    assert ArrearsRecord.all_regencies.filter(as_of=JUL).count() == 0
    listed = {p["month"]: p for p in _command("list")["partitions"]}
    assert listed["2019-07"]["attached"] is False


def test_a_detached_month_is_archived_and_dropped_by_a_later_run(branch_a: BpjsBranch, tmp_path: Path) -> None:
    _two_months(branch_a, tmp_path)
    _command("detach", "--before", "2019-08", "--force")

    result = _command("detach", "--before", "2019-08", "--archive-dir", str(tmp_path / "a"), "--drop", "--yes")

    assert [(m["month"], m["detached"], m["rows"], m["dropped"]) for m in result["months"]] == [
        ("2019-07", False, 4, True)]
    assert (tmp_path / "a" / "participants_arrearsrecord_y2019m07.csv.gz").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--before", "2999-01"], "bulan berjalan"),
    (["--before", "2019-08", "--drop"], "--yes"),
    (["--before", "2019-08", "--drop", "--yes"], "--archive-dir"),
])
def test_detach_bad_arguments_exit_2_and_change_nothing(
    branch_a: BpjsBranch, tmp_path: Path, args: list[str], message: str
) -> None:
    _two_months(branch_a, tmp_path)

    with pytest.raises(CommandError) as bad:
        _command("detach", *args)

    assert bad.value.returncode == 2 and message in str(bad.value)
    assert JUL in _attached_months()


def test_the_current_month_is_never_detached(branch_a: BpjsBranch, tmp_path: Path) -> None:
    this_month = partitions.current_month()
    imp = run_import(branch_a, tmp_path, [line(1)], as_of=this_month)
    assert imp.status == "applied"

    result = _command("detach", "--before", this_month.strftime("%Y-%m"), "--force")

    assert this_month.strftime("%Y-%m") not in [m["month"] for m in result["months"]]
    assert this_month in _attached_months()
    assert ArrearsRecord.all_regencies.filter(arrears_import=imp).count() == 1


def test_the_applications_role_makes_a_month_though_it_owns_nothing(db):
    """In docker-compose.yml the workers log in as a role that owns no table (deploy/postgres-init/),
    and only the history's owner may attach a partition to it: the making runs as the owner
    (`participants_history_month_make`, migration 0012), for the import and the monthly job alike."""
    month = dt.date(2031, 5, 1)
    with connection.cursor() as cur:
        cur.execute("CREATE ROLE satu_test_worker NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT")
        cur.execute("GRANT USAGE ON SCHEMA public TO satu_test_worker")
        cur.execute("SET ROLE satu_test_worker")
        try:
            cur.execute("SAVEPOINT as_worker")
            # What the role could not do itself.
            with pytest.raises(ProgrammingError, match=r"must be owner"):
                cur.execute("ALTER TABLE participants_arrearsrecord ATTACH PARTITION participants_arrearsrecord_default"
                            " DEFAULT")
            cur.execute("ROLLBACK TO SAVEPOINT as_worker")
            assert partitions.history_partition_ensure(month=month) is True
            assert partitions.history_partition_ensure(month=month) is False  # there already
        finally:
            cur.execute("RESET ROLE")
        cur.execute("SELECT tableowner FROM pg_tables WHERE tablename = %s", [partitions.partition_name(month)])
        (owner,) = cur.fetchone()
        cur.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'participants_arrearsrecord'")
        assert cur.fetchone() == (owner,)
    assert month in _attached_months()
