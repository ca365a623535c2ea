"""`/api/v1/regencies/<slug>/participants/` and the donor-facing field set."""

import datetime as dt

from rest_framework.test import APIClient

from participants.models import Participant, ParticipantStatus
from participants.pseudonym import DonorParticipantSerializer, age_band, pseudonym
from participants.selectors import family_size_subquery
from tests.factories import FamilyFactory, ParticipantFactory, api_token_for

STAFF_FIELDS = {
    "public_id", "card_number", "nik_masked", "name", "birth_date", "sex", "care_class", "segment",
    "district", "village", "family_card_number", "months_in_arrears", "arrears_amount",
    "last_paid_date", "status", "eligibility",
}


def _api(user=None):
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


def _url(regency, query=""):
    return f"/api/v1/regencies/{regency.slug}/participants/{query}"


def test_fields_exactly(regency_a, admin_a, district_a, village_a):
    family = FamilyFactory(regency=regency_a, number="7322011203080001")
    p = ParticipantFactory(
        regency=regency_a, family=family, district=district_a, village=village_a, name="ANDI SULAIMAN",
        card_number="0001234567890", nik="7322011203850001", birth_date=dt.date(1985, 3, 12), sex="L",
        months_in_arrears=14, arrears_amount=490_000, last_paid_date=dt.date(2025, 8, 5),
    )
    body = _api(admin_a).get(_url(regency_a)).json()
    assert set(body) == {"count", "count_exact", "next", "previous", "results"}
    assert body["count"] == 1
    item = body["results"][0]
    assert set(item) == STAFF_FIELDS
    assert item == {
        "public_id": str(p.public_id), "card_number": "0001234567890", "nik_masked": "732201********01",
        "name": "ANDI SULAIMAN", "birth_date": "1985-03-12", "sex": "L", "care_class": 3, "segment": "PBPU",
        "district": "Masamba", "village": "Baloli", "family_card_number": "7322011203080001",
        "months_in_arrears": 14, "arrears_amount": 490000, "last_paid_date": "2025-08-05",
        "status": "inactive", "eligibility": "unassessed",
    }
    assert "7322011203850001" not in str(body)


def test_scoping(regency_a, regency_b, assessor_a, bpjs_a, bpjs_b, admin_b, staff_a):
    ParticipantFactory(regency=regency_a)
    ParticipantFactory(regency=regency_b)
    assert _api(assessor_a).get(_url(regency_a)).json()["count"] == 1  # member
    assert _api(bpjs_a).get(_url(regency_a)).json()["count"] == 1  # BPJS admin of its branch
    assert _api(bpjs_b).get(_url(regency_a)).status_code == 404  # another branch
    assert _api(admin_b).get(_url(regency_a)).status_code == 404  # another regency
    assert _api(admin_b).get("/api/v1/regencies/tidak-ada/participants/").status_code == 404
    assert _api().get(_url(regency_a)).status_code == 401
    assert _api(staff_a).get(_url(regency_a)).status_code == 403  # member without VIEW_PARTICIPANTS


def test_search_and_filters(regency_a, admin_a):
    ParticipantFactory(regency=regency_a, name="Andi Sulaiman", card_number="0000000000123",
                       nik="7322011203850001")
    ParticipantFactory(regency=regency_a, name="Siti Andi", status=ParticipantStatus.CLEARED)
    client = _api(admin_a)

    def names(query):
        return sorted(item["name"] for item in client.get(_url(regency_a, query)).json()["results"])

    assert names("?search=123") == ["Andi Sulaiman"]
    assert names("?search=0000000000123") == ["Andi Sulaiman"]
    assert names("?search=7322011203850001") == ["Andi Sulaiman"]
    assert names("?search=andi") == ["Andi Sulaiman", "Siti Andi"]
    assert names("?search=andi+siti") == ["Siti Andi"]
    assert names("?status=cleared") == ["Siti Andi"]
    assert names("?eligibility=unassessed") == ["Andi Sulaiman", "Siti Andi"]
    assert names("?eligibility=eligible") == []


def test_invalid_filters_are_400_naming_the_parameter(regency_a, admin_a):
    client = _api(admin_a)
    response = client.get(_url(regency_a, "?status=hilang"))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "status" in response.json()["errors"]
    response = client.get(_url(regency_a, "?eligibility=mungkin"))
    assert response.status_code == 400
    assert response.json()["detail"].startswith("eligibility:")


def test_pages_of_50(regency_a, admin_a):
    for _ in range(51):
        ParticipantFactory(regency=regency_a)
    client = _api(admin_a)
    first = client.get(_url(regency_a)).json()
    assert first["count"] == 51 and first["count_exact"] is True
    assert len(first["results"]) == 50 and "cursor=" in first["next"] and first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["previous"] and second["next"] is None
    back = client.get(second["previous"]).json()
    assert [r["public_id"] for r in back["results"]] == [r["public_id"] for r in first["results"]]
    # Clients that count pages still get the second page.
    by_number = client.get(_url(regency_a, "?page=2")).json()
    assert [r["public_id"] for r in by_number["results"]] == [r["public_id"] for r in second["results"]]


# --- donor-facing field set -------------------------------------------------------------


def test_pseudonym_initials_or_generated(regency_a):
    p = ParticipantFactory.build(regency=regency_a, name="Andi Sulaiman")
    assert pseudonym(p) == "A.S."
    assert pseudonym(ParticipantFactory.build(regency=regency_a, name="muh. andi sulaiman putra")) == "M.A.S."
    nameless = ParticipantFactory.build(regency=regency_a, name="")
    generated = pseudonym(nameless)
    assert generated and generated == pseudonym(nameless)  # deterministic from public_id
    assert generated.isalpha()


def test_age_band():
    today = dt.date(2026, 11, 22)
    assert age_band(dt.date(1990, 11, 22), today) == "30-39"
    assert age_band(dt.date(1990, 11, 23), today) == "30-39"  # still 35
    assert age_band(dt.date(1996, 11, 23), today) == "20-29"  # 29 until tomorrow
    assert age_band(dt.date(2020, 1, 1), today) == "0-9"
    assert age_band(dt.date(1930, 1, 1), today) == "80+"
    assert age_band(None, today) == ""


def test_donor_serializer_never_outputs_identifiers(regency_a, district_a, village_a):
    family = FamilyFactory(regency=regency_a)
    p = ParticipantFactory(regency=regency_a, family=family, district=district_a, village=village_a,
                           name="Andi Sulaiman", card_number="0001234567890", nik="7322011203850001",
                           birth_date=dt.date(1990, 1, 1), months_in_arrears=14, arrears_amount=490_000)
    ParticipantFactory(regency=regency_a, family=family)
    row = Participant.objects.for_regency(regency_a).select_related("district", "village").annotate(
        family_size=family_size_subquery()
    ).get(pk=p.pk)
    data = DonorParticipantSerializer(row, context={"today": dt.date(2026, 11, 22)}).data
    assert set(data) == {
        "public_id", "pseudonym", "age_band", "district", "village", "care_class", "family_size",
        "months_in_arrears", "arrears_amount",
    }
    assert data["pseudonym"] == "A.S." and data["age_band"] == "30-39"
    assert data["district"] == "Masamba" and data["village"] == "Baloli"
    assert data["family_size"] == 2 and data["arrears_amount"] == 490000
    text = str(data)
    for secret in ("0001234567890", "7322011203850001", "Andi Sulaiman", "Sulaiman", family.number):
        assert secret not in text


def test_rows_are_what_drf_would_write(regency_a, district_a, village_a):
    """`ParticipantSerializer.to_representation` writes each row itself: the same dict as DRF's
    generic field walk, with and without a family, village, birth date or payment date."""
    from rest_framework import serializers

    from participants.serializers import ParticipantSerializer

    full = ParticipantFactory(regency=regency_a, family=FamilyFactory(regency=regency_a), district=district_a,
                              village=village_a, birth_date=dt.date(1985, 3, 12), last_paid_date=dt.date(2025, 8, 5),
                              status=ParticipantStatus.CLEARED)
    bare = ParticipantFactory(regency=regency_a, family=None, district=district_a, village=None, birth_date=None,
                              last_paid_date=None)
    for participant, eligibility in ((full, "eligible"), (bare, "unassessed")):
        participant.eligibility = eligibility
        fast = ParticipantSerializer(participant).data
        generic = serializers.ModelSerializer.to_representation(ParticipantSerializer(), participant)
        assert dict(fast) == dict(generic)
        assert list(fast) == list(generic)
