"""Keyset pages of the assessor's queue: every entry once across pages when priorities, months and
family sizes tie; the assessor's own districts first; the page's links and count."""

import pytest
from django.utils import timezone

from assessments import selectors
from assessments.models import Screening, priority_for_months
from core.time import regency_today
from regencies.models import Membership
from tests.factories import DistrictFactory, ParticipantFactory
from tests.paging import pages_back, pages_forward


@pytest.fixture
def tied_queue(regency_a, district_a):
    """23 screenings on three priorities, many with equal months and family size."""
    other = DistrictFactory(regency=regency_a, name="Sabbang", code="73.22.02")
    today = regency_today(regency_a)
    entries = []
    for n in range(23):
        months = [6, 12][n % 2]
        participant = ParticipantFactory(regency=regency_a, months_in_arrears=months,
                                         district=district_a if n % 4 == 0 else other)
        # The rank as a screening in the month-0 list would give it: the priority itself.
        priority = [100, 50, 50][n % 3]
        entries.append(Screening.objects.for_regency(regency_a).create(
            regency=regency_a, participant=participant, recommendation="assess",
            priority_base=priority - priority_for_months(months), queue_rank=priority,
            family_size=[1, 3][n % 2], computed_at=timezone.now(), queued_on=today))
    return entries


def _reader(regency, user, *, size):
    return lambda cursor: selectors.queue_page(regency=regency, user=user, cursor=cursor, size=size)


def _participant(entry):
    return entry.participant_id


def _walk(regency, user, *, size):
    return pages_forward(_reader(regency, user, size=size), key=_participant)


def test_every_entry_once_in_queue_order_forward_and_back(regency_a, assessor_a, tied_queue):
    expected = [e.participant_id for e in selectors.queue(regency=regency_a, user=assessor_a)]
    assert len(expected) == 23
    pages, last = _walk(regency_a, assessor_a, size=4)
    assert [pk for page in pages for pk in page] == expected
    assert pages_back(_reader(regency_a, assessor_a, size=4), last, key=_participant) == pages
    priorities = [e.priority for e in selectors.queue(regency=regency_a, user=assessor_a)]
    assert priorities == sorted(priorities, reverse=True)


def test_my_districts_first_across_pages(regency_a, assessor_a, district_a, tied_queue):
    Membership.objects.for_regency(regency_a).get(user=assessor_a).districts.add(district_a)
    pages, _last = _walk(regency_a, assessor_a, size=3)
    seen = [pk for page in pages for pk in page]
    mine = {e.participant_id for e in tied_queue if e.participant.district_id == district_a.pk}
    assert sorted(seen) == sorted(e.participant_id for e in tied_queue)
    assert set(seen[: len(mine)]) == mine


def test_queue_page_links_and_count(client, regency_a, assessor_a, tied_queue):
    client.force_login(assessor_a)
    response = client.get("/r/luwu-utara/assessments/")
    html = response.content.decode()
    page = response.context["page"]
    assert page.count == 23 and page.count_exact and len(page.object_list) == 23
    assert "23 peserta" in html and "Berikutnya" not in html
    assert client.get("/r/luwu-utara/assessments/?cursor=rusak&page=x").status_code == 200
