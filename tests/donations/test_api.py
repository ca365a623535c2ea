"""The campaigns and pledges API (CONTRACT.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from donations import services
from donations.models import Pledge, PledgeStatus
from participants.pseudonym import DONOR_FIELDS
from tests.factories import UserFactory, api_token_for


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


def test_campaign_list_and_detail(public_campaign, internal_campaign, make_campaign, donor, staff_a, admin_b):
    make_campaign(slug="draf-rahasia", status="draft")
    anonymous = APIClient().get("/api/v1/campaigns/")
    assert anonymous.status_code == 200
    assert [c["slug"] for c in anonymous.json()["results"]] == ["lutra-peduli"]
    slugs = {c["slug"] for c in client_for(staff_a).get("/api/v1/campaigns/").json()["results"]}
    assert slugs == {"lutra-peduli", "lutra-asn"}
    assert {c["slug"] for c in client_for(admin_b).get("/api/v1/campaigns/").json()["results"]} == {"lutra-peduli"}
    detail = APIClient().get("/api/v1/campaigns/lutra-peduli/").json()
    assert detail["progress"]["participants_covered"] == 0 and detail["may_pledge"] is False
    assert detail["reason"] == "login"
    assert client_for(donor).get("/api/v1/campaigns/lutra-peduli/").json()["may_pledge"] is True


def test_internal_campaigns_are_404_for_outsiders(internal_campaign, make_participant, donor, admin_b):
    p = make_participant()
    for user in (donor, admin_b):
        client = client_for(user)
        assert client.get("/api/v1/campaigns/lutra-asn/").status_code == 404
        assert client.get("/api/v1/campaigns/lutra-asn/participants/").status_code == 404
        response = client.post("/api/v1/campaigns/lutra-asn/pledges/", {"participant": str(p.public_id)},
                               format="json")
        assert response.status_code == 404
    assert APIClient().get("/api/v1/campaigns/lutra-asn/").status_code == 404


def test_participants_list_has_donor_fields_only(public_campaign, make_participant, make_family, donor):
    family = make_family()
    p = make_participant(family=family, name="Andi Sulaiman Rahasia")
    make_participant(family=family, eligible=False)
    make_participant(eligible=False)
    taken = make_participant()
    services.pledge_reserve(campaign=public_campaign, participant=taken, donor=donor)
    response = client_for(donor).get("/api/v1/campaigns/lutra-peduli/participants/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert set(row) == set(DONOR_FIELDS)
    assert row["public_id"] == str(p.public_id) and row["pseudonym"] == "A.S.R." and row["family_size"] == 2
    text = response.content.decode()
    for secret in (p.nik, p.card_number, p.name, family.number):
        assert secret not in text


def test_participants_filters_and_sorts(public_campaign, make_participant, donor, district_a):
    short = make_participant(months=2, amount=70_000)
    long_ = make_participant(months=14, amount=490_000, care_class=2)
    client = client_for(donor)
    url = "/api/v1/campaigns/lutra-peduli/participants/"
    assert [r["public_id"] for r in client.get(url).json()["results"]] == [str(long_.public_id), str(short.public_id)]
    assert client.get(url, {"sort": "amount_asc"}).json()["results"][0]["public_id"] == str(short.public_id)
    assert [r["public_id"] for r in client.get(url, {"band": "13-24"}).json()["results"]] == [str(long_.public_id)]
    assert [r["public_id"] for r in client.get(url, {"care_class": "3"}).json()["results"]] == [str(short.public_id)]
    assert client.get(url, {"district": district_a.pk}).json()["count"] == 2
    assert client.get(url, {"sort": "bogus", "band": "x", "district": "abc"}).status_code == 200


def test_reserve_confirm_pay_and_read_a_pledge(public_campaign, make_participant, donor, donor2):
    p = make_participant(months=6, amount=210_000)
    client = client_for(donor)
    response = client.post("/api/v1/campaigns/lutra-peduli/pledges/", {"participant": str(p.public_id)},
                           format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "status", "amount", "expires_at"}
    assert body["status"] == "reserved" and body["amount"] == 245_000
    pledge_id = body["id"]

    again = client_for(donor2).post("/api/v1/campaigns/lutra-peduli/pledges/", {"participant": str(p.public_id)},
                                    format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_pledged"
    assert "detail" in again.json() and "suggestion" in again.json()

    assert client_for(donor2).get(f"/api/v1/pledges/{pledge_id}/").status_code == 404
    assert client_for(donor2).post(f"/api/v1/pledges/{pledge_id}/confirm/").status_code == 404

    confirmed = client.post(f"/api/v1/pledges/{pledge_id}/confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "pledged"
    pay_url = f"/api/v1/pledges/{pledge_id}/payments/"
    today = dt.date.today().isoformat()
    # In two instalments; the same reference twice is one payment.
    payment = client.post(pay_url, {"amount": 100_000, "reference": "BRI-123", "paid_at": today}, format="json")
    assert payment.status_code == 201, payment.content
    assert (payment.json()["status"], payment.json()["paid_amount"], payment.json()["outstanding"]) == (
        "pledged", 100_000, 145_000)
    twice = client.post(pay_url, {"amount": 100_000, "reference": "BRI-123", "paid_at": today}, format="json")
    assert twice.status_code == 409 and twice.json()["code"] == "duplicate_payment"
    rest = client.post(pay_url, {"amount": 145_000, "reference": "BRI-124", "paid_at": today}, format="json")
    assert rest.status_code == 201 and rest.json()["status"] == "paid" and rest.json()["outstanding"] == 0
    more = client.post(pay_url, {"amount": 1_000, "reference": "BRI-125", "paid_at": today}, format="json")
    assert more.status_code == 409 and more.json()["code"] == "already_paid"

    detail = client.get(f"/api/v1/pledges/{pledge_id}/").json()
    assert {"id", "campaign", "participant", "status", "amount", "payments", "history"} <= set(detail)
    assert detail["status"] == "paid" and detail["campaign"] == "lutra-peduli"
    assert set(detail["participant"]) == set(DONOR_FIELDS)
    assert [h["after"]["status"] for h in detail["history"]] == ["reserved", "pledged", "paid"]
    assert [pay["reference"] for pay in detail["payments"]] == ["BRI-123", "BRI-124"]
    assert (detail["paid_amount"], detail["outstanding"]) == (245_000, 0)
    for secret in (p.nik, p.card_number, p.name):
        assert secret not in str(detail["participant"])

    cancel = client.post(f"/api/v1/pledges/{pledge_id}/cancel/")
    assert cancel.status_code == 409 and cancel.json()["code"] == "invalid_transition"


def test_bad_input_is_400_never_500(public_campaign, make_participant, donor):
    client = client_for(donor)
    url = "/api/v1/campaigns/lutra-peduli/pledges/"
    assert client.post(url, {}, format="json").status_code == 400
    assert client.post(url, {"participant": "not-a-uuid"}, format="json").status_code == 400
    unassessed = make_participant(eligible=False)
    response = client.post(url, {"participant": str(unassessed.public_id)}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "not_eligible"
    p = make_participant()
    pledge = services.pledge_reserve(campaign=public_campaign, participant=p, donor=donor)
    pay_url = f"/api/v1/pledges/{pledge.public_id}/payments/"
    assert client.post(pay_url, {"amount": "abc", "reference": "R", "paid_at": "2026-11-01"},
                       format="json").status_code == 400
    assert client.post(pay_url, {"amount": 5, "reference": "R", "paid_at": "kemarin"},
                       format="json").status_code == 400
    reserved = client.post(pay_url, {"amount": 5, "reference": "R", "paid_at": dt.date.today().isoformat()},
                           format="json")
    assert reserved.status_code == 409  # confirm first


def test_adopt_the_family_through_the_api(public_campaign, make_participant, make_family, donor):
    from participants.models import Relationship

    family = make_family()
    head = make_participant(family=family)
    child = make_participant(family=family, relationship=Relationship.CHILD)
    response = client_for(donor).post("/api/v1/campaigns/lutra-peduli/pledges/",
                                      {"participant": str(child.public_id), "family": True}, format="json")
    assert response.status_code == 201
    assert len(response.json()["family"]) == 2
    assert set(Pledge.all_regencies.filter(status=PledgeStatus.RESERVED).values_list("participant_id", flat=True)) == {
        head.pk, child.pk}


def test_campaign_managers_see_pledges_of_their_regency_but_do_not_act_for_donors(
        public_campaign, make_participant, donor, admin_a, admin_b):
    pledge = services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor)
    url = f"/api/v1/pledges/{pledge.public_id}/"
    assert client_for(admin_a).get(url).status_code == 200
    assert client_for(admin_b).get(url).status_code == 404
    assert client_for(admin_a).post(url + "confirm/").status_code == 403


@pytest.mark.parametrize("path", ["/api/v1/campaigns/lutra-peduli/participants/",
                                  "/api/v1/campaigns/lutra-peduli/pledges/"])
def test_anonymous_cannot_choose(path, public_campaign):
    assert APIClient().get(path).status_code in (401, 403, 405)


def test_unverified_email_is_refused_clearly(public_campaign, make_participant):
    from allauth.account.models import EmailAddress

    user = UserFactory()
    EmailAddress.objects.filter(user=user).update(verified=False)
    p = make_participant()
    response = client_for(user).post("/api/v1/campaigns/lutra-peduli/pledges/", {"participant": str(p.public_id)},
                                     format="json")
    assert response.status_code == 403 and response.json()["code"] == "email_unverified"


def test_participant_list_query_count_does_not_grow_with_rows(public_campaign, make_participant, donor,
                                                              django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(donor)
    url = "/api/v1/campaigns/lutra-peduli/participants/"
    make_participant()
    client.get(url)  # the token's first use writes its last_used_at (then at most once a minute)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).json()["count"] == 1
    for _ in range(9):
        make_participant()
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).json()["count"] == 10
    assert len(many.captured_queries) == len(one.captured_queries)
    with django_assert_max_num_queries(12):
        client.get(url)


def test_me_page_query_count_is_bounded(public_campaign, make_participant, donor, django_assert_max_num_queries):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(donor)
    services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor)
    client.get("/me/")  # the menu, read on a session's first page and kept for the next ones
    with CaptureQueriesContext(connection) as one:
        assert client.get("/me/").status_code == 200
    for _ in range(4):
        services.pledge_reserve(campaign=public_campaign, participant=make_participant(), donor=donor)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/me/").status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)
    with django_assert_max_num_queries(15):
        client.get("/me/")
