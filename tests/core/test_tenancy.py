"""Row-level tenancy: the default manager fails closed; the regency middleware 404s outsiders."""

import datetime
import re

import pytest
from django.http import HttpResponse
from django.urls import include, path
from django.utils import timezone

from core.tenancy import TenantScopeRequired
from participants.models import Participant
from regencies.models import District, Membership, Village
from tests.factories import DistrictFactory, ParticipantFactory, VillageFactory

# --- the manager ------------------------------------------------------------


def test_default_manager_refuses_every_query_without_regency(db):
    with pytest.raises(TenantScopeRequired):
        list(Participant.objects.all())
    with pytest.raises(TenantScopeRequired):
        District.objects.filter(name="Masamba")
    with pytest.raises(TenantScopeRequired):
        District.objects.get(pk=1)
    with pytest.raises(TenantScopeRequired):
        District.objects.count()
    with pytest.raises(TenantScopeRequired):
        District.objects.exclude(name="")
    with pytest.raises(TenantScopeRequired):
        District.objects.values_list("name")
    with pytest.raises(TenantScopeRequired):
        District.objects.first()
    with pytest.raises(TenantScopeRequired):
        District.objects.exists()


def test_default_manager_refuses_writes_without_regency(db):
    with pytest.raises(TenantScopeRequired):
        District.objects.create(name="Masamba")
    with pytest.raises(TenantScopeRequired):
        District.objects.bulk_create([District(name="Masamba")])
    with pytest.raises(TenantScopeRequired):
        District.objects.get_or_create(name="Masamba")
    with pytest.raises(TenantScopeRequired):
        District.objects.update(name="x")


def test_bulk_create_with_one_row_missing_its_regency_writes_nothing(regency_a):
    with pytest.raises(TenantScopeRequired):
        District.objects.bulk_create([District(regency=regency_a, name="A"), District(name="B")])
    assert District.objects.for_regency(regency_a).count() == 0


def test_for_regency_needs_a_saved_regency(db):
    from regencies.models import Regency

    with pytest.raises(TenantScopeRequired):
        District.objects.for_regency(None)
    with pytest.raises(TenantScopeRequired):
        District.objects.for_regency(Regency(code="99.99"))


def test_for_regency_scopes(district_a, district_b, regency_a, regency_b):
    assert list(District.objects.for_regency(regency_a)) == [district_a]
    assert list(District.objects.for_regency(regency_b)) == [district_b]
    assert list(District.objects.for_regency(regency_a.pk)) == [district_a]
    # A lookup of B's object through A's scope finds nothing.
    with pytest.raises(District.DoesNotExist):
        District.objects.for_regency(regency_a).get(pk=district_b.pk)


def test_create_and_bulk_create_with_a_regency_work(regency_a):
    created = District.objects.create(regency=regency_a, name="Sabbang")
    District.objects.bulk_create([District(regency=regency_a, name="Seko")])
    assert set(District.objects.for_regency(regency_a).values_list("name", flat=True)) == {"Sabbang", "Seko"}
    assert created.pk


def test_all_regencies_is_the_explicit_escape_hatch(district_a, district_b):
    assert set(District.all_regencies.all()) == {district_a, district_b}
    assert District.all_regencies.count() == 2


def test_reverse_relations_and_foreign_keys_still_work(district_a, village_a, regency_a, regency_b):
    other = VillageFactory(district=DistrictFactory(regency=regency_b), regency=regency_b)
    assert list(district_a.villages.all()) == [village_a]
    assert village_a.district == district_a  # forward FK through the base manager
    assert Village.all_regencies.get(pk=other.pk).district.regency == regency_b
    participant = ParticipantFactory(regency=regency_a, district=district_a, village=village_a)
    assert participant.village.district.name == "Masamba"
    assert list(Membership.objects.for_regency(regency_a)) == []
    # refresh_from_db and related managers use the base manager, not the fail-closed one.
    participant.refresh_from_db()


# --- the middleware ---------------------------------------------------------


def tenant_page(request, regency_slug):
    now = timezone.localtime(datetime.datetime(2026, 11, 22, 1, 30, tzinfo=datetime.UTC))
    return HttpResponse(
        f"{request.regency.slug}|{timezone.get_current_timezone_name()}|{now:%H:%M}|"
        f"{','.join(sorted(request.regency_access.roles))}"
    )


# The project's URLconf plus a probe page: the middleware is tested apart from the pages.
urlpatterns = [
    path("r/<slug:regency_slug>/probe/", tenant_page, name="tenancy_probe"),
    path("", include("config.urls")),
]


@pytest.fixture
def probe_urls(settings):
    settings.ROOT_URLCONF = __name__


def test_anonymous_is_sent_to_login_alike_for_existing_and_unknown_slugs(client, probe_urls, regency_a):
    existing = client.get("/r/luwu-utara/probe/")
    unknown = client.get("/r/tidak-ada/probe/")
    assert existing.status_code == unknown.status_code == 302
    assert existing["Location"].startswith("/accounts/login/?next=")
    assert existing["Location"].replace("luwu-utara", "X") == unknown["Location"].replace("tidak-ada", "X")


def test_a_member_gets_the_page_in_the_regency_time_zone(client, probe_urls, admin_a):
    client.force_login(admin_a)
    response = client.get("/r/luwu-utara/probe/")
    assert response.status_code == 200
    # 01:30 UTC is 09:30 WITA (Asia/Makassar, UTC+8).
    assert response.content.decode() == "luwu-utara|Asia/Makassar|09:30|regency_admin"


def test_the_time_zone_follows_the_regency(client, probe_urls, db):
    from regencies.roles import Role
    from tests.factories import RegencyFactory, member

    jakarta = RegencyFactory(code="33.74", slug="kota-semarang", timezone="Asia/Jakarta")
    client.force_login(member(jakarta, Role.PEMDA_STAFF))
    body = client.get("/r/kota-semarang/probe/").content.decode()
    assert body.split("|")[1:3] == ["Asia/Jakarta", "08:30"]
    # ... and is not left active for the next request.
    assert timezone.get_current_timezone_name() == "Asia/Makassar"


def without_csrf(response) -> str:
    """The page with its CSRF tokens blanked: they are masked differently in every response."""
    return re.sub(r"[A-Za-z0-9]{64}", "CSRF", response.content.decode())


def test_a_non_member_gets_the_same_404_as_for_an_unknown_slug(client, probe_urls, admin_a, regency_b):
    client.force_login(admin_a)
    other = client.get("/r/lombok-timur/probe/")
    unknown = client.get("/r/tidak-ada/probe/")
    assert other.status_code == unknown.status_code == 404
    # Identical but for the requested path itself (echoed in the language switch).
    assert without_csrf(other).replace("lombok-timur", "SLUG") == without_csrf(unknown).replace(
        "tidak-ada", "SLUG"
    )


def test_an_inactive_membership_is_no_membership(client, probe_urls, admin_a, regency_a):
    Membership.objects.for_regency(regency_a).filter(user=admin_a).update(is_active=False)
    client.force_login(admin_a)
    assert client.get("/r/luwu-utara/probe/").status_code == 404


def test_a_branch_admin_opens_the_branch_regencies_only(client, probe_urls, bpjs_a, regency_b):
    client.force_login(bpjs_a)
    assert client.get("/r/luwu-utara/probe/").content.decode().endswith("|")  # no regency role
    assert client.get("/r/luwu/probe/").status_code == 200
    assert client.get("/r/lombok-timur/probe/").status_code == 404


def test_the_national_operator_opens_every_regency(client, probe_urls, regency_b):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/r/lombok-timur/probe/").status_code == 200
