"""POST /api/v1/auth/token/: e-mail + password (+ MFA code) -> a new token; one answer for every
bad login. The token's life (hashing, expiry, revocation) is in tests/accounts/test_tokens.py."""

import pytest
from allauth.account.models import EmailAddress
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken
from core.models import AuditEvent
from tests.factories import PASSWORD, UserFactory, totp_code

URL = "/api/v1/auth/token/"


@pytest.fixture
def api():
    return APIClient()


def post(api, body, **extra):
    return api.post(URL, body, format="json", **extra)


@pytest.fixture
def donor(db):
    """A user without MFA (a community donor)."""
    return UserFactory(email="donatur@example.test")


def test_right_password_and_code_give_a_token_that_authenticates(api, admin_a, regency_a):
    response = post(api, {"email": "admin.a@example.test", "password": PASSWORD, "code": totp_code()})
    assert response.status_code == 200
    key = response.json()["token"]
    assert set(response.json()) == {"token", "expires_at"}
    assert ApiToken.objects.get(user=admin_a).prefix == key[:8]

    listed = APIClient().get("/api/v1/regencies/", HTTP_AUTHORIZATION=f"Token {key}")
    assert listed.status_code == 200
    assert [r["slug"] for r in listed.json()["results"]] == ["luwu-utara"]


def test_each_request_makes_a_new_token_and_each_is_audited(api, donor):
    first = post(api, {"email": donor.email, "password": PASSWORD}).json()["token"]
    second = post(api, {"email": donor.email, "password": PASSWORD}).json()["token"]
    assert first != second
    events = AuditEvent.objects.filter(verb="api_token.issue", actor=donor)
    assert events.count() == 2
    # The audit trail never holds the secret itself.
    for event in events:
        assert first not in str(event.after) and second not in str(event.after)


def test_email_is_case_insensitive_and_trimmed(api, donor):
    response = post(api, {"email": "  Donatur@Example.TEST ", "password": PASSWORD})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "email,password",
    [
        ("admin.a@example.test", "salah-sandi"),  # wrong password
        ("tidak.ada@example.test", PASSWORD),  # unknown e-mail
        ("admin.a@example.test", PASSWORD.upper()),  # passwords are case-sensitive
    ],
)
def test_wrong_password_and_unknown_email_get_the_same_answer(api, admin_a, email, password):
    response = post(api, {"email": email, "password": password})
    assert response.status_code == 400
    assert response.json() == {"detail": "E-mail atau kata sandi salah.", "code": "invalid_credentials"}
    assert not ApiToken.objects.exists()


def test_an_inactive_user_is_refused_like_a_wrong_password(api, db):
    user = UserFactory(email="keluar@example.test", is_active=False)
    response = post(api, {"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"
    assert not ApiToken.objects.filter(user=user).exists()


def test_an_unconfirmed_address_gets_no_token(api, db):
    user = UserFactory(email="donatur.baru@example.test")
    EmailAddress.objects.filter(user=user).update(verified=False)
    response = post(api, {"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert response.json()["code"] == "email_unverified"
    assert not ApiToken.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    "body,field",
    [({"password": PASSWORD}, "email"), ({"email": "admin.a@example.test"}, "password"),
     ({"email": "", "password": PASSWORD}, "email")],
)
def test_missing_fields_are_named(api, admin_a, body, field):
    response = post(api, body)
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid"
    assert data["detail"].startswith(f"{field}: ")
    assert field in data["errors"]


def test_a_body_that_is_not_json_is_a_400_not_a_500(api, admin_a):
    response = api.post(URL, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) >= {"detail", "code"}


def test_get_is_not_allowed_with_the_error_shape(api, db):
    response = api.get(URL)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_a_browser_session_does_not_need_csrf_here(donor):
    # POST ignores sessions (no authentication classes): a logged-in browser's cookie cannot be
    # used to mint a token cross-site, and CSRF is not in the way.
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(donor)
    response = client.post(URL, {"email": donor.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200


def test_token_attempts_are_throttled_per_address(api, donor):
    rate = api_settings.DEFAULT_THROTTLE_RATES["auth_token"]  # 10/min unless configured
    limit, _seconds = SimpleRateThrottle.parse_rate(None, rate)
    for _ in range(limit):
        assert post(api, {"email": donor.email, "password": "salah"}).status_code == 400
    blocked = post(api, {"email": donor.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "throttled"
    assert "Retry-After" in blocked.headers
    # A made-up X-Forwarded-For does not make a new client (no proxy is trusted by default).
    spoofed = post(api, {"email": donor.email, "password": PASSWORD},
                   HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert spoofed.status_code == 429
    # Another client address still gets through.
    other = post(api, {"email": donor.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_anonymous_requests_get_401_with_the_error_shape(api, db):
    response = api.get("/api/v1/regencies/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"
    assert set(response.json()) == {"detail", "code"}


def test_a_bad_token_is_a_401(api, db):
    response = api.get("/api/v1/regencies/", HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
