"""API tokens: made, checked, listed and revoked here; the API and the account page are thin.

A token is `<random secret>` shown once; the database keeps only its SHA-256 (`key_hash`) and the
first 8 characters (`prefix`, to tell tokens apart). Each has a name, an expiry
(`API_TOKEN_DAYS`, default 30), and the time it was last used (written at most once a minute).
All of a user's tokens are revoked when the password changes, the account is deactivated or the
user loses their last role (the regencies app tells us: regencies.signals).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

from accounts.models import ApiToken
from core.audit import audit_record
from core.errors import DomainError, NotFound

LAST_USED_EVERY = timedelta(minutes=1)
NAME_MAX = 100


class InvalidCredentials(DomainError):
    """Wrong password, unknown e-mail or an inactive account: one answer for all three,
    so that the API never tells whether an address is registered."""

    status_code = 400
    default_code = "invalid_credentials"
    default_detail = _("E-mail atau kata sandi salah.")


class EmailUnverified(DomainError):
    """The password was right, but the address was never confirmed (self sign-up)."""

    status_code = 403
    default_code = "email_unverified"
    default_detail = _(
        "Alamat e-mail belum dikonfirmasi. Buka tautan konfirmasi yang kami kirim, lalu coba lagi."
    )


class AccountLocked(DomainError):
    """Too many failed logins for this address (web form and API count together)."""

    status_code = 429
    default_code = "too_many_login_attempts"
    default_detail = _("Terlalu banyak percobaan masuk yang gagal. Coba lagi beberapa menit lagi.")


class MfaRequired(DomainError):
    status_code = 401
    default_code = "mfa_required"
    default_detail = _("Akun ini memakai verifikasi dua langkah: kirim juga kode dari aplikasi autentikator (`code`).")


class MfaInvalid(DomainError):
    status_code = 401
    default_code = "mfa_invalid"
    default_detail = _("Kode verifikasi dua langkah salah atau sudah dipakai.")


# --- the secret ---------------------------------------------------------------------------


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_lifetime() -> timedelta:
    return timedelta(days=getattr(settings, "API_TOKEN_DAYS", 30))


def token_create(*, user, name: str = "", actor=None) -> tuple[ApiToken, str]:
    """A new token for `user`: (the row, the secret). The secret is never stored: show it once."""
    secret = secrets.token_urlsafe(32)  # 43 characters, 256 bits
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=(name or "").strip()[:NAME_MAX], key_hash=_hash(secret), prefix=secret[:8],
            expires_at=timezone.now() + token_lifetime(),
        )
        audit_record(actor=actor or user, verb="api_token.issue", obj=token,
                     after={"user_id": user.pk, "name": token.name, "prefix": token.prefix,
                            "expires_at": token.expires_at.isoformat()})
    return token, secret


def token_authenticate(secret: str) -> ApiToken | None:
    """The live token whose secret this is (its user active), or None. Notes when it was used."""
    if not secret or len(secret) > 200:
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(secret), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        # One write a minute at most, whatever the request rate (the filter keeps two requests
        # at once from both writing).
        ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gt=now - LAST_USED_EVERY).update(
            last_used_at=now
        )
        token.last_used_at = now
    return token


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <token>`. A subclass of DRF's only for the
    OpenAPI schema (`tokenAuth`); its plaintext token model (rest_framework.authtoken) is never
    used."""

    keyword = "Token"
    model = ApiToken

    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != self.keyword.lower().encode():
            return None
        if len(auth) != 2:
            raise exceptions.AuthenticationFailed(_("Header Authorization tidak sah: `Token <token>`."))
        try:
            secret = auth[1].decode("ascii")
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("Token tidak sah.")) from exc
        return self.authenticate_credentials(secret)

    def authenticate_credentials(self, key):
        token = token_authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Token tidak sah, kedaluwarsa atau sudah dicabut."))
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


# --- obtaining a token with e-mail and password -------------------------------------------------


def api_token_obtain(*, request, email: str, password: str, code: str = "",
                     name: str = "") -> tuple[ApiToken, str]:
    """A new token for the owner of `email`/`password` (+ `code` when they use MFA).

    The password is checked through allauth, so a failure here counts towards the same
    per-account and per-address lockout as the web login (ACCOUNT_RATE_LIMITS["login_failed"]),
    and a locked account gets no token. Raises InvalidCredentials, AccountLocked,
    EmailUnverified, MfaRequired, MfaInvalid.
    """
    from allauth.account.adapter import get_adapter
    from django.core.exceptions import ValidationError

    from accounts import mfa

    adapter = get_adapter(request)
    try:
        user = adapter.authenticate(request, email=email.strip().lower(), password=password)
    except ValidationError as exc:  # allauth: "too_many_login_attempts"
        raise AccountLocked() from exc
    if user is None or not user.is_active:
        raise InvalidCredentials()
    if _has_only_unverified_addresses(user):
        raise EmailUnverified()
    if mfa.user_has_mfa(user):
        if not (code or "").strip():
            raise MfaRequired()
        if not mfa.verify_code(user, code):
            raise MfaInvalid()
    return token_create(user=user, name=name or _default_name(request))


def _default_name(request) -> str:
    agent = (request.META.get("HTTP_USER_AGENT") or "").strip()
    return f"API ({agent[:60]})" if agent else "API"


def _has_only_unverified_addresses(user) -> bool:
    """True for a self-signed-up user who never confirmed the address. Users without any
    allauth address row (an operator made with `createsuperuser`) are not refused."""
    from allauth.account.models import EmailAddress

    addresses = list(EmailAddress.objects.filter(user=user).values_list("verified", flat=True))
    return bool(addresses) and not any(addresses)


# --- listing and revoking -----------------------------------------------------------------------


def tokens_for_user(*, user):
    """The user's tokens that still work, newest first (the account page)."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now())


def token_revoke(*, token: ApiToken, actor, reason: str = "user") -> ApiToken:
    """Revoke one token (idempotent, audited)."""
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_reason = reason
            locked.save(update_fields=["revoked_at", "revoked_reason"])
            audit_record(actor=actor, verb="api_token.revoke", obj=locked,
                         after={"user_id": locked.user_id, "prefix": locked.prefix, "reason": reason})
    return locked


def token_revoke_own(*, user, token_id: int) -> ApiToken:
    """The account page: revoke one of the user's own tokens; anyone else's is a 404."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise NotFound(gettext("Token tidak ditemukan."))
    return token_revoke(token=token, actor=user, reason="user")


def tokens_revoke_all(*, user, reason: str, actor=None) -> int:
    """Revoke every live token of `user` (password change, deactivation, last role gone).
    Returns how many were revoked; audited once when any were."""
    with transaction.atomic():
        count = ApiToken.objects.filter(user_id=user.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_reason=reason
        )
        if count:
            audit_record(actor=actor, verb="api_token.revoke_all", object_type="accounts.user",
                         object_id=user.pk, after={"count": count, "reason": reason})
    return count


# --- signals: password change and deactivation -------------------------------------------------


def _user_pre_save(sender, instance, raw=False, **kwargs):
    """Note whether this save changes the password or deactivates the user (before it is lost)."""
    if raw or instance.pk is None:
        return
    old = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if old is None:
        return
    instance._tokens_revoke_reason = None
    if old["is_active"] and not instance.is_active:
        instance._tokens_revoke_reason = "deactivated"
    elif old["password"] != instance.password and not _same_password_rehashed(instance, old["password"]):
        instance._tokens_revoke_reason = "password"


def _same_password_rehashed(instance, old_hash: str) -> bool:
    """Django re-hashes a password on login when the hasher's settings change: the same
    password under a new hash is not a password change."""
    from django.contrib.auth.hashers import check_password

    raw = getattr(instance, "_password", None)
    return raw is not None and check_password(raw, old_hash)


def _user_post_save(sender, instance, created=False, raw=False, **kwargs):
    reason = getattr(instance, "_tokens_revoke_reason", None)
    if reason and not created and not raw:
        instance._tokens_revoke_reason = None
        tokens_revoke_all(user=instance, reason=reason)


def _allauth_password_changed(sender, request=None, user=None, **kwargs):
    # The model signal above already saw the new hash; this also covers a change that did not
    # go through User.save (idempotent: only live tokens are touched).
    if user is not None and user.pk is not None:
        tokens_revoke_all(user=user, reason="password")


def connect_signals() -> None:
    """Called from AccountsConfig.ready()."""
    from allauth.account import signals as allauth_signals

    user_model = get_user_model()
    pre_save.connect(_user_pre_save, sender=user_model, dispatch_uid="accounts.tokens.user_pre_save")
    post_save.connect(_user_post_save, sender=user_model, dispatch_uid="accounts.tokens.user_post_save")
    for name in ("password_changed", "password_reset", "password_set"):
        getattr(allauth_signals, name).connect(_allauth_password_changed,
                                               dispatch_uid=f"accounts.tokens.{name}")
