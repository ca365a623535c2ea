"""The pure parts of the load benchmark (bench/load.py) and of bench_year's churn."""

from __future__ import annotations

import random
from importlib import import_module

import pytest

from bench import load
from bench.management.commands.bench_year import (
    Churn,
    Family,
    Year,
    advance_month,
    families_of,
    month_rows,
    percentile,
    ratios,
    regency_of,
)

WRK_TEXT = """Running 10s test @ http://127.0.0.1:8000/r/luwu-utara/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   612.20ms  100.10ms   1.20s    70.00%
  64 requests in 10.02s, 1.20MB read
WRK_JSON {"requests": 64, "duration_us": 10020000, "bytes": 1258291, "non2xx": 3, "errors_connect": 0, "errors_read": 0, "errors_write": 0, "errors_timeout": 2, "p50_us": 598000, "p95_us": 905500, "p99_us": 1190000, "max_us": 1200000}
Requests/sec:      6.39
"""


def test_wrk_summary_is_read_from_the_scripts_json_line():
    parsed = load.parse_wrk_output(WRK_TEXT)
    assert parsed["requests"] == 64
    assert parsed["rps"] == pytest.approx(64 / 10.02, abs=0.01)
    assert (parsed["p50_ms"], parsed["p95_ms"], parsed["p99_ms"], parsed["max_ms"]) == (598.0, 905.5, 1190.0, 1200.0)
    assert parsed["non2xx"] == 3
    assert parsed["socket_errors"] == {"connect": 0, "read": 0, "write": 0, "timeout": 2}


def test_wrk_without_a_summary_is_an_error_naming_its_output():
    with pytest.raises(ValueError, match="unable to connect"):
        load.parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_the_lua_script_prints_the_line_the_parser_reads():
    assert "WRK_JSON {" in load.WRK_SCRIPT
    for key in ("requests", "duration_us", "non2xx", "p50_us", "p95_us", "p99_us", "errors_timeout"):
        assert f'"{key}"' in load.WRK_SCRIPT


@pytest.mark.parametrize(("count", "expected"), [(100_000, 500), (25_000, 500), (1_000, 20), (1_001, 21), (0, 1)])
def test_deep_page_is_500_or_the_last_page(count, expected):
    assert load.deep_page(count, 50) == expected


def test_page_paths_cover_the_issue_table():
    paths = load.page_paths(regency_count=1000, search="lolo")
    assert set(paths) == set(load.PAGE_NAMES)
    assert paths["participants_search"] == "/r/luwu-utara/participants/?q=lolo"
    assert paths["api_deep"] == "/api/v1/regencies/luwu-utara/participants/?page=20"
    assert paths["campaign_participants"] == "/c/lutra-peduli/participants/"


def test_deep_pages_follow_the_cursor_when_there_is_one():
    paths = load.page_paths(regency_count=100_000, search="lolo", deep_cursor="eyJvIjoibW9udGhzIn0")
    assert paths["participants_deep"] == "/r/luwu-utara/participants/?cursor=eyJvIjoibW9udGhzIn0"
    assert paths["api_deep"] == "/api/v1/regencies/luwu-utara/participants/?cursor=eyJvIjoibW9udGhzIn0"


def test_table_has_one_row_per_page():
    rows = [{"label": "regency dashboard", "path": "/r/luwu-utara/", "rps": 1234.5, "p50_ms": 10.0,
             "p95_ms": 12.4, "p99_ms": 20.0, "queries": 21, "alone_ms": 8.0, "web_cpu_ms": 12.34,
             "db_cpu_ms": 3.0, "non2xx": 0, "socket_errors": {"timeout": 1, "read": 0}}]
    table = load.format_table(rows).splitlines()
    assert len(table) == 3
    assert table[2] == ("| regency dashboard | `/r/luwu-utara/` | 1,234.5 | 10 | 12 | 20 | 21 | 8 | 12.3 | 3.0 | "
                        "0 | 1 |")


def test_a_page_that_never_answered_shows_no_latency():
    rows = [{"label": "deep", "path": "/x/", "requests": 0, "rps": 0.0, "p50_ms": 0.0, "p95_ms": 0.0,
             "p99_ms": 0.0, "queries": 11, "alone_ms": 8542.1, "non2xx": 0, "duration_s": 10.0}]
    line = load.format_table(rows).splitlines()[2]
    assert line == "| deep | `/x/` | 0.0 | - | - | - | 11 | 8,542 | - | - | 0 (none answered in 10 s) | 0 |"


def test_cpu_used_counts_what_each_process_spent_and_a_new_one_whole():
    assert load.cpu_used({1: 2.0, 2: 5.0}, {1: 2.5, 2: 5.25, 3: 0.75}) == pytest.approx(1.5)


def test_cpu_times_reads_this_process():
    import os
    import time

    before = load.cpu_times([os.getpid()])
    # The kernel counts CPU time in clock ticks (10 ms): burn well past one of them.
    start = time.process_time()
    while time.process_time() - start < 0.1:
        sum(i * i for i in range(10_000))
    assert load.cpu_used(before, load.cpu_times([os.getpid()])) >= 0.05


def test_without_wrk_the_tool_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setattr(load.shutil, "which", lambda name: None)
    assert load.main(["--participants", "10"]) == 2
    assert "apt-get install -y wrk" in capsys.readouterr().err


def test_only_a_satu_load_database_may_be_used(monkeypatch):
    monkeypatch.setattr(load.shutil, "which", lambda name: "/usr/bin/wrk")
    with pytest.raises(SystemExit):
        load.main(["--db", "satu"])


@pytest.mark.django_db
def test_a_benchmark_session_counts_as_a_login_past_the_totp_step(regency_a):
    from django.conf import settings
    from django.test import RequestFactory

    from accounts.mfa import enrol_totp
    from accounts.middleware import session_passed_mfa
    from regencies.roles import Role
    from tests.factories import member

    user = member(regency_a, Role.REGENCY_ADMIN)
    enrol_totp(user, "JBSWY3DPEHPK3PXP")
    key = load._session_for(user)
    request = RequestFactory().get("/")
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    request.user = user
    assert session_passed_mfa(request)
    assert request.session["_auth_user_id"] == str(user.pk)


# --- bench_year's churn ------------------------------------------------------------------------

HEADER = ["no_kartu", "nik", "nama", "no_kk", "kelas", "kode_wilayah", "kecamatan", "desa",
          "bulan_tunggak", "jumlah_tunggakan", "status_peserta"]
REGENCIES = {0: ["73.30", "73.31"], 1: ["73.32", "73.33"], 2: ["73.34", "73.35"]}


def _family(serial: int, branch: int, size: int, rng: random.Random) -> list[list[str]]:
    regency = rng.choice(REGENCIES[branch])
    months = rng.randint(1, 12)
    return [[f"{serial * 10 + i:013d}", f"{serial * 10 + i:016d}", f"NAMA {serial} {i}", f"KK{serial:014d}", "3",
             f"{regency}.01.2001", "KEC", "DESA", str(months), str(months * 35_000), "TIDAK AKTIF"]
            for i in range(size)]


def _year(families_per_branch: int = 300, seed: int = 7) -> Year:
    rng = random.Random(seed)
    families: list[Family] = []
    reserve: dict[int, list[Family]] = {}
    serial = 0
    for branch in REGENCIES:
        rows = []
        for _ in range(families_per_branch * 2):
            serial += 1
            rows.extend(_family(serial, branch, rng.randint(1, 4), rng))
        everyone = families_of(HEADER, rows, branch=branch)
        families.extend(everyone[:families_per_branch])
        reserve[branch] = everyone[families_per_branch:]
        for family in reserve[branch]:
            family.state = "waiting"
    places = {code: [(f"{code}.01.2001", "KEC", "DESA"), (f"{code}.02.2002", "KEC2", "DESA2")]
              for codes in REGENCIES.values() for code in codes}
    return Year(header=HEADER, families=families, reserve=reserve, places=places,
                branch_regencies=REGENCIES, target_families=dict.fromkeys(REGENCIES, families_per_branch))


def _cards(rows: list[list[str]]) -> list[str]:
    return [row[0] for row in rows]


def test_families_are_consecutive_rows_of_one_kk():
    rng = random.Random(1)
    rows = _family(1, 0, 3, rng) + _family(2, 0, 1, rng)
    families = families_of(HEADER, rows, branch=0)
    assert [len(f.rows) for f in families] == [3, 1]
    assert families[0].months == int(rows[0][8])


def test_a_year_of_churn_keeps_every_card_on_one_list_and_the_lists_near_their_size():
    year = _year()
    rng = random.Random(3)
    first = {b: len(month_rows(year, b)) for b in REGENCIES}
    totals: dict[str, int] = {}
    for _month in range(2, 13):
        changes = advance_month(year, rng, Churn(move_branch=0.02, move_regency=0.05))
        for key, value in changes.items():
            totals[key] = totals.get(key, 0) + value
        listed = [card for b in REGENCIES for card in _cards(month_rows(year, b))]
        assert len(listed) == len(set(listed)), "a card number on two lists, or twice on one"
        for b in REGENCIES:
            rows = month_rows(year, b)
            assert 0.8 * first[b] <= len(rows) <= 1.3 * first[b]
            assert all(row[5][:5] in REGENCIES[b] for row in rows), "a row outside its branch's regencies"
    for kind in ("paid_off", "left", "relapsed", "moved_regency", "moved_branch", "new", "grew"):
        assert totals[kind] > 0, kind


def test_arrears_grow_a_month_and_the_amount_follows_the_tariff_up_to_24_months():
    year = _year(families_per_branch=50)
    family = year.families[0]
    family.months = 23
    advance_month(year, random.Random(5), Churn(paid_off=0, leave=0, relapse=0, move_regency=0, move_branch=0,
                                                new_floor=0))
    assert family.state == "arrears" and family.months == 24
    assert {row[8] for row in family.rows} == {"24"}
    assert {row[9] for row in family.rows} == {str(24 * 35_000)}
    advance_month(year, random.Random(5), Churn(paid_off=0, leave=0, relapse=0, move_regency=0, move_branch=0,
                                                new_floor=0))
    assert family.months == 25 and {row[9] for row in family.rows} == {str(24 * 35_000)}


def test_a_donor_paid_family_shows_zero_arrears_once_then_leaves_the_list():
    year = _year(families_per_branch=50)
    family = year.families[0]
    branch = family.branch
    no_churn = Churn(paid_off=0, leave=0, relapse=0, move_regency=0, move_branch=0, new_floor=0)
    advance_month(year, random.Random(1), no_churn, paid_cards={family.rows[0][0]})
    assert family.state == "paid"
    listed = {row[0]: row for row in month_rows(year, branch)}
    assert all(listed[row[0]][8:11] == ["0", "0", "AKTIF"] for row in family.rows)
    advance_month(year, random.Random(1), no_churn)
    assert family.state == "gone"
    assert not set(_cards(family.rows)) & set(_cards(month_rows(year, branch)))


def test_a_moved_family_keeps_its_cards_and_takes_the_new_regency():
    year = _year(families_per_branch=100)
    before = {f.kk: (f.branch, regency_of(year, f), _cards(f.rows)) for f in year.families}
    advance_month(year, random.Random(9), Churn(paid_off=0, leave=0, relapse=0, move_regency=0.5, move_branch=0.2,
                                                new_floor=0))
    moved = [f for f in year.families if f.kk in before and (f.branch, regency_of(year, f)) != before[f.kk][:2]]
    assert moved
    for family in moved:
        assert _cards(family.rows) == before[family.kk][2]
        assert regency_of(year, family) in REGENCIES[family.branch]
        assert len({row[5] for row in family.rows}) == 1


def test_the_churn_is_the_same_for_the_same_seed():
    a, b = _year(), _year()
    for _ in range(3):
        advance_month(a, random.Random(4), Churn())
        advance_month(b, random.Random(4), Churn())
    assert [month_rows(a, x) for x in REGENCIES] == [month_rows(b, x) for x in REGENCIES]


def test_ratios_compare_the_last_month_with_the_first_and_the_second():
    months = [{"import_s": 2.0, "db_mb": 10.0}, {"import_s": 1.0, "db_mb": 0}, {"import_s": 1.5, "db_mb": 30.0}]
    assert ratios(months, ["import_s", "db_mb"]) == {
        "last_vs_first": {"import_s": 0.75, "db_mb": 3.0},
        "last_vs_second": {"import_s": 1.5, "db_mb": None},
    }
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.95) == 5.0


def test_the_table_gives_reconciliations_work_and_its_time_per_pledge():
    from bench.management.commands.bench_year import format_months

    base = {"as_of": "2026-01-01", "rows": 10, "row_errors": 0, "import_s": 1.0, "screening_s": 0.5,
            "screening_computed": 1234,
            "dashboard_p95_ms": 9.0, "db_mb": 1.0, "history_mb": 1.0, "history_rows": 10}
    table = format_months([
        {**base, "month": 1, "reconcile_s": 0.2, "pledges_decided": 0, "reconcile_ms_per_1000_decided": None},
        {**base, "month": 2, "reconcile_s": 0.9, "pledges_decided": 7412, "reconcile_ms_per_1000_decided": 121.4},
    ]).splitlines()
    assert "pledges decided" in table[0] and "per 1,000 decided" in table[0]
    assert table[0].count("|") == table[1].count("|") == table[2].count("|") == table[3].count("|")
    assert "| 0.2 | 0 | - |" in table[2] and "| 0.9 | 7,412 | 121.4 |" in table[3]
    assert "| 0.5 | 1,234 | 0.2 |" in table[2] and "queue entries computed" in table[0]
