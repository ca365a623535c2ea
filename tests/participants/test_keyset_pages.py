"""Keyset pages of the participant list: every row once across pages (ties included), the same
pages backwards, cursors that survive new rows, bad cursors, capped counts, and search/filters
that read the same rows as the expression they replace."""

import base64
import datetime as dt
import json
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from assessments.models import Assessment
from core.pagination import COUNT_CAP, KeysetOrder, count_capped, cursor_decode, keyset_page
from core.time import regency_today
from participants import selectors
from participants.models import Participant
from tests.factories import ParticipantFactory
from tests.paging import pages_back, pages_forward


def _reader(regency, *, size, **filters):
    return lambda cursor: selectors.participant_page(regency=regency, cursor=cursor, size=size, **filters)


def _walk(regency, *, size, **filters):
    """Every page forward from the start: (pages of ids, the last page)."""
    return pages_forward(_reader(regency, size=size, **filters))


def _walk_back(regency, page, *, size, **filters):
    return pages_back(_reader(regency, size=size, **filters), page)


@pytest.fixture
def mixed(regency_a):
    """37 participants: many tie on months and amount (and on name), some never paid."""
    rows = []
    for n in range(37):
        rows.append(ParticipantFactory(
            regency=regency_a,
            name=["SITI AMINAH", "ANDI SULAIMAN", "BUDI"][n % 3],
            months_in_arrears=[3, 12, 12, 24][n % 4],
            arrears_amount=[126_000, 504_000][n % 2],
            last_paid_date=None if n % 5 == 0 else dt.date(2025, 1 + n % 12, 1),
        ))
    return rows


@pytest.mark.parametrize("sort", list(selectors.SORT_ORDERS))
def test_every_row_once_in_the_list_order_forward_and_back(regency_a, mixed, sort):
    expected = list(selectors.participant_list(regency=regency_a, sort=sort).values_list("pk", flat=True))
    pages, last = _walk(regency_a, size=5, sort=sort)
    seen = [pk for page in pages for pk in page]
    assert seen == expected  # no duplicate, no skip, in the list's own order
    assert len(pages) == 8 and all(len(page) == 5 for page in pages[:-1])
    assert _walk_back(regency_a, last, size=5, sort=sort) == pages


def test_ties_are_broken_by_id(regency_a):
    same = [ParticipantFactory(regency=regency_a, months_in_arrears=7, arrears_amount=294_000) for _ in range(11)]
    pages, _last = _walk(regency_a, size=4)
    assert [pk for page in pages for pk in page] == sorted((p.pk for p in same), reverse=True)


def test_a_new_row_before_the_cursor_does_not_repeat_or_skip(regency_a, mixed):
    first = selectors.participant_page(regency=regency_a, size=10)
    shown = {p.pk for p in first.object_list}
    top = ParticipantFactory(regency=regency_a, months_in_arrears=60, arrears_amount=9_000_000)
    second = selectors.participant_page(regency=regency_a, cursor=first.next_cursor, size=10)
    assert not shown & {p.pk for p in second.object_list}
    expected = list(selectors.participant_list(regency=regency_a).exclude(pk=top.pk).values_list("pk", flat=True))
    assert [p.pk for p in second.object_list] == expected[10:20]


def test_going_back_past_a_new_first_row_shows_the_first_page_full(regency_a, mixed):
    first = selectors.participant_page(regency=regency_a, size=10)
    second = selectors.participant_page(regency=regency_a, cursor=first.next_cursor, size=10)
    for pk in [p.pk for p in first.object_list][:3]:
        Participant.objects.for_regency(regency_a).filter(pk=pk).delete()
    back = selectors.participant_page(regency=regency_a, cursor=second.previous_cursor, size=10)
    assert back.is_first and not back.has_previous and len(back.object_list) == 10


def _cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "", "garbage", "e30", "!!!", "x" * 5000,
    _cursor({"o": "months", "v": ["x", 1, 1], "b": 0}),  # a word for a number
    _cursor({"o": "name", "v": ["A", 1], "b": 0}),  # a cursor of another order
    _cursor({"o": "months", "v": [None, 1, 1], "b": 0}),
    _cursor({"o": "months", "v": [1, 1], "b": 0}),  # too few values
    _cursor({"o": "months", "v": [[1], {}, 1], "b": 1}),
    _cursor(["months"]),
])
def test_a_bad_cursor_is_the_first_page(client, admin_a, regency_a, mixed, cursor):
    first = selectors.participant_page(regency=regency_a, size=50)
    page = selectors.participant_page(regency=regency_a, cursor=cursor, size=50)
    assert [p.pk for p in page.object_list] == [p.pk for p in first.object_list] and page.is_first
    client.force_login(admin_a)
    url = reverse("participant_list", kwargs={"regency_slug": regency_a.slug})
    assert client.get(url + "?" + urlencode({"cursor": cursor})).status_code == 200
    api = f"/api/v1/regencies/{regency_a.slug}/participants/?" + urlencode({"cursor": cursor})
    response = client.get(api)
    assert response.status_code == 200 and response.json()["count"] == 37


def test_a_name_cursor_with_a_nul_is_the_first_page(client, admin_a, regency_a, mixed):
    cursor = _cursor({"o": "name", "v": ["A\x00B", 1], "b": 0})  # PostgreSQL refuses a NUL
    page = selectors.participant_page(regency=regency_a, sort="name", cursor=cursor, size=5)
    assert page.is_first
    client.force_login(admin_a)
    url = reverse("participant_list", kwargs={"regency_slug": regency_a.slug})
    assert client.get(url + "?" + urlencode({"sort": "name", "cursor": cursor})).status_code == 200


def test_a_date_cursor_round_trips(regency_a, mixed):
    order = selectors.sort_keys("last_paid")
    page = keyset_page(selectors.participant_list(regency=regency_a, sort="last_paid"), order=order,
                       cursor=None, size=6)
    decoded = cursor_decode(page.next_cursor, queryset=selectors.participant_list(regency=regency_a), order=order)
    assert decoded is not None and isinstance(decoded.values[0], dt.date) and not decoded.backward
    assert page.object_list[0].last_paid_date is None  # never paid counts as paid longest ago


def test_counts_are_exact_up_to_the_cap(client, admin_a, regency_a, mixed):
    qs = selectors.participant_list(regency=regency_a)
    assert count_capped(qs) == count_capped(qs, cap=COUNT_CAP)
    assert (count_capped(qs).value, count_capped(qs).exact) == (37, True)
    assert (count_capped(qs, cap=36).value, count_capped(qs, cap=36).exact) == (36, False)
    assert (count_capped(qs, cap=37).value, count_capped(qs, cap=37).exact) == (37, True)
    client.force_login(admin_a)
    html = client.get(reverse("participant_list", kwargs={"regency_slug": regency_a.slug})).content.decode()
    assert "37 peserta sesuai pencarian." in html


def test_more_than_the_cap_says_so(client, admin_a, regency_a, mixed, monkeypatch):
    monkeypatch.setattr("core.pagination.COUNT_CAP", 20)
    monkeypatch.setattr(selectors, "count_capped", lambda qs: count_capped(qs, cap=20))
    client.force_login(admin_a)
    html = client.get(reverse("participant_list", kwargs={"regency_slug": regency_a.slug})).content.decode()
    assert "Lebih dari 20 peserta sesuai pencarian." in html


def test_keys_must_share_one_direction_and_the_order_reverses(regency_a):
    order = KeysetOrder("t", ("months_in_arrears", "id"), descending=True)
    assert order.order_by() == ["-months_in_arrears", "-id"]
    assert order.order_by(reverse=True) == ["months_in_arrears", "id"]


# --- search and filters -------------------------------------------------------------


def test_name_words_any_case_any_order(regency_a):
    a = ParticipantFactory(regency=regency_a, name="Siti Nurhaedah Aminah")
    ParticipantFactory(regency=regency_a, name="ANDI SULAIMAN")
    b = ParticipantFactory(regency=regency_a, name="NURHAEDAH BECCE")
    found = selectors.participant_page(regency=regency_a, q="nurhaedah")
    assert {p.pk for p in found.object_list} == {a.pk, b.pk}
    found = selectors.participant_page(regency=regency_a, q="AMINAH  siti")
    assert [p.pk for p in found.object_list] == [a.pk]
    assert not selectors.participant_page(regency=regency_a, q="haedahx").object_list
    assert [p.pk for p in selectors.participant_page(regency=regency_a, q="ce").object_list] == [b.pk]


def test_card_number_and_nik_exact(regency_a):
    p = ParticipantFactory(regency=regency_a, card_number="0000012345678", nik="7322014101800999")
    ParticipantFactory(regency=regency_a, card_number="0000012345679")
    assert [x.pk for x in selectors.participant_page(regency=regency_a, q="12345678").object_list] == [p.pk]
    assert [x.pk for x in selectors.participant_page(regency=regency_a, q="7322 0141 0180 0999").object_list] == [p.pk]
    assert not selectors.participant_page(regency=regency_a, q="732201410180099").object_list


def test_name_search_has_a_trigram_index_on_its_expression(db):
    """The search compares UPPER(name::text) LIKE '%WORD%'; the index is on the same expression
    (at 100,000 rows the plan reads it: a bitmap scan of participant_name_trgm)."""
    from django.db import connection

    sql, _params = Participant.all_regencies.filter(selectors._search_filter("nurhaedah")).query.sql_with_params()
    assert 'UPPER("participants_participant"."name"::text) LIKE UPPER(' in sql
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'participant_name_trgm'")
        (indexdef,) = cursor.fetchone()
    assert "USING gin (upper((name)::text) gin_trgm_ops)" in indexdef


def test_eligibility_filters_agree_with_the_expression(regency_a, assessor_a):
    today = regency_today(regency_a)
    people = {name: ParticipantFactory(regency=regency_a, name=name) for name in (
        "eligible", "pending", "ineligible", "expired", "unassessed", "approved_and_open")}

    def add(p, status, valid_until=None):
        decided = {"approved": {"outcome": "eligible"},
                   "rejected": {"outcome": "ineligible", "reason_code": "able_to_pay"}}.get(status, {})
        Assessment.objects.for_regency(regency_a).create(
            regency_id=regency_a.pk, participant=p, created_by=assessor_a, status=status,
            questionnaire_version=1, answers={}, valid_until=valid_until, **decided)

    add(people["eligible"], "approved", today + dt.timedelta(days=30))
    add(people["pending"], "submitted")
    add(people["pending"], "rejected", today - dt.timedelta(days=1))
    add(people["ineligible"], "rejected", today + dt.timedelta(days=5))
    add(people["expired"], "approved", today - dt.timedelta(days=1))
    add(people["approved_and_open"], "approved", today + dt.timedelta(days=1))
    add(people["approved_and_open"], "draft")
    annotated = {p.name: p.eligibility for p in selectors.participant_list(regency=regency_a)}
    assert annotated == {"eligible": "eligible", "pending": "pending", "ineligible": "ineligible",
                         "expired": "expired", "unassessed": "unassessed", "approved_and_open": "eligible"}
    for value, _label in selectors.ELIGIBILITY_CHOICES:
        page = selectors.participant_page(regency=regency_a, eligibility=value)
        assert sorted(p.name for p in page.object_list) == sorted(
            name for name, got in annotated.items() if got == value), value
        assert all(p.eligibility == value for p in page.object_list)
