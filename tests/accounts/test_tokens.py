"""API tokens: hashed at rest, shown once, named, expiring, last use noted,
revocable by their owner, and all revoked on a password change, deactivation or the last role
taken away; a locked-out account and an MFA user without the code get none."""

import hashlib
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.tokens import token_create
from regencies.models import BranchMembership, Membership
from regencies.roles import Role
from regencies.services import membership_deactivate
from tests.factories import PASSWORD, UserFactory, api_token_for, member, totp_code

URL = "/api/v1/auth/token/"
LIST = "/api/v1/regencies/"
DONOR_URL = "/api/v1/campaigns/"


@pytest.fixture
def donor(db):
    return UserFactory(email="donatur.token@example.test")


def obtain(email, password=PASSWORD, **extra):
    return APIClient().post(URL, {"email": email, "password": password, **extra}, format="json")


def get(secret, url=LIST):
    return APIClient().get(url, HTTP_AUTHORIZATION=f"Token {secret}")


def every_stored_text() -> str:
    """Every column of every token row, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        return repr(cursor.fetchall())


def test_the_database_never_holds_the_secret(donor):
    response = obtain(donor.email, name="skrip impor")
    assert response.status_code == 200
    secret = response.json()["token"]
    assert len(secret) >= 40
    row = ApiToken.objects.get(user=donor)
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.prefix == secret[:8]
    assert row.name == "skrip impor"
    assert secret not in every_stored_text()
    assert secret not in repr(list(ApiToken.objects.values()))
    # ...and the token works.
    assert get(secret, DONOR_URL).status_code == 200


def test_the_token_is_shown_once_on_the_account_page(client, donor):
    client.force_login(donor)
    created = client.post("/accounts/tokens/", {"name": "laptop kantor"})
    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    html = created.content.decode()
    row = ApiToken.objects.get(user=donor, name="laptop kantor")
    secret = html.split('data-testid="token-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith(row.prefix)
    assert hashlib.sha256(secret.encode()).hexdigest() == row.key_hash
    # Listed afterwards by name and prefix only; the secret is never shown again.
    listing = client.get("/accounts/tokens/").content.decode()
    assert "laptop kantor" in listing and row.prefix in listing
    assert secret not in listing


def test_the_account_page_revokes_after_confirmation_and_only_own_tokens(client, donor):
    mine, secret = token_create(user=donor, name="lama")
    other_user = UserFactory(email="orang.lain@example.test")
    theirs, their_secret = token_create(user=other_user, name="milik orang lain")
    client.force_login(donor)

    confirm = client.get(f"/accounts/tokens/{mine.pk}/revoke/")
    assert confirm.status_code == 200 and "lama" in confirm.content.decode()
    assert get(secret).status_code != 401  # asking is not revoking

    assert client.get(f"/accounts/tokens/{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"/accounts/tokens/{theirs.pk}/revoke/").status_code == 404
    assert get(their_secret).status_code != 401

    done = client.post(f"/accounts/tokens/{mine.pk}/revoke/")
    assert done.status_code == 302 and done["Location"] == "/accounts/tokens/"
    assert get(secret).status_code == 401
    mine.refresh_from_db()
    assert mine.revoked_at is not None and mine.revoked_reason == "user"
    listing = client.get("/accounts/tokens/").content.decode()
    assert "dicabut" in listing  # the message
    assert f"/accounts/tokens/{mine.pk}/revoke/" not in listing


def test_the_account_page_needs_a_login(client, db):
    response = client.get("/accounts/tokens/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_token_expires(admin_a, regency_a):
    secret = api_token_for(admin_a)
    assert get(secret).status_code == 200
    row = ApiToken.objects.get(user=admin_a)
    assert timedelta(days=29, hours=23) < row.expires_at - row.created_at <= timedelta(days=30, minutes=1)
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = get(secret)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


@override_settings(API_TOKEN_DAYS=7)
def test_the_lifetime_is_a_setting(donor):
    body = obtain(donor.email).json()
    row = ApiToken.objects.get(user=donor)
    assert timedelta(days=6, hours=23) < row.expires_at - row.created_at <= timedelta(days=7, minutes=1)
    assert datetime.fromisoformat(body["expires_at"]) == row.expires_at


def test_last_used_is_written_at_most_once_a_minute(admin_a, regency_a):
    secret = api_token_for(admin_a)
    row = ApiToken.objects.get(user=admin_a)
    assert row.last_used_at is None
    assert get(secret).status_code == 200
    row.refresh_from_db()
    first = row.last_used_at
    assert first is not None
    assert get(secret).status_code == 200
    row.refresh_from_db()
    assert row.last_used_at == first  # within the minute: no second write
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=first - timedelta(seconds=61))
    assert get(secret).status_code == 200
    row.refresh_from_db()
    assert row.last_used_at > first - timedelta(seconds=61)
    assert timezone.now() - row.last_used_at < timedelta(seconds=10)


def test_delete_revokes_the_token_it_is_called_with(admin_a, regency_a):
    kept = api_token_for(admin_a)
    secret = api_token_for(admin_a)
    response = APIClient().delete(URL, HTTP_AUTHORIZATION=f"Token {secret}")
    assert response.status_code == 204
    assert get(secret).status_code == 401
    assert get(kept).status_code == 200  # only that one
    # Once revoked, the same call is refused.
    assert APIClient().delete(URL, HTTP_AUTHORIZATION=f"Token {secret}").status_code == 401


def test_delete_without_a_token_is_a_401(donor):
    client = APIClient()
    client.force_login(donor)  # a browser session does not revoke anything
    response = client.delete(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_password_change_revokes_every_token(client, admin_a, regency_a):
    first, second = api_token_for(admin_a), api_token_for(admin_a)
    client.force_login(admin_a)
    response = client.post("/accounts/password/change/", {
        "oldpassword": PASSWORD, "password1": "Sandi-Baru-Yang-Panjang-2026", "password2": "Sandi-Baru-Yang-Panjang-2026",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert get(first).status_code == 401 and get(second).status_code == 401
    assert set(ApiToken.objects.filter(user=admin_a).values_list("revoked_reason", flat=True)) == {"password"}


def test_set_password_anywhere_revokes_but_a_rehash_does_not(admin_a, regency_a):
    secret = api_token_for(admin_a)
    # Django re-hashes the same password on login when the hasher changes: not a change.
    admin_a.set_password(PASSWORD)
    admin_a.save()
    assert get(secret).status_code == 200
    admin_a.set_password("lain-sama-sekali-2026")
    admin_a.save()
    assert get(secret).status_code == 401


def test_a_password_reset_revokes_every_token(client, donor):
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    secret = api_token_for(donor)
    key = default_token_generator.make_token(donor)
    url = f"/accounts/password/reset/key/{user_pk_to_url_str(donor)}-{key}/"
    form = client.get(url)
    assert form.status_code == 302  # allauth moves the key into the session
    response = client.post(form["Location"], {"password1": "Sandi-Reset-2026-Panjang", "password2": "Sandi-Reset-2026-Panjang"})
    assert response.status_code == 302
    assert get(secret, DONOR_URL).status_code == 401


def test_deactivation_revokes_every_token(admin_a, regency_a):
    secret = api_token_for(admin_a)
    admin_a.is_active = False
    admin_a.save()
    admin_a.is_active = True
    admin_a.save()  # coming back does not bring the tokens back
    assert get(secret).status_code == 401
    assert ApiToken.objects.get(user=admin_a).revoked_reason == "deactivated"


def test_removal_from_the_last_role_revokes(admin_a, regency_a, regency_b):
    user = member(regency_a, Role.ASSESSOR, email="dua.peran@example.test")
    Membership.objects.create(regency=regency_b, user=user, role=Role.PEMDA_STAFF)
    secret = api_token_for(user)
    first = Membership.objects.for_regency(regency_a).get(user=user)
    membership_deactivate(regency=regency_a, actor=admin_a, membership=first)
    assert get(secret).status_code == 200  # still a member of B
    Membership.objects.for_regency(regency_b).get(user=user).delete()
    assert get(secret).status_code == 401
    assert ApiToken.objects.get(user=user).revoked_reason == "role_removed"


def test_removal_from_the_last_branch_role_revokes(bpjs_a, branch_a):
    secret = api_token_for(bpjs_a)
    assert get(secret, "/api/v1/imports/").status_code == 200
    membership = BranchMembership.objects.get(user=bpjs_a)
    membership.is_active = False
    membership.save()
    assert get(secret, "/api/v1/imports/").status_code == 401


def test_a_donor_without_roles_keeps_tokens_when_nothing_changes(donor):
    secret = api_token_for(donor)
    donor.full_name = "Nama Baru"
    donor.save()
    assert ApiToken.objects.get(user=donor).revoked_at is None
    assert get(secret, DONOR_URL).status_code == 200


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "10/m/ip,5/5m/key"})
def test_a_locked_out_account_gets_no_token(client, donor):
    # Five wrong passwords on the web form lock the account...
    for _ in range(5):
        client.post("/accounts/login/", {"login": donor.email, "password": "salah-sekali"})
    # ...and the API refuses the right password too, from another address.
    response = obtain(donor.email, REMOTE_ADDR="198.51.100.20")
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_login_attempts"
    assert not ApiToken.objects.filter(user=donor).exists()


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "10/m/ip,5/5m/key"})
def test_api_failures_lock_the_web_login_too(client, donor):
    for _ in range(5):
        assert obtain(donor.email, "salah-sekali", REMOTE_ADDR="198.51.100.21").status_code == 400
    page = client.post("/accounts/login/", {"login": donor.email, "password": PASSWORD})
    assert page.status_code == 200  # the form again, not a redirect into the site
    assert "_auth_user_id" not in client.session


def test_an_inactive_user_gets_no_token(db):
    user = UserFactory(email="nonaktif@example.test", is_active=False)
    assert obtain(user.email).json()["code"] == "invalid_credentials"
    assert not ApiToken.objects.exists()


def test_an_mfa_user_needs_the_code(admin_a, regency_a):
    missing = obtain(admin_a.email)
    assert missing.status_code == 401
    assert missing.json()["code"] == "mfa_required"
    wrong = obtain(admin_a.email, code="000000" if totp_code() != "000000" else "111111")
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "mfa_invalid"
    assert not ApiToken.objects.filter(user=admin_a).exists()
    code = totp_code()
    right = obtain(admin_a.email, code=code)
    assert right.status_code == 200
    assert get(right.json()["token"]).status_code == 200
    # A code is good once: replaying it is refused.
    assert obtain(admin_a.email, code=code).json()["code"] == "mfa_invalid"


def test_a_code_with_a_wrong_password_says_only_wrong_credentials(admin_a):
    response = obtain(admin_a.email, "salah-sekali", code=totp_code())
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"


def test_a_donor_without_mfa_is_not_asked_for_a_code(donor):
    assert obtain(donor.email, code="123456").status_code == 200  # ignored


def test_the_operator_sees_tokens_without_secrets_and_revokes_them_in_the_admin(client, donor):
    from tests.factories import operator

    token, secret = token_create(user=donor, name="skrip donatur")
    client.force_login(operator())
    listing = client.get("/admin/accounts/apitoken/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert token.prefix in html and secret not in html
    response = client.post("/admin/accounts/apitoken/", {
        "action": "revoke", "_selected_action": [str(token.pk)],
    })
    assert response.status_code == 302
    assert get(secret, DONOR_URL).status_code == 401
    token.refresh_from_db()
    assert token.revoked_reason == "admin"
