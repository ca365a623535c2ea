"""Keyset pages of the PBI referrals: every referral once across pages when deciles and names tie,
the same pages backwards, referrals without a decile last, bad cursors, the count, and the same
number of queries at two sizes."""

import base64
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments import selectors
from assessments.models import Assessment
from tests.factories import ParticipantFactory
from tests.paging import walk

URL = "/r/luwu-utara/assessments/pbi/"


def _referrals(regency, assessor, n: int) -> list[Assessment]:
    """`n` referrals: deciles 1-3 tie, names tie in threes; every fifth one has no decile
    (decided 'refer PBI'), and one later non-referral that must not show."""
    made = []
    for i in range(n):
        participant = ParticipantFactory(regency=regency, name=["SITI", "BUDI", "ANDI"][i % 3])
        answers = {} if i % 5 == 0 else {"dtsen_decile": 1 + i % 3}
        made.append(Assessment.objects.for_regency(regency).create(
            regency_id=regency.pk, participant=participant, created_by=assessor, status="rejected",
            outcome="ineligible", reason_code="refer_pbi" if i % 5 == 0 else "able_to_pay",
            questionnaire_version=1, answers=answers))
    ParticipantFactory(regency=regency)  # not assessed: never listed
    return made


def _walk(regency, *, size=4):
    return walk(lambda cursor: selectors.pbi_page(regency=regency, cursor=cursor, size=size))


def test_every_referral_once_forward_and_back(regency_a, assessor_a):
    made = _referrals(regency_a, assessor_a, 19)
    expected = list(selectors.pbi_referrals(regency=regency_a).values_list("pk", flat=True))
    assert sorted(expected) == sorted(a.pk for a in made)
    pages, back = _walk(regency_a)
    assert [pk for page in pages for pk in page] == expected and back == pages
    keys = [(a.decile_key, a.participant.name, a.pk) for a in selectors.pbi_referrals(regency=regency_a)]
    assert keys == sorted(keys) and keys[-1][0] == selectors.NO_DECILE  # no decile: last


def _cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", ["rusak", "%%%", _cursor({"o": "pbi", "v": ["x", "A", 1], "b": 0}),
                                    _cursor({"o": "pbi", "v": [1, "A\x00", 1], "b": 1}),
                                    _cursor({"o": "pledges", "v": [1, 1], "b": 0})])
def test_a_bad_cursor_is_the_first_page(client, regency_a, assessor_a, cursor):
    _referrals(regency_a, assessor_a, 6)
    client.force_login(assessor_a)
    response = client.get(URL, {"cursor": cursor, "page": "x"})
    assert response.status_code == 200 and response.context["page"].is_first
    assert len(response.context["page"].object_list) == 6


def test_page_links_count_and_queries_at_two_sizes(client, regency_a, assessor_a):
    _referrals(regency_a, assessor_a, 3)
    client.force_login(assessor_a)
    client.get(URL)  # the first page of a session fills per-user caches (the menu)
    with CaptureQueriesContext(connection) as small:
        html = client.get(URL).content.decode()
    assert "3 usulan." in html and "Berikutnya" not in html
    _referrals(regency_a, assessor_a, 60)
    with CaptureQueriesContext(connection) as big:
        response = client.get(URL)
    assert len(big.captured_queries) == len(small.captured_queries)
    page = response.context["page"]
    assert page.count == 63 and page.has_next and len(page.object_list) == selectors.PBI_PER_PAGE
    html = response.content.decode()
    assert "63 usulan." in html and f"cursor={page.next_cursor}" in html
    second = client.get(URL, {"cursor": page.next_cursor})
    assert len(second.context["page"].object_list) == 13
