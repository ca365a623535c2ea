import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from participants.models import ImportStatus, ParticipantStatus
from reporting.selectors import regency_overview
from tests.factories import (
    ArrearsImportFactory,
    FamilyFactory,
    ParticipantFactory,
    VillageFactory,
)


def _without_csrf(content: bytes) -> str:
    html = content.decode()
    html = re.sub(r'"X-CSRFToken": "[^"]*"', "", html)
    html = re.sub(r'name="next" value="[^"]*"', "", html)  # the visitor's own path
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def _url(regency):
    return reverse("regency_home", kwargs={"regency_slug": regency.slug})


@pytest.fixture
def arrears_a(regency_a, regency_b, district_a, village_a):
    family = FamilyFactory(regency=regency_a)
    ParticipantFactory(regency=regency_a, family=family, arrears_amount=1_000_000)
    ParticipantFactory(regency=regency_a, family=family, arrears_amount=250_000)
    ParticipantFactory(regency=regency_a, status=ParticipantStatus.CLEARED, arrears_amount=99_000)
    ParticipantFactory(regency=regency_b, arrears_amount=7_000_000)  # another regency
    VillageFactory(district=district_a, regency=regency_a, name="Bone")


def test_overview_counts_only_this_regency(arrears_a, regency_a, admin_a, staff_a, branch_a):
    ArrearsImportFactory(
        branch=branch_a, status=ImportStatus.APPLIED, as_of=dt.date(2026, 11, 22),
        finished_at=timezone.now(),
    )
    ArrearsImportFactory(branch=branch_a, status=ImportStatus.REJECTED, as_of=dt.date(2026, 12, 1))
    o = regency_overview(regency=regency_a)
    assert o["in_arrears"] == 2
    assert o["families_in_arrears"] == 1
    assert o["arrears_total"] == 1_250_000
    assert o["cleared"] == 1
    assert o["districts"] == 1
    assert o["villages"] == 2
    assert o["latest_import_as_of"] == dt.date(2026, 11, 22)
    by_role = {row["role"]: row["count"] for row in o["members_by_role"]}
    assert by_role["regency_admin"] == 1
    assert by_role["pemda_staff"] == 1
    assert o["timezone_abbr"] == "WITA"


def test_regency_home_shows_indonesian_money_and_dates(client, arrears_a, regency_a, admin_a, branch_a):
    ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLIED, as_of=dt.date(2026, 11, 22))
    regency_a.population = 329_934
    regency_a.jkn_participants = 244_956
    regency_a.save()
    client.force_login(admin_a)
    response = client.get(_url(regency_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Rp1.250.000" in html
    assert "22 November 2026" in html
    assert "329.934" in html
    assert "74,24%" in html or "74.24%" in html
    assert "WITA" in html
    assert "Undang anggota" in html  # the admin's next step


def test_regency_home_next_step_for_bpjs(client, regency_a, bpjs_a):
    client.force_login(bpjs_a)
    html = client.get(_url(regency_a)).content.decode()
    assert "Unggah daftar tunggakan" in html
    assert "/branches/palopo/imports/" in html
    assert "Undang anggota" not in html


def test_regency_home_staff_sees_no_invite(client, regency_a, staff_a):
    client.force_login(staff_a)
    response = client.get(_url(regency_a))
    assert response.status_code == 200
    assert "Undang anggota" not in response.content.decode()


def test_other_regency_and_unknown_slug_are_the_same_404(client, regency_a, regency_b, admin_b):
    client.force_login(admin_b)
    other = client.get(_url(regency_a))
    unknown = client.get("/r/tidak-ada/")
    assert other.status_code == 404
    assert unknown.status_code == 404
    # identical apart from the per-response CSRF mask and the requested path
    assert _without_csrf(other.content) == _without_csrf(unknown.content)


def test_anonymous_is_sent_to_login(client, regency_a):
    response = client.get(_url(regency_a))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_regency_home_query_count_is_constant(client, regency_a, admin_a, district_a, django_assert_num_queries):
    client.force_login(admin_a)
    from reporting.summaries import summary_refresh

    ParticipantFactory(regency=regency_a, family=FamilyFactory(regency=regency_a))
    summary_refresh(regency=regency_a)  # what an applied list does
    cache.clear()
    with CaptureQueriesContext(connection) as one:
        assert client.get(_url(regency_a)).status_code == 200
    for _ in range(25):
        ParticipantFactory(regency=regency_a, family=FamilyFactory(regency=regency_a))
        VillageFactory(district=district_a, regency=regency_a)
    summary_refresh(regency=regency_a)
    cache.clear()  # the pool's size is cached: count it again, as the first request did
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get(_url(regency_a)).status_code == 200
