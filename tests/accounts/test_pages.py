from django.contrib.auth import get_user_model
from django.urls import reverse

from core.models import AuditEvent
from donations.services import donor_profile_ensure
from tests import factories
from tests.factories import UserFactory


def test_landing_for_anonymous_explains_the_movement(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="id">' in html
    assert "Satu donatur melunasi tunggakan iuran JKN-KIS satu peserta" in html
    assert reverse("account_login") in html
    assert reverse("account_signup") in html
    assert 'class="skip-link"' in html
    assert reverse("set_language") in html


def test_landing_for_regency_admin(client, admin_a, regency_a, regency_b):
    client.force_login(admin_a)
    html = client.get("/").content.decode()
    assert "/r/luwu-utara/" in html
    assert "Admin Pemda" in html
    assert "/r/lombok-timur/" not in html
    assert "/branches/" not in html
    assert "Keluar" in html


def test_landing_for_assessor_and_staff(client, assessor_a, staff_a):
    client.force_login(assessor_a)
    assert "Asesor" in client.get("/").content.decode()
    client.force_login(staff_a)
    assert "Staf Pemda (ASN)" in client.get("/").content.decode()


def test_landing_for_bpjs_admin_shows_branch_and_its_regencies(client, bpjs_a, regency_b):
    client.force_login(bpjs_a)
    html = client.get("/").content.decode()
    assert "/branches/palopo/imports/" in html
    assert "/r/luwu-utara/" in html and "/r/luwu/" in html
    assert "/r/lombok-timur/" not in html


def test_landing_for_donor(client, db):
    donor = UserFactory(email="donatur@example.test")
    donor_profile_ensure(user=donor)
    client.force_login(donor)
    html = client.get("/").content.decode()
    assert "Donasi saya" in html
    assert 'href="/me/"' in html
    assert "/r/" not in html


def test_landing_for_user_without_places(client, db):
    client.force_login(UserFactory())
    assert "belum terhubung" in client.get("/").content.decode()


def test_member_nav_links_inside_a_regency(client, admin_a, regency_a):
    client.force_login(admin_a)
    html = client.get(reverse("regency_home", kwargs={"regency_slug": "luwu-utara"})).content.decode()
    assert reverse("member_list", kwargs={"regency_slug": "luwu-utara"}) in html


def test_language_switch_renders_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "One donor pays off the JKN-KIS contribution arrears of one participant." in html
    assert "Sign up as a donor" in html
    client.post(reverse("set_language"), {"language": "id", "next": "/"})
    assert "Daftar sebagai donatur" in client.get("/").content.decode()


def test_admin_pages_render_for_the_operator(client, admin_a, regency_a, district_a, bpjs_a):
    operator = factories.operator()
    client.force_login(operator)
    for name in (
        "admin:regencies_regency_changelist", "admin:regencies_bpjsbranch_changelist",
        "admin:regencies_district_changelist", "admin:regencies_village_changelist",
        "admin:regencies_membership_changelist", "admin:regencies_branchmembership_changelist",
        "admin:regencies_invitation_changelist", "admin:accounts_user_changelist",
        "admin:accounts_user_add", "admin:core_auditevent_changelist",
        "admin:regencies_regency_add",
    ):
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get(reverse("admin:regencies_regency_change", args=[regency_a.pk])).status_code == 200
    assert client.get(reverse("admin:accounts_user_change", args=[admin_a.pk])).status_code == 200
    response = client.post(reverse("admin:accounts_user_add"), {
        "email": "baru.admin@example.test", "full_name": "Baru", "usable_password": "true",
        "password1": "Kopi-Toraja-2026!", "password2": "Kopi-Toraja-2026!",
    })
    assert response.status_code == 302
    assert get_user_model().objects.filter(email="baru.admin@example.test").exists()


def test_audit_events_are_read_only_in_admin(client, admin_a):
    from core.audit import audit_record

    event = audit_record(actor=admin_a, verb="test.done", object_type="x", object_id=1)
    operator = factories.operator()
    client.force_login(operator)
    assert client.get(reverse("admin:core_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:core_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    page = client.get(reverse("admin:core_auditevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert AuditEvent.objects.filter(pk=event.pk).exists()
