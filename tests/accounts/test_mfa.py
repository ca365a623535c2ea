"""MFA: allauth's TOTP + recovery codes, required for every role except donors."""

from __future__ import annotations

import base64
import time

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from accounts import mfa
from core.models import AuditEvent
from regencies.roles import Role
from tests.factories import PASSWORD, TOTP_SECRET, UserFactory, member, operator, totp_code

SECRET = TOTP_SECRET


def totp(secret: str = SECRET, at: float | None = None) -> str:
    return totp_code(secret, at=at)


def test_totp_helper_matches_rfc_6238_vector():
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits) -> 287082 with 6 digits.
    rfc_secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(rfc_secret, at=59) == "287082"


# --- the functions the token endpoint uses ------------------------------------------------

@pytest.fixture
def enrolled(db):
    user = UserFactory()
    mfa.enrol_totp(user, SECRET)
    return user


def test_user_without_authenticator_has_no_mfa_and_no_code_verifies(db):
    user = UserFactory()
    assert mfa.user_has_mfa(user) is False
    assert mfa.verify_code(user, totp(SECRET)) is False


def test_enrolled_user_has_mfa_stored_the_allauth_way(enrolled):
    assert mfa.user_has_mfa(enrolled) is True
    stored = Authenticator.objects.get(user=enrolled, type=Authenticator.Type.TOTP)
    from allauth.mfa.utils import decrypt

    assert decrypt(stored.data["secret"]) == SECRET
    assert Authenticator.objects.filter(user=enrolled, type=Authenticator.Type.RECOVERY_CODES).exists()


def test_current_totp_code_verifies_once_wrong_code_never(enrolled):
    assert mfa.verify_code(enrolled, "000000" if totp(SECRET) != "000000" else "111111") is False
    assert mfa.verify_code(enrolled, "") is False
    code = totp(SECRET)
    assert mfa.verify_code(enrolled, code) is True
    # The same code cannot be replayed within its period.
    assert mfa.verify_code(enrolled, code) is False
    assert Authenticator.objects.get(user=enrolled, type=Authenticator.Type.TOTP).last_used_at is not None


def test_code_of_another_secret_is_refused(enrolled):
    other = base64.b32encode(b"another-secret-0123").decode()
    code = totp(other)
    if code != totp(SECRET):
        assert mfa.verify_code(enrolled, code) is False


def test_recovery_code_works_once(enrolled):
    codes = mfa.recovery_codes(enrolled)
    assert len(codes) == 10
    assert mfa.verify_code(enrolled, codes[0]) is True
    assert mfa.verify_code(enrolled, codes[0]) is False
    assert codes[0] not in mfa.recovery_codes(enrolled)
    assert mfa.verify_code(enrolled, codes[1]) is True


def test_enrol_is_idempotent(enrolled):
    mfa.enrol_totp(enrolled, SECRET)
    assert Authenticator.objects.filter(user=enrolled).count() == 2  # TOTP + recovery codes


def test_reset_removes_every_authenticator(enrolled):
    assert mfa.reset(enrolled) == 2
    assert mfa.user_has_mfa(enrolled) is False
    assert mfa.verify_code(enrolled, totp(SECRET)) is False


# --- the web login ------------------------------------------------------------------------

LOGIN = "/accounts/login/"


def _password_step(client, user):
    response = client.post(LOGIN, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return response


def _wait_for_a_fresh_code():
    """A code is accepted once per 30 s period: start right after a period boundary when the
    current one is nearly over, so a test never straddles two periods."""
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.2)


def test_staff_login_needs_the_code_wrong_code_refused(client, admin_a):
    _wait_for_a_fresh_code()
    response = _password_step(client, admin_a)
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    # Without the code nothing is reachable.
    page = client.get(reverse("regency_home", kwargs={"regency_slug": admin_a.memberships.get().regency.slug}))
    assert page.status_code == 302 and page["Location"].startswith(reverse("account_login"))
    form = client.get(reverse("mfa_authenticate"))
    assert form.status_code == 200 and 'name="code"' in form.content.decode()
    right = totp()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    refused = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert refused.status_code == 200
    assert "_auth_user_id" not in client.session
    accepted = client.post(reverse("mfa_authenticate"), {"code": right})
    assert accepted.status_code == 302 and accepted["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(admin_a.pk)
    assert client.get(reverse("regency_home", kwargs={"regency_slug": "luwu-utara"})).status_code == 200


def test_recovery_code_logs_in_once(client, admin_a):
    code = mfa.recovery_codes(admin_a)[3]
    _password_step(client, admin_a)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    assert client.session["_auth_user_id"] == str(admin_a.pk)
    client.post(reverse("account_logout"))
    _password_step(client, admin_a)
    again = client.post(reverse("mfa_authenticate"), {"code": code})
    assert again.status_code == 200  # spent
    assert "_auth_user_id" not in client.session


def test_staff_without_totp_is_forced_to_enrol(client, regency_a):
    user = member(regency_a, Role.SUPERVISOR, mfa=False)
    response = _password_step(client, user)
    assert response["Location"] == reverse("home")  # nothing to ask yet: no authenticator
    for url in (reverse("home"), reverse("regency_home", kwargs={"regency_slug": "luwu-utara"}),
                reverse("member_list", kwargs={"regency_slug": "luwu-utara"}), "/admin/"):
        page = client.get(url)
        assert page.status_code == 302 and page["Location"] == reverse("mfa_activate_totp"), url
    # Session-authenticated API calls are refused too.
    api = client.get("/api/v1/regencies/")
    assert api.status_code == 403 and api.json()["code"] == "mfa_enrolment_required"
    # Logging out and the enrolment itself stay open; allauth asks for the password again first.
    enrol = client.get(reverse("mfa_activate_totp"))
    assert enrol.status_code == 302 and enrol["Location"].startswith(reverse("account_reauthenticate"))
    confirmed = client.post(enrol["Location"], {"password": PASSWORD})
    assert confirmed.status_code == 302 and confirmed["Location"] == reverse("mfa_activate_totp")
    enrol = client.get(reverse("mfa_activate_totp"))
    assert enrol.status_code == 200
    html = enrol.content.decode()
    assert "<svg" in html and "data:image" not in html  # the QR code inline (CSP: no data: images)
    secret = enrol.context["form"].secret
    done = client.post(reverse("mfa_activate_totp"), {"code": totp(secret)})
    assert done.status_code == 302
    assert mfa.user_has_mfa(user)
    assert client.get(reverse("regency_home", kwargs={"regency_slug": "luwu-utara"})).status_code == 200


def test_bpjs_admin_and_operator_without_totp_are_forced_too(client, branch_a):
    from tests.factories import branch_admin

    for user in (branch_admin(branch_a, mfa=False), operator(email="op@example.test", mfa=False)):
        client.force_login(user)
        page = client.get(reverse("home"))
        assert page.status_code == 302 and page["Location"] == reverse("mfa_activate_totp")
        assert client.post(reverse("account_logout")).status_code == 302


def test_donor_is_not_forced_but_may_enrol(client, db):
    from donations.services import donor_profile_ensure

    donor = UserFactory()
    donor_profile_ensure(user=donor)
    assert not mfa.mfa_required(donor)
    assert _password_step(client, donor)["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert reverse("mfa_index") in client.get(reverse("home")).content.decode()  # the nav link
    enrol = client.get(reverse("mfa_activate_totp"))
    assert enrol["Location"].startswith(reverse("account_reauthenticate"))
    assert client.post(enrol["Location"], {"password": PASSWORD})["Location"] == reverse("mfa_activate_totp")
    assert client.get(reverse("mfa_activate_totp")).status_code == 200


def test_a_role_that_ends_makes_mfa_optional(regency_a):
    user = member(regency_a, Role.ASSESSOR, mfa=False)
    assert mfa.mfa_required(user)
    user.memberships.update(is_active=False)
    assert not mfa.mfa_required(user)


# --- the Django admin logs in through allauth -----------------------------------------------

def test_admin_login_goes_through_allauth(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next=%2Fadmin%2F"
    assert 'name="username"' not in client.get("/admin/login/", follow=True).content.decode()
    # Django's own form cannot be posted to either.
    op = operator()
    posted = client.post("/admin/login/", {"username": op.email, "password": PASSWORD})
    assert posted.status_code == 302 and "_auth_user_id" not in client.session
    # /admin/ itself sends an anonymous visitor the same way.
    index = client.get("/admin/")
    assert index.status_code == 302 and index["Location"].startswith("/admin/login/")


def test_operator_without_the_code_cannot_reach_the_admin(client, db):
    _wait_for_a_fresh_code()
    op = operator()
    login = client.post(f"{LOGIN}?next=/admin/", {"login": op.email, "password": PASSWORD, "next": "/admin/"})
    assert login["Location"] == reverse("mfa_authenticate")
    blocked = client.get("/admin/")
    assert blocked.status_code == 302 and "_auth_user_id" not in client.session
    refused = client.post(reverse("mfa_authenticate"), {"code": "000000" if totp() != "000000" else "111111"})
    assert refused.status_code == 200
    assert client.get("/admin/").status_code == 302
    accepted = client.post(reverse("mfa_authenticate"), {"code": totp()})
    assert accepted.status_code == 302 and accepted["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_signed_in_non_staff_gets_403_not_a_login_loop(client, admin_a):
    client.force_login(admin_a)
    assert client.get("/admin/login/").status_code == 403


# --- a regency admin resets a member's MFA ------------------------------------------------

def _reset_url(membership):
    return reverse("member_mfa_reset", kwargs={"regency_slug": membership.regency.slug,
                                               "membership_id": membership.pk})


def test_regency_admin_resets_a_members_mfa_audited(client, admin_a, assessor_a, regency_a):
    membership = assessor_a.memberships.get()
    client.force_login(admin_a)
    members = client.get(reverse("member_list", kwargs={"regency_slug": regency_a.slug})).content.decode()
    assert _reset_url(membership) in members
    confirm = client.get(_reset_url(membership))
    assert confirm.status_code == 200
    assert assessor_a.email in confirm.content.decode()
    assert mfa.user_has_mfa(assessor_a)  # a GET changes nothing
    done = client.post(_reset_url(membership))
    assert done.status_code == 302
    assert not Authenticator.objects.filter(user=assessor_a).exists()
    event = AuditEvent.objects.get(verb="member.mfa_reset")
    assert event.actor_id == admin_a.pk and event.regency_id == regency_a.pk
    assert event.object_id == str(assessor_a.pk)
    assert event.before == {"authenticators": ["recovery_codes", "totp"]}
    # The member must enrol again at the next login.
    other = client.__class__()
    assert _password_step(other, assessor_a)["Location"] == reverse("home")
    assert other.get(reverse("home"))["Location"] == reverse("mfa_activate_totp")


def test_reset_across_regencies_is_404(client, admin_a, admin_b, assessor_b):
    client.force_login(admin_a)
    membership_b = assessor_b.memberships.get()
    forged = reverse("member_mfa_reset", kwargs={"regency_slug": "luwu-utara", "membership_id": membership_b.pk})
    assert client.get(forged).status_code == 404
    assert client.post(forged).status_code == 404
    assert client.post(_reset_url(membership_b)).status_code == 404  # regency B's page itself
    assert mfa.user_has_mfa(assessor_b)
    assert not AuditEvent.objects.filter(verb="member.mfa_reset").exists()


def test_reset_needs_the_admin_role(client, staff_a, assessor_a):
    client.force_login(staff_a)
    assert client.post(_reset_url(assessor_a.memberships.get())).status_code == 403
    assert mfa.user_has_mfa(assessor_a)


def test_reset_refused_for_a_user_with_roles_elsewhere(client, admin_a, regency_a, regency_b):
    both = member(regency_a, Role.ASSESSOR)
    from regencies.models import Membership

    Membership.objects.create(regency=regency_b, user=both, role=Role.ASSESSOR)
    client.force_login(admin_a)
    response = client.post(_reset_url(both.memberships.get(regency=regency_a)), follow=True)
    assert response.status_code == 200
    assert "operator nasional" in response.content.decode()
    assert mfa.user_has_mfa(both)
    assert not AuditEvent.objects.filter(verb="member.mfa_reset").exists()


# --- demo users ---------------------------------------------------------------------------

def test_demo_users_have_the_documented_totp_secret_except_the_donor(client, db, settings):
    from accounts.models import User
    from reporting.demo import DEMO_USERS, DONOR_EMAIL, OPERATOR_EMAIL, demo_seed

    assert settings.DEMO_TOTP_SECRET == "JBSWY3DPEHPK3PXP"
    summary = demo_seed(participants=0)
    assert summary["totp_secret"] == "JBSWY3DPEHPK3PXP"
    demo_seed(participants=0)  # idempotent: still one TOTP per user
    for email in [u.email for u in DEMO_USERS] + [OPERATOR_EMAIL]:
        user = User.objects.get(email=email)
        if email == DONOR_EMAIL:
            assert not mfa.user_has_mfa(user)
            continue
        assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).count() == 1, email
        from allauth.mfa.utils import decrypt

        stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data["secret"]
        assert decrypt(stored) == "JBSWY3DPEHPK3PXP"
    # The operator logs in with the demo password and a code of the demo secret.
    _wait_for_a_fresh_code()
    response = client.post(LOGIN, {"login": OPERATOR_EMAIL, "password": settings.DEMO_PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.post(response["Location"], {"code": totp("JBSWY3DPEHPK3PXP")}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_password_reset_does_not_skip_the_code(client, admin_a):
    import re

    from django.core import mail

    client.post("/accounts/password/reset/", {"email": admin_a.email})
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    new = "Kopi-Toraja-2026!-baru"
    done = client.post(form.redirect_chain[-1][0] if form.redirect_chain else link,
                       {"password1": new, "password2": new})
    assert done.status_code == 302
    assert done["Location"] == reverse("mfa_authenticate")  # logged in only after the code
    assert "_auth_user_id" not in client.session
