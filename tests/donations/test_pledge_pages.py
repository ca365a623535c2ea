"""Keyset pages of the pledge lists (the campaign's board, the donor's own page): every pledge
once across pages when creation times tie, the same pages backwards, a status tab, bad cursors,
the same number of queries at two sizes, and the indexes the walks read."""

import base64
import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from donations import selectors, services
from donations.models import Pledge, PledgeStatus
from tests.paging import walk

BOARD = "/r/luwu-utara/campaigns/lutra-peduli/"


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pledges(campaign, make_participant, donor, n: int, *, start: int = 0) -> list[Pledge]:
    """`n` confirmed pledges of `donor`, every third one then cancelled (a second status);
    creation times tie in threes (one second apart between groups)."""
    made = []
    for _ in range(n):
        pledge = services.pledge_reserve(campaign=campaign, participant=make_participant(), donor=donor)
        made.append(services.pledge_confirm(pledge=pledge, actor=donor))
    for pledge in made[::3]:
        services.pledge_cancel(pledge=Pledge.all_regencies.get(pk=pledge.pk), actor=donor)
    base = timezone.now() - dt.timedelta(days=1)
    for i, pledge in enumerate(made, start=start):
        Pledge.objects.for_regency(campaign.regency_id).filter(pk=pledge.pk).update(
            created_at=base + dt.timedelta(seconds=i // 3))
    return made


def _expected(campaign, status: str = "") -> list[int]:
    qs = Pledge.objects.for_regency(campaign.regency_id).filter(campaign=campaign)
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("-created_at", "-id").values_list("pk", flat=True))


def _walk(read, **kwargs):
    return walk(lambda cursor: read(cursor=cursor, size=4, **kwargs))


@pytest.mark.parametrize("status", ["", PledgeStatus.CANCELLED, PledgeStatus.PLEDGED])
def test_campaign_pledges_once_each_forward_and_back(public_campaign, make_participant, donor, status):
    _pledges(public_campaign, make_participant, donor, 17)
    expected = _expected(public_campaign, status)
    assert expected
    pages, back = _walk(selectors.campaign_pledges_page, campaign=public_campaign, status=status)
    assert [pk for page in pages for pk in page] == expected  # no duplicate, no skip, newest first
    assert back == pages


def test_donor_pledges_once_each_forward_and_back(public_campaign, make_participant, donor, donor2):
    _pledges(public_campaign, make_participant, donor, 13)
    _pledges(public_campaign, make_participant, donor2, 3)
    expected = list(Pledge.all_regencies.filter(donor=donor).order_by("-created_at", "-id")
                    .values_list("pk", flat=True))
    pages, back = _walk(selectors.donor_pledges_page, user=donor)
    assert [pk for page in pages for pk in page] == expected and len(expected) == 13
    assert back == pages


def _cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


BAD = ["garbage", "%%%", _cursor({"o": "pledges", "v": ["kemarin", 1], "b": 0}),
       _cursor({"o": "pledges", "v": ["2026-01-01T00:00:00+00:00"], "b": 0}),
       _cursor({"o": "months", "v": [1, 1, 1], "b": 0}), _cursor({"o": "pledges", "v": ["a\x00", 1], "b": 1})]


@pytest.mark.parametrize("cursor", BAD)
def test_a_bad_cursor_is_the_first_page(public_campaign, make_participant, donor, admin_a, cursor):
    _pledges(public_campaign, make_participant, donor, 5)
    page = selectors.campaign_pledges_page(campaign=public_campaign, cursor=cursor, size=3)
    assert page.is_first and [p.pk for p in page.object_list] == _expected(public_campaign)[:3]
    board = login(admin_a).get(BOARD, {"cursor": cursor, "status": "nonsense"})
    assert board.status_code == 200 and board.context["page"].is_first and board.context["status"] == ""
    me = login(donor).get("/me/", {"cursor": cursor})
    assert me.status_code == 200 and me.context["page"].is_first


def test_board_tabs_links_and_pages(public_campaign, make_participant, donor, admin_a):
    _pledges(public_campaign, make_participant, donor, 30)
    client = login(admin_a)
    first = client.get(BOARD)
    html = first.content.decode()
    page = first.context["page"]
    assert len(page.object_list) == selectors.PLEDGES_PER_PAGE and page.has_next
    assert "Semua (30)" in html and f"cursor={page.next_cursor}" in html
    counts = first.context["board"].counts
    assert counts["cancelled"] == 10 and f"{PledgeStatus.CANCELLED.label} (10)" in html
    second = client.get(BOARD, {"cursor": page.next_cursor})
    assert [p.pk for p in second.context["page"].object_list] == _expected(public_campaign)[25:]
    pledged = client.get(BOARD, {"status": "pledged"})
    assert {p.status for p in pledged.context["page"].object_list} == {PledgeStatus.PLEDGED}
    assert len(pledged.context["page"].object_list) == counts["pledged"]


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def test_same_queries_at_two_sizes(public_campaign, make_participant, donor, admin_a):
    _pledges(public_campaign, make_participant, donor, 4)
    admin, me = login(admin_a), login(donor)
    for client, url in ((admin, BOARD), (me, "/me/")):
        client.get(url)  # the menu, read on a session's first page and kept for the next ones
    small = (_queries(admin, BOARD), _queries(admin, BOARD + "?status=pledged"), _queries(me, "/me/"))
    _pledges(public_campaign, make_participant, donor, 40, start=4)
    big = (_queries(admin, BOARD), _queries(admin, BOARD + "?status=pledged"), _queries(me, "/me/"))
    assert big == small


def _plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_walks_read_their_indexes(public_campaign, make_participant, donor):
    _pledges(public_campaign, make_participant, donor, 6)
    page = selectors.campaign_pledges_page(campaign=public_campaign, size=2)
    from core.pagination import _after

    campaign_qs = Pledge.objects.for_regency(public_campaign.regency_id).filter(campaign=public_campaign)
    after = _after(campaign_qs, selectors.PLEDGE_ORDER, [page.object_list[-1].created_at, page.object_list[-1].pk],
                   backward=False).order_by(*selectors.PLEDGE_ORDER.order_by())[:3]
    plan = _plan(after)
    assert "pledge_campaign_created" in plan and "Sort" not in plan
    donor_qs = Pledge.all_regencies.filter(donor=donor).order_by(*selectors.PLEDGE_ORDER.order_by())[:3]
    plan = _plan(donor_qs)
    assert "pledge_donor_created" in plan and "Sort" not in plan
