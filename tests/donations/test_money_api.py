"""The pledge API's money fields (CONTRACT.md "Money"): what a pledge owes, how to pay it, and
what a payment report answers."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from donations.models import PaymentRoute
from tests.factories import api_token_for


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


def _reserve(client, campaign, participant) -> str:
    response = client.post(f"/api/v1/campaigns/{campaign.slug}/pledges/", {"participant": str(participant.public_id)},
                           format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _today(campaign) -> str:
    from core.time import regency_today

    return regency_today(campaign.regency).isoformat()


def test_a_direct_pledge_shows_the_va_only_once_confirmed(public_campaign, make_participant, donor):
    client = client_for(donor)
    participant = make_participant(months=6, amount=210_000)
    pledge_id = _reserve(client, public_campaign, participant)
    body = client.get(f"/api/v1/pledges/{pledge_id}/").json()
    assert body["payment_route"] == "direct" and body["va_number"] is None and body["virtual_accounts"] == {}
    assert (body["amount"], body["paid_amount"], body["outstanding"]) == (245_000, 0, 245_000)
    assert body["lapses_at"] is None and body["certificate_url"] is None
    assert body["payment_code"].startswith("SU") and len(body["payment_code"]) == 10
    confirmed = client.post(f"/api/v1/pledges/{pledge_id}/confirm/").json()
    assert confirmed["va_number"] == "88888" + participant.card_number[-11:]
    assert confirmed["lapses_at"] is not None


def test_a_collected_pledge_never_shows_a_va(make_campaign, make_participant, donor):
    campaign = make_campaign(slug="kumpul", payment_route=PaymentRoute.COLLECTED, bank_name="Bank Sulselbar",
                             account_number="123-456-7890", account_holder="Pemkab Luwu Utara")
    client = client_for(donor)
    participant = make_participant()
    pledge_id = _reserve(client, campaign, participant)
    body = client.post(f"/api/v1/pledges/{pledge_id}/confirm/").json()
    assert body["payment_route"] == "collected" and body["va_number"] is None and body["virtual_accounts"] == {}
    assert participant.card_number[-11:] not in str(body)


def test_payments_add_up_and_the_answer_says_what_is_left(public_campaign, make_participant, donor):
    client = client_for(donor)
    pledge_id = _reserve(client, public_campaign, make_participant(months=6, amount=840_000))
    client.post(f"/api/v1/pledges/{pledge_id}/confirm/")
    url = f"/api/v1/pledges/{pledge_id}/payments/"
    today = _today(public_campaign)
    first = client.post(url, {"amount": 500_000, "reference": "BRI-1", "paid_at": today}, format="json")
    assert first.status_code == 201
    assert {k: first.json()[k] for k in ("status", "paid_amount", "outstanding", "source")} == {
        "status": "pledged", "paid_amount": 500_000, "outstanding": 375_000, "source": "donor"}
    assert first.json()["receipt_number"].startswith(f"KW/{public_campaign.regency.code}/")
    over = client.post(url, {"amount": 375_001, "reference": "BRI-2", "paid_at": today}, format="json")
    assert over.status_code == 400 and over.json()["code"] == "overpayment"
    assert "Rp375.000" in over.json()["detail"]
    rest = client.post(url, {"amount": 375_000, "reference": "BRI-3", "paid_at": today}, format="json")
    assert rest.status_code == 201 and rest.json()["status"] == "paid" and rest.json()["outstanding"] == 0
    again = client.post(url, {"amount": 1, "reference": "BRI-4", "paid_at": today}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_paid"
    detail = client.get(f"/api/v1/pledges/{pledge_id}/").json()
    assert [(p["amount"], p["source"]) for p in detail["payments"]] == [(500_000, "donor"), (375_000, "donor")]
    assert all(p["receipt_number"] for p in detail["payments"])


@pytest.mark.parametrize("amount", ["1000.5", "abc", -1, 0, ""])
def test_a_bad_amount_is_a_400_naming_the_field(amount, public_campaign, make_participant, donor):
    client = client_for(donor)
    pledge_id = _reserve(client, public_campaign, make_participant())
    client.post(f"/api/v1/pledges/{pledge_id}/confirm/")
    response = client.post(f"/api/v1/pledges/{pledge_id}/payments/",
                           {"amount": amount, "reference": "X", "paid_at": _today(public_campaign)}, format="json")
    assert response.status_code == 400 and "amount" in str(response.json())
