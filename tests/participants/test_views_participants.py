"""The participant pages of a regency: list (search, filters, sort, pages) and detail."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from participants.models import (
    ArrearsRecord,
    ImportStatus,
    ParticipantStatus,
    Relationship,
    mask_nik,
)
from tests.factories import (
    ArrearsImportFactory,
    DistrictFactory,
    FamilyFactory,
    ParticipantFactory,
    VillageFactory,
)


def _list_url(regency, **params):
    url = reverse("participant_list", kwargs={"regency_slug": regency.slug})
    if params:
        from urllib.parse import urlencode

        url += "?" + urlencode(params)
    return url


def _detail_url(p, regency=None):
    return reverse(
        "participant_detail",
        kwargs={"regency_slug": (regency or p.regency).slug, "public_id": p.public_id},
    )


def _reveal_url(p):
    return reverse("participant_reveal_nik", kwargs={"regency_slug": p.regency.slug, "public_id": p.public_id})


def _names(response):
    return [p.name for p in response.context["page"].object_list]


# --- access -------------------------------------------------------------------------


def test_list_is_for_members_with_the_permission(client, regency_a, assessor_a, staff_a, admin_b, bpjs_a):
    ParticipantFactory(regency=regency_a, name="SITI AMINAH")
    client.force_login(assessor_a)
    assert client.get(_list_url(regency_a)).status_code == 200
    client.force_login(bpjs_a)  # BPJS admin of the regency's branch
    assert client.get(_list_url(regency_a)).status_code == 200
    client.force_login(staff_a)  # a member without VIEW_PARTICIPANTS
    assert client.get(_list_url(regency_a)).status_code == 403
    client.force_login(admin_b)  # another regency
    assert client.get(_list_url(regency_a)).status_code == 404


def test_list_shows_masked_nik_and_rupiah(client, regency_a, admin_a, district_a, village_a):
    ParticipantFactory(regency=regency_a, name="SITI AMINAH", nik="7322014101800123",
                       arrears_amount=1_250_000, district=district_a, village=village_a)
    client.force_login(admin_a)
    html = client.get(_list_url(regency_a)).content.decode()
    assert "SITI AMINAH" in html
    assert "7322014101800123" not in html
    assert mask_nik("7322014101800123") in html
    assert "Rp1.250.000" in html
    assert "Masamba / Baloli" in html
    assert 'data-eligibility="unassessed"' in html


def test_list_only_shows_the_regency_participants(client, regency_a, regency_b, admin_a):
    ParticipantFactory(regency=regency_a, name="WARGA LUTRA")
    ParticipantFactory(regency=regency_b, name="WARGA LOTIM")
    client.force_login(admin_a)
    assert _names(client.get(_list_url(regency_a))) == ["WARGA LUTRA"]


# --- search -------------------------------------------------------------------------


@pytest.fixture
def people(regency_a):
    return {
        "andi": ParticipantFactory(regency=regency_a, name="ANDI SULAIMAN", card_number="0000012345678",
                                   nik="7322011203850001"),
        "andini": ParticipantFactory(regency=regency_a, name="Andini Putri", card_number="0001234567890",
                                     nik="7322015203900002"),
        "sulaiman": ParticipantFactory(regency=regency_a, name="Muh Sulaiman Andi", card_number="0000000000123",
                                       nik="7322010101700003"),
    }


def test_search_card_number_exact_and_padded(client, admin_a, regency_a, people):
    client.force_login(admin_a)
    assert _names(client.get(_list_url(regency_a, q="0000012345678"))) == ["ANDI SULAIMAN"]
    assert _names(client.get(_list_url(regency_a, q="12345678"))) == ["ANDI SULAIMAN"]  # padded to 13
    assert _names(client.get(_list_url(regency_a, q="123"))) == ["Muh Sulaiman Andi"]
    assert _names(client.get(_list_url(regency_a, q="1234567"))) == []  # no partial match


def test_search_nik_exact(client, admin_a, regency_a, people):
    client.force_login(admin_a)
    assert _names(client.get(_list_url(regency_a, q="7322015203900002"))) == ["Andini Putri"]
    assert _names(client.get(_list_url(regency_a, q="732201520390000"))) == []  # 15 digits: nothing


def test_search_name_words_all_must_match(client, admin_a, regency_a, people):
    client.force_login(admin_a)
    assert sorted(_names(client.get(_list_url(regency_a, q="andi sulaiman")))) == [
        "ANDI SULAIMAN", "Muh Sulaiman Andi",
    ]
    assert sorted(_names(client.get(_list_url(regency_a, q="andi")))) == [
        "ANDI SULAIMAN", "Andini Putri", "Muh Sulaiman Andi",
    ]
    assert _names(client.get(_list_url(regency_a, q="putri ANDINI"))) == ["Andini Putri"]
    assert _names(client.get(_list_url(regency_a, q="andi budi"))) == []


# --- filters, sort, pages -------------------------------------------------------------


def test_filters_district_village_status_band(client, admin_a, regency_a, district_a, village_a):
    other_district = DistrictFactory(regency=regency_a, name="Sabbang")
    other_village = VillageFactory(district=district_a, regency=regency_a, name="Bone Tua")
    ParticipantFactory(regency=regency_a, name="A", district=district_a, village=village_a, months_in_arrears=2)
    ParticipantFactory(regency=regency_a, name="B", district=district_a, village=other_village,
                       months_in_arrears=5)
    ParticipantFactory(regency=regency_a, name="C", district=other_district, months_in_arrears=30)
    ParticipantFactory(regency=regency_a, name="D", district=district_a, village=village_a,
                       months_in_arrears=14, status=ParticipantStatus.CLEARED)
    client.force_login(admin_a)
    assert sorted(_names(client.get(_list_url(regency_a, district=district_a.pk)))) == ["A", "B", "D"]
    assert sorted(_names(client.get(_list_url(regency_a, district=district_a.pk, village=village_a.pk)))) == [
        "A", "D",
    ]
    assert sorted(_names(client.get(_list_url(regency_a, status="cleared")))) == ["D"]
    assert _names(client.get(_list_url(regency_a, band="1-3"))) == ["A"]
    assert _names(client.get(_list_url(regency_a, band="4-6"))) == ["B"]
    assert _names(client.get(_list_url(regency_a, band="13-24"))) == ["D"]
    assert _names(client.get(_list_url(regency_a, band="25+"))) == ["C"]
    assert sorted(_names(client.get(_list_url(regency_a, eligibility="unassessed")))) == ["A", "B", "C", "D"]
    assert _names(client.get(_list_url(regency_a, eligibility="eligible"))) == []


def test_village_choices_depend_on_the_district(client, admin_a, regency_a, district_a, village_a):
    elsewhere = DistrictFactory(regency=regency_a, name="Sabbang")
    VillageFactory(district=elsewhere, regency=regency_a, name="Desa Sabbang")
    client.force_login(admin_a)
    fragment = client.get(_list_url(regency_a, district=district_a.pk, fragment="villages")).content.decode()
    assert "Baloli" in fragment and "Desa Sabbang" not in fragment and "<html" not in fragment
    # a village of another district is a named error, not a 500, and is ignored
    response = client.get(_list_url(regency_a, district=elsewhere.pk, village=village_a.pk))
    assert response.status_code == 200
    assert "Desa/kelurahan tidak dikenal" in response.content.decode()


def test_invalid_filter_values_are_named_not_500(client, admin_a, regency_a):
    ParticipantFactory(regency=regency_a, name="A")
    client.force_login(admin_a)
    response = client.get(_list_url(regency_a, status="hilang", band="99", sort="x", district="abc"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Status tidak dikenal." in html
    assert "Rentang bulan tunggakan tidak dikenal." in html
    assert _names(response) == ["A"]


def test_sort_orders(client, admin_a, regency_a):
    ParticipantFactory(regency=regency_a, name="Budi", months_in_arrears=3, arrears_amount=900_000,
                       last_paid_date=dt.date(2025, 1, 5))
    ParticipantFactory(regency=regency_a, name="Ani", months_in_arrears=12, arrears_amount=420_000,
                       last_paid_date=dt.date(2024, 6, 1))
    ParticipantFactory(regency=regency_a, name="Citra", months_in_arrears=7, arrears_amount=1_500_000,
                       last_paid_date=dt.date(2025, 9, 9))
    client.force_login(admin_a)
    assert _names(client.get(_list_url(regency_a))) == ["Ani", "Citra", "Budi"]  # months, most first
    assert _names(client.get(_list_url(regency_a, sort="amount"))) == ["Citra", "Budi", "Ani"]
    assert _names(client.get(_list_url(regency_a, sort="name"))) == ["Ani", "Budi", "Citra"]
    assert _names(client.get(_list_url(regency_a, sort="last_paid"))) == ["Ani", "Budi", "Citra"]


def test_pagination_50_per_page_links_keep_filters(client, admin_a, regency_a):
    for n in range(55):
        ParticipantFactory(regency=regency_a, name=f"Warga {n:02d}", months_in_arrears=5)
    client.force_login(admin_a)
    first = client.get(_list_url(regency_a, band="4-6", sort="name"))
    assert len(first.context["page"].object_list) == 50
    page = first.context["page"]
    html = first.content.decode()
    # "Berikutnya" carries the filters and an opaque cursor, not a page number.
    assert f"?band=4-6&amp;sort=name&amp;cursor={page.next_cursor}" in html
    assert "Berikutnya" in html and "Sebelumnya" not in html
    second = client.get(_list_url(regency_a, band="4-6", sort="name", cursor=page.next_cursor))
    assert _names(second) == [f"Warga {n:02d}" for n in range(50, 55)]
    html = second.content.decode()
    assert "Sebelumnya" in html and "Berikutnya" not in html
    assert 'href="?band=4-6&amp;sort=name"' in html  # back to the start, filters kept
    # A link from before the cursors (?page=2) still shows the second page.
    old_link = client.get(_list_url(regency_a, band="4-6", sort="name", page=2))
    assert _names(old_link) == [f"Warga {n:02d}" for n in range(50, 55)]


def test_list_query_count_is_constant(client, admin_a, regency_a, district_a, village_a,
                                      django_assert_num_queries):
    def make(n):
        for _ in range(n):
            family = FamilyFactory(regency=regency_a)
            ParticipantFactory(regency=regency_a, family=family, district=district_a, village=village_a)

    client.force_login(admin_a)
    url = _list_url(regency_a, district=district_a.pk, sort="amount")
    make(1)
    client.get(url)  # warm-up (session, content types)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    make(29)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 30


def test_filter_choices_are_read_once_without_a_cursor(client, admin_a, regency_a, district_a, village_a):
    """The district and village selects: one query each, no server-side cursor, no count."""
    DistrictFactory(regency=regency_a, name="Zeta")
    client.force_login(admin_a)
    url = _list_url(regency_a, district=district_a.pk)
    client.get(url)  # warm-up (session, menu)
    with CaptureQueriesContext(connection) as captured:
        html = client.get(url).content.decode()
    statements = [q["sql"] for q in captured.captured_queries]
    assert not [s for s in statements if "DECLARE" in s or ("COUNT(*)" in s and "regencies_" in s)]
    assert len([s for s in statements if 'FROM "regencies_district"' in s]) == 2  # choices, the chosen one
    assert len([s for s in statements if 'FROM "regencies_village"' in s]) == 1
    assert f'<option value="{district_a.pk}" selected>{district_a.name}</option>' in html
    assert f'<option value="{village_a.pk}">{village_a.name}</option>' in html and "Zeta" in html


# --- detail -------------------------------------------------------------------------


@pytest.fixture
def family_a(regency_a, district_a, village_a):
    family = FamilyFactory(regency=regency_a, number="7322011203080001", village=village_a)
    head = ParticipantFactory(regency=regency_a, family=family, relationship=Relationship.HEAD,
                              name="ANDI SULAIMAN", card_number="0001234567890", nik="7322011203850001",
                              district=district_a, village=village_a, months_in_arrears=14,
                              arrears_amount=490_000)
    ParticipantFactory(regency=regency_a, family=family, relationship=Relationship.WIFE, name="SITI",
                       months_in_arrears=14, arrears_amount=490_000)
    ParticipantFactory(regency=regency_a, family=family, relationship=Relationship.CHILD, name="BUDI",
                       months_in_arrears=0, arrears_amount=0, status=ParticipantStatus.ACTIVE)
    return head


def test_detail_shows_family_k_of_n_and_va(client, assessor_a, family_a):
    client.force_login(assessor_a)
    response = client.get(_detail_url(family_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 dari 3 anggota menunggak" in html
    assert "SITI" in html and "BUDI" in html and "Istri" in html
    assert "8888801234567890" in html and "8988801234567890" in html  # VA: prefix + last 11 digits
    assert "7322011203850001" not in html
    assert mask_nik("7322011203850001") in html
    assert "Tampilkan NIK" in html


def test_detail_history_table_and_chart(client, assessor_a, family_a, branch_a, regency_a):
    for as_of, months in ((dt.date(2026, 1, 31), 10), (dt.date(2026, 2, 28), 11), (dt.date(2026, 3, 31), 12)):
        imp = ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLIED, as_of=as_of)
        ArrearsRecord.objects.create(
            regency=regency_a, arrears_import=imp, participant=family_a, as_of=as_of, row_number=2,
            months_in_arrears=months, arrears_amount=months * 35_000, bpjs_status="inactive",
            care_class=3, segment="PBPU",
        )
    client.force_login(assessor_a)
    response = client.get(_detail_url(family_a))
    html = response.content.decode()
    assert html.count("data-history-row") == 3
    assert "31 Januari 2026" in html and "31 Maret 2026" in html
    assert "Rp420.000" in html  # 12 x 35.000
    assert "<svg" in html and "<polyline" in html and html.count("<circle") == 3
    assert 'cx="12.0"' in html and 'cx="308.0"' in html  # SVG numbers never localised (no "12,0")


def test_detail_of_another_regency_or_bad_id_is_404(client, admin_a, regency_a, regency_b):
    other = ParticipantFactory(regency=regency_b)
    client.force_login(admin_a)
    assert client.get(_detail_url(other, regency=regency_a)).status_code == 404
    missing = reverse("participant_detail", kwargs={"regency_slug": regency_a.slug, "public_id": uuid.uuid4()})
    assert client.get(missing).status_code == 404
    assert client.get(f"/r/{regency_a.slug}/participants/not-a-uuid/").status_code == 404


def test_reveal_nik_is_audited(client, assessor_a, family_a):
    client.force_login(assessor_a)
    response = client.post(_reveal_url(family_a), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "7322011203850001" in html and "<html" not in html
    event = AuditEvent.objects.get(verb="participant.nik_revealed")
    assert event.actor == assessor_a
    assert event.regency_id == family_a.regency_id
    assert event.object_id == str(family_a.pk)


def test_reveal_nik_without_js_renders_the_page(client, assessor_a, family_a):
    client.force_login(assessor_a)
    response = client.post(_reveal_url(family_a))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html and "7322011203850001" in html
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("who", ["staff_a", "bpjs_a"])
def test_reveal_nik_refused_without_the_permission(client, request, family_a, who):
    client.force_login(request.getfixturevalue(who))
    response = client.post(_reveal_url(family_a))
    assert response.status_code == 403
    assert b"7322011203850001" not in response.content
    assert not AuditEvent.objects.filter(verb="participant.nik_revealed").exists()


def test_reveal_nik_needs_post(client, assessor_a, family_a):
    client.force_login(assessor_a)
    assert client.get(_reveal_url(family_a)).status_code == 405


def test_branch_admin_sees_detail_without_reveal_button(client, bpjs_a, family_a):
    client.force_login(bpjs_a)
    html = client.get(_detail_url(family_a)).content.decode()
    assert "ANDI SULAIMAN" in html and "Tampilkan NIK" not in html
