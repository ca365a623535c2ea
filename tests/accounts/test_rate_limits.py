"""Rate limits that hold behind a proxy.

The client address comes from core.clientip (DJANGO_NUM_PROXIES trusted proxies), the same for
allauth's limits (login, failed logins, sign-up, password reset) and DRF's throttles (token
creation, reservations). In these tests every request arrives from 127.0.0.1 (the proxy, when one
is trusted) and says who the client is in X-Forwarded-For, as Caddy does.
"""

import pytest
from django.core import mail
from django.test import RequestFactory, override_settings
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.api import TokenEmailThrottle, TokenIpThrottle
from accounts.models import ApiToken, User
from core.api import ReservationIpThrottle, ReservationUserThrottle
from core.clientip import client_ip, rate_limit_ident
from donations.models import Audience, Campaign, CampaignStatus, Kind, Pledge
from donations.services import donor_profile_ensure
from tests.factories import PASSWORD, UserFactory, api_token_for

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"
CLIENT_A = "203.0.113.10"
CLIENT_B = "198.51.100.77"
LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "10/m/ip,3/h/key",
    "signup": "20/h/ip",
    "signup_email": "3/h/key",
}
behind_one_proxy = override_settings(NUM_PROXIES=1, ACCOUNT_RATE_LIMITS=LIMITS)
direct = override_settings(NUM_PROXIES=0, ACCOUNT_RATE_LIMITS=LIMITS)


def rate(scope: str) -> int:
    return SimpleRateThrottle.parse_rate(None, api_settings.DEFAULT_THROTTLE_RATES[scope])[0]


def via_proxy(client_address: str) -> dict:
    """What web sees from Caddy: REMOTE_ADDR the proxy, the client in X-Forwarded-For."""
    return {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": client_address}


def login(client, email, password, **extra):
    return client.post(LOGIN, {"login": email, "password": password}, **extra)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- the client address --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "proxies,remote,forwarded,expected",
    [
        (0, "192.0.2.1", "203.0.113.5", "192.0.2.1"),  # no proxy trusted: the header is ignored
        (0, "192.0.2.1", None, "192.0.2.1"),
        (1, "10.0.0.2", "203.0.113.5", "203.0.113.5"),  # Caddy's entry
        (1, "10.0.0.2", "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # the client's own entry skipped
        (2, "10.0.0.2", "6.6.6.6, 203.0.113.5, 10.0.0.9", "203.0.113.5"),
        (2, "10.0.0.2", "203.0.113.5", "203.0.113.5"),  # fewer entries than proxies: leftmost
        (1, "10.0.0.2", None, "10.0.0.2"),  # straight to web: the peer
        (1, "10.0.0.2", "nonsense", "10.0.0.2"),  # not an address
        (1, "10.0.0.2", "203.0.113.5:4711", "203.0.113.5"),
        (1, "10.0.0.2", "[2001:db8::1]:443", "2001:db8::1"),
    ],
)
def test_client_ip_takes_the_nth_entry_from_the_right(settings, proxies, remote, forwarded, expected):
    settings.NUM_PROXIES = proxies
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip(RequestFactory().get("/", **extra)) == expected


def test_ipv6_clients_are_counted_per_64(settings):
    settings.NUM_PROXIES = 1
    one = RequestFactory().get("/", **via_proxy("2001:db8:1:2::1"))
    other = RequestFactory().get("/", **via_proxy("2001:db8:1:2:ffff::9"))
    assert rate_limit_ident(one) == rate_limit_ident(other) == "2001:db8:1:2::"


def test_allauth_and_drf_use_the_same_address(settings):
    from allauth.account.adapter import get_adapter

    settings.NUM_PROXIES = 1
    request = RequestFactory().post("/", **via_proxy(f"6.6.6.6, {CLIENT_A}"))
    assert get_adapter(request).get_client_ip(request) == CLIENT_A
    for throttle in (TokenIpThrottle(), ReservationIpThrottle()):
        assert throttle.get_ident(request) == CLIENT_A


# --- login (web form; the admin logs in through it) --------------------------------------------


@direct
def test_a_spoofed_forwarded_for_is_ignored_without_a_trusted_proxy(client, db):
    for n in range(10):
        login(client, f"tebak{n}@example.test", "salah", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    victim = UserFactory(email="korban@example.test")
    # A new made-up address does not make a new client: this one is still blocked.
    login(client, victim.email, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert not logged_in(client)


@behind_one_proxy
def test_ten_bad_logins_from_one_client_do_not_lock_out_another(client, db):
    victim = UserFactory(email="pegawai@example.test")
    attacker = client
    for n in range(10):
        login(attacker, f"tebak{n}@example.test", "salah", **via_proxy(CLIENT_A))
    # Client A is now refused, even with a right password...
    login(attacker, victim.email, PASSWORD, **via_proxy(CLIENT_A))
    assert not logged_in(attacker)
    # ...but everyone else behind the same proxy logs in.
    other = type(client)()
    response = login(other, victim.email, PASSWORD, **via_proxy(CLIENT_B))
    assert response.status_code == 302
    assert logged_in(other)


@behind_one_proxy
def test_the_per_account_limit_holds_across_addresses(client, db):
    victim = UserFactory(email="bendahara@example.test")
    for n in range(5):
        login(type(client)(), victim.email, "salah", **via_proxy(f"203.0.113.{n + 1}"))
    fresh = type(client)()
    login(fresh, victim.email, PASSWORD, **via_proxy("192.0.2.200"))
    assert not logged_in(fresh)
    # The API gives no token to the locked account either, from yet another address.
    response = APIClient().post(TOKEN, {"email": victim.email, "password": PASSWORD}, format="json",
                                **via_proxy("192.0.2.201"))
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_login_attempts"
    assert not ApiToken.objects.filter(user=victim).exists()


@behind_one_proxy
def test_the_admin_login_goes_through_the_same_form(client, db):
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    # Its own form does not log anyone in.
    staff = UserFactory(email="operator.rl@example.test", is_staff=True, is_superuser=True, mfa=False)
    client.post("/admin/login/", {"username": staff.email, "password": PASSWORD}, **via_proxy(CLIENT_A))
    assert not logged_in(client)


# --- token creation ------------------------------------------------------------------------------


@override_settings(NUM_PROXIES=1)
def test_token_creation_is_throttled_per_client_behind_the_proxy(db):
    donor = UserFactory(email="donatur.rl@example.test")
    api = APIClient()
    for n in range(rate("auth_token")):
        # Different accounts: only the per-address throttle counts them all.
        response = api.post(TOKEN, {"email": f"x{n}@example.test", "password": "salah"}, format="json",
                            **via_proxy(f"6.6.6.{n}, {CLIENT_A}"))
        assert response.status_code == 400
    blocked = api.post(TOKEN, {"email": donor.email, "password": PASSWORD}, format="json",
                       **via_proxy(f"6.6.6.250, {CLIENT_A}"))
    assert blocked.status_code == 429 and blocked.json()["code"] == "throttled"
    other = api.post(TOKEN, {"email": donor.email, "password": PASSWORD}, format="json", **via_proxy(CLIENT_B))
    assert other.status_code == 200


@override_settings(NUM_PROXIES=1)
def test_token_creation_is_throttled_per_email_from_any_address(db):
    donor = UserFactory(email="donatur.rl2@example.test")
    api = APIClient()
    for n in range(rate("auth_token_email")):
        response = api.post(TOKEN, {"email": donor.email, "password": "salah"}, format="json",
                            **via_proxy(f"203.0.113.{n + 1}"))
        assert response.status_code == 400
    blocked = api.post(TOKEN, {"email": f"  {donor.email.upper()} ", "password": PASSWORD}, format="json",
                       **via_proxy("192.0.2.50"))
    assert blocked.status_code == 429
    # Another account from the same place is not affected.
    UserFactory(email="donatur.lain@example.test")
    fine = api.post(TOKEN, {"email": "donatur.lain@example.test", "password": PASSWORD}, format="json",
                    **via_proxy("192.0.2.50"))
    assert fine.status_code == 200


def test_the_throttles_are_configured():
    assert TokenEmailThrottle().rate and TokenIpThrottle().rate
    assert ReservationUserThrottle().rate and ReservationIpThrottle().rate


# --- reservations --------------------------------------------------------------------------------


@pytest.fixture
def campaign(regency_a):
    return Campaign.objects.create(regency=regency_a, slug="lutra-peduli", title="Luwu Utara Peduli",
                                   audience=Audience.PUBLIC, kind=Kind.BOTH, status=CampaignStatus.ACTIVE)


def make_donor(email):
    user = UserFactory(email=email)
    donor_profile_ensure(user=user)
    return user


@pytest.fixture
def low_reservation_rates(monkeypatch):
    monkeypatch.setattr(ReservationUserThrottle, "rate", "3/hour", raising=False)
    monkeypatch.setattr(ReservationIpThrottle, "rate", "5/hour", raising=False)


@override_settings(NUM_PROXIES=1)
def test_reservations_are_throttled_per_user_across_api_and_page(campaign, low_reservation_rates, client):
    donor = make_donor("donatur.pesan@example.test")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(donor)}")
    url = f"/api/v1/campaigns/{campaign.slug}/pledges/"
    # A participant outside the pool: refused by the view, still counted.
    body = {"participant": "00000000-0000-0000-0000-000000000000"}
    assert api.post(url, body, format="json", **via_proxy("203.0.113.1")).status_code == 404
    assert api.post(url, body, format="json", **via_proxy("203.0.113.2")).status_code == 404
    # The page counts with the API.
    client.force_login(donor)
    page = client.post(f"/c/{campaign.slug}/reserve/", {"participant": body["participant"]},
                       **via_proxy("203.0.113.3"), follow=True)
    assert "Pilih seorang peserta dari daftar." in page.content.decode()
    blocked = api.post(url, body, format="json", **via_proxy("203.0.113.4"))
    assert blocked.status_code == 429 and blocked.json()["code"] == "throttled"
    page = client.post(f"/c/{campaign.slug}/reserve/", {"participant": body["participant"]},
                       **via_proxy("203.0.113.5"), follow=True)
    assert "Terlalu banyak pemesanan" in page.content.decode()
    assert not Pledge.all_regencies.exists()
    # Another donor is not affected.
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(make_donor('donatur.lain2@example.test'))}")
    assert other.post(url, body, format="json", **via_proxy("192.0.2.9")).status_code == 404


@override_settings(NUM_PROXIES=1)
def test_reservations_are_throttled_per_client_address_over_accounts(campaign, low_reservation_rates):
    url = f"/api/v1/campaigns/{campaign.slug}/pledges/"
    body = {"participant": "00000000-0000-0000-0000-000000000000"}
    statuses = []
    for n in range(6):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(make_donor(f'akun{n}@example.test'))}")
        statuses.append(api.post(url, body, format="json", **via_proxy(CLIENT_A)).status_code)
    assert statuses == [404] * 5 + [429]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(make_donor('akun.b@example.test'))}")
    assert api.post(url, body, format="json", **via_proxy(CLIENT_B)).status_code == 404


# --- sign-up and password reset ------------------------------------------------------------------


def signup(client, email, **extra):
    return client.post("/accounts/signup/", {
        "email": email, "password1": "Kopi-Toraja-2026!", "password2": "Kopi-Toraja-2026!",
    }, **extra)


@override_settings(NUM_PROXIES=1, ACCOUNT_RATE_LIMITS=LIMITS | {"signup": "3/h/ip"})
def test_sign_up_is_limited_per_client(client, db):
    for n in range(3):
        assert signup(client, f"warga{n}@example.test", **via_proxy(CLIENT_A)).status_code == 302
    assert signup(client, "warga9@example.test", **via_proxy(CLIENT_A)).status_code == 429
    assert signup(client, "warga10@example.test", **via_proxy(CLIENT_B)).status_code == 302
    assert not User.objects.filter(email="warga9@example.test").exists()


@override_settings(NUM_PROXIES=1, ACCOUNT_RATE_LIMITS=LIMITS | {"signup_email": "2/h/key"})
def test_sign_up_is_limited_per_email_address_from_any_client(client, db):
    assert signup(type(client)(), "warga@example.test", **via_proxy("203.0.113.1")).status_code == 302
    # Again (allauth says nothing about the existing account, and mails its owner).
    again = signup(type(client)(), "Warga@example.test", **via_proxy("203.0.113.2"))
    assert again.status_code == 302, again.content.decode()[-3000:]
    sent = len(mail.outbox)
    refused = signup(type(client)(), "warga@example.test", **via_proxy("203.0.113.3"))
    assert refused.status_code == 200
    assert "Terlalu sering mendaftar dengan alamat e-mail ini" in refused.content.decode()
    assert len(mail.outbox) == sent  # no third e-mail to that inbox


@override_settings(NUM_PROXIES=1, ACCOUNT_RATE_LIMITS=LIMITS | {"reset_password": "10/m/ip,2/h/key"})
def test_password_reset_is_limited_per_account_from_any_client(client, db):
    user = UserFactory(email="lupa@example.test")
    for n in range(2):
        response = client.post("/accounts/password/reset/", {"email": user.email}, **via_proxy(f"203.0.113.{n}"))
        assert response.status_code == 302
    assert len(mail.outbox) == 2
    blocked = client.post("/accounts/password/reset/", {"email": user.email}, **via_proxy("192.0.2.3"))
    assert blocked.status_code == 429
    assert len(mail.outbox) == 2


@override_settings(NUM_PROXIES=1, ACCOUNT_RATE_LIMITS=LIMITS | {"reset_password": "2/m/ip,5/h/key"})
def test_password_reset_is_limited_per_client(client, db):
    for n in range(2):
        response = client.post("/accounts/password/reset/", {"email": f"siapa{n}@example.test"}, **via_proxy(CLIENT_A))
        assert response.status_code == 302
    assert client.post("/accounts/password/reset/", {"email": "siapa9@example.test"},
                       **via_proxy(CLIENT_A)).status_code == 429
    assert client.post("/accounts/password/reset/", {"email": "siapa9@example.test"},
                       **via_proxy(CLIENT_B)).status_code == 302
