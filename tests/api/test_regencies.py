"""GET /api/v1/regencies/: only the regencies the user may open, with the user's roles there."""

import pytest
from rest_framework.test import APIClient

from regencies.models import Membership
from regencies.roles import Role
from tests.factories import RegencyFactory, UserFactory, api_token_for, member

URL = "/api/v1/regencies/"


def client_for(user):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return api


def test_a_member_sees_only_their_regency_with_their_roles(admin_a, regency_b, admin_b):
    Membership.objects.create(regency=admin_a.memberships.get().regency, user=admin_a, role=Role.ASSESSOR)
    response = client_for(admin_a).get(URL)
    assert response.status_code == 200
    assert response.json() == {
        "count": 1, "next": None, "previous": None,
        "results": [{"code": "73.22", "name": "Luwu Utara", "slug": "luwu-utara", "kind": "kabupaten",
                     "timezone": "Asia/Makassar", "roles": ["assessor", "regency_admin"]}],
    }


def test_a_branch_admin_sees_the_branch_regencies_as_bpjs_admin(bpjs_a, regency_b):
    results = client_for(bpjs_a).get(URL).json()["results"]
    assert [(r["slug"], r["roles"]) for r in results] == [
        ("luwu", ["bpjs_admin"]), ("luwu-utara", ["bpjs_admin"]),
    ]


def test_roles_through_a_branch_and_a_membership_are_merged(bpjs_a, regency_a):
    Membership.objects.create(regency=regency_a, user=bpjs_a, role=Role.PEMDA_STAFF)
    results = {r["slug"]: r["roles"] for r in client_for(bpjs_a).get(URL).json()["results"]}
    assert results == {"luwu": ["bpjs_admin"], "luwu-utara": ["bpjs_admin", "pemda_staff"]}


def test_inactive_memberships_do_not_count(regency_a):
    user = member(regency_a, Role.ASSESSOR)
    Membership.objects.for_regency(regency_a).filter(user=user).update(is_active=False)
    assert client_for(user).get(URL).json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_a_donor_has_no_regencies(regency_a, regency_b):
    donor = UserFactory()
    assert client_for(donor).get(URL).json()["count"] == 0


def test_the_national_operator_sees_every_regency(regency_a, regency_b):
    operator = UserFactory(is_staff=True, is_superuser=True)
    results = client_for(operator).get(URL).json()["results"]
    assert [(r["slug"], r["roles"]) for r in results] == [
        ("lombok-timur", ["operator"]), ("luwu-utara", ["operator"]),
    ]


def test_the_session_works_too(admin_a):
    api = APIClient()
    api.force_login(admin_a)
    assert api.get(URL).json()["count"] == 1


def test_the_list_is_paginated_with_a_constant_number_of_queries(
    django_assert_num_queries, regency_a
):
    user = UserFactory()
    for n in range(12):
        regency = RegencyFactory(code=f"9{n % 10}.{n + 10}", slug=f"uji-{n}", name=f"Uji {n:02d}")
        Membership.objects.create(regency=regency, user=user, role=Role.PEMDA_STAFF)
    api = client_for(user)
    api.get(URL)  # the token's first use writes its last_used_at (then at most once a minute)
    # token lookup, regencies (union), memberships, branch memberships
    with django_assert_num_queries(4):
        page = api.get(URL, {"page_size": 5, "page": 2}).json()
    assert page["count"] == 12
    assert [r["slug"] for r in page["results"]] == [f"uji-{n}" for n in range(5, 10)]
    assert page["next"].endswith("page=3&page_size=5")
    assert page["previous"] is not None


@pytest.mark.parametrize("page", ["abc", "0", "-1"])
def test_a_page_that_is_not_a_number_is_page_one(admin_a, page):
    response = client_for(admin_a).get(URL, {"page": page})
    assert response.status_code == 200
    assert response.json()["count"] == 1
