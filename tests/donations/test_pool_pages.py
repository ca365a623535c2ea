"""Keyset pages of a campaign's pool (donor page and API): every waiting participant once across
pages when months, amounts and family sizes tie, in each donor sort; the count agrees with the
pool; old page links and bad cursors still answer."""

import pytest
from rest_framework.test import APIClient

from donations import selectors
from tests.factories import api_token_for


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


@pytest.fixture
def pool(make_participant, make_family):
    """26 eligible participants, most tied on months and amount; a few families; and some who are
    not in the pool (not assessed)."""
    families = [make_family() for _ in range(3)]
    rows = [make_participant(months=[6, 12][n % 2], amount=[252_000, 504_000][n % 2],
                             family=families[n % 3] if n % 4 == 0 else None) for n in range(26)]
    for _ in range(4):
        make_participant(eligible=False)
    return rows


@pytest.mark.parametrize("sort", list(selectors.DONOR_ORDERS))
def test_every_waiting_participant_once_per_sort(public_campaign, pool, sort):
    filters = selectors.DonorFilters(sort=sort)
    expected = [p.pk for p in selectors.campaign_participants(campaign=public_campaign, filters=filters)]
    assert sorted(expected) == sorted(p.pk for p in pool)
    seen, cursor, pages = [], None, 0
    while True:
        page = selectors.campaign_participants_page(campaign=public_campaign, filters=filters, cursor=cursor, size=4)
        seen += [p.pk for p in page.object_list]
        pages += 1
        assert page.count == 26 and page.count_exact
        if not page.has_next:
            break
        cursor = page.next_cursor
    assert seen == expected and pages == 7
    back = selectors.campaign_participants_page(campaign=public_campaign, filters=filters,
                                                cursor=page.previous_cursor, size=4)
    assert [p.pk for p in back.object_list] == expected[20:24]


def test_donor_page_links_and_api_cursor(client, public_campaign, pool, donor):
    client.force_login(donor)
    response = client.get("/c/lutra-peduli/participants/?sort=family")
    assert response.status_code == 200
    page = response.context["page"]
    assert len(page.object_list) == selectors.DONOR_PER_PAGE and page.has_next
    html = response.content.decode()
    assert "26 peserta menunggu" in html and f"cursor={page.next_cursor}" in html and "sort=family" in html
    second = client.get(f"/c/lutra-peduli/participants/?sort=family&cursor={page.next_cursor}")
    assert len(second.context["page"].object_list) == 6
    assert client.get("/c/lutra-peduli/participants/?page=abc&cursor=%%%").status_code == 200
    api = client_for(donor)
    first = api.get("/api/v1/campaigns/lutra-peduli/participants/", {"page_size": 10}).json()
    assert first["count"] == 26 and first["count_exact"] is True and len(first["results"]) == 10
    ids = [r["public_id"] for r in first["results"]]
    url = first["next"]
    while url:
        body = api.get(url).json()
        ids += [r["public_id"] for r in body["results"]]
        url = body["next"]
    assert sorted(ids) == sorted(str(p.public_id) for p in pool) and len(ids) == 26


@pytest.mark.django_db(transaction=True)
def test_a_kept_page_of_cards_carries_each_readers_own_working_csrf_token(public_campaign, make_participant,
                                                                        donor):
    """The cards are rendered once for every donor (`regencies.versions.kept`); each reader's
    page gets their own token in every card's form, and a reservation posted with it is taken."""
    import re

    from django.test import Client
    from django.urls import reverse

    from donations.models import Pledge
    from donations.services import donor_profile_ensure
    from tests.factories import UserFactory

    chosen = make_participant()
    url = reverse("campaign_participants", kwargs={"campaign_slug": public_campaign.slug})
    first = Client(enforce_csrf_checks=True)
    first.force_login(donor)
    assert str(chosen.public_id) in first.get(url).content.decode()  # builds and keeps the page
    other = UserFactory(email="donatur.dua@example.test")
    donor_profile_ensure(user=other)
    second = Client(enforce_csrf_checks=True)
    second.force_login(other)
    answer = second.get(url)
    html = answer.content.decode()
    assert answer.status_code == 200, answer
    reserve = reverse("campaign_reserve", kwargs={"campaign_slug": public_campaign.slug})
    in_cards = re.findall(rf'<form method="post" action="{reserve}" class="row">\s*'
                          r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">', html)
    assert len(in_cards) == 1 and "<!--csrf-->" not in html  # one card, its slot filled
    # Had the kept cards carried the first reader's token, the second's post would be refused.
    response = second.post(reserve, {"participant": str(chosen.public_id), "csrfmiddlewaretoken": in_cards[0]})
    assert response.status_code == 302
    assert Pledge.objects.for_regency(public_campaign.regency).filter(donor=other, participant=chosen).exists()
