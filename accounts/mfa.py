"""Multi-factor authentication (allauth.mfa: TOTP + recovery codes).

The web login asks for the code on allauth's own page (`mfa_authenticate`). Other ways in
(`POST /api/v1/auth/token/`) check it with `verify_code`. Who must enrol: everyone with a
role (a regency or branch membership, or staff); community donors may. The roles live in
higher apps, which register a check here (`register_role_check`) so that accounts never
imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP

if TYPE_CHECKING:
    from accounts.models import User

# Authenticators that make the login ask for a code (recovery codes only back one up).
PRIMARY_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)

RoleCheck = Callable[["User"], bool]
_role_checks: list[RoleCheck] = []


def register_role_check(fn: RoleCheck) -> None:
    """`fn(user) -> bool`: True when the user holds a role that requires MFA. Idempotent."""
    if fn not in _role_checks:
        _role_checks.append(fn)


def user_has_mfa(user) -> bool:
    """True when the user's login asks for a second factor (TOTP or a security key)."""
    if user is None or not getattr(user, "is_authenticated", False) or user.pk is None:
        return False
    return get_adapter().is_mfa_enabled(user, list(PRIMARY_TYPES))


def mfa_required(user) -> bool:
    """True for every role except community donors: staff, regency and branch members."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    return any(check(user) for check in _role_checks)


def verify_code(user, code: str) -> bool:
    """A current TOTP code (each used once) or an unused recovery code (then used up).

    Uses allauth's own authenticators, so a code accepted here cannot be replayed on the web
    login and a recovery code spent here is spent there too. False for a user without MFA.
    """
    code = (code or "").strip()
    if not code or not user_has_mfa(user):
        return False
    authenticators = Authenticator.objects.filter(user_id=user.pk).exclude(
        type=Authenticator.Type.WEBAUTHN  # a security key cannot check a typed code
    )
    for authenticator in authenticators:
        if authenticator.wrap().validate_code(code):
            authenticator.record_usage()
            return True
    return False


def enrol_totp(user, secret: str) -> Authenticator:
    """Enrol `user` with a known base32 secret (demo data, tests), stored as allauth stores it.

    Idempotent: an existing TOTP authenticator is given the secret. Recovery codes are
    generated the way allauth does when TOTP is activated.
    """
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    adapter = get_adapter()
    existing = Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).first()
    if existing is None:
        authenticator = TOTP.activate(user, secret).instance
    else:
        if adapter.decrypt(existing.data.get("secret", "")) != secret:
            existing.data = {**existing.data, "secret": adapter.encrypt(secret)}
            existing.save(update_fields=["data"])
        authenticator = existing
    RecoveryCodes.activate(user)
    return authenticator


def recovery_codes(user) -> list[str]:
    """The user's unused recovery codes (empty when none were generated)."""
    authenticator = Authenticator.objects.filter(
        user_id=user.pk, type=Authenticator.Type.RECOVERY_CODES
    ).first()
    return authenticator.wrap().get_unused_codes() if authenticator else []


def reset(user) -> int:
    """Remove every authenticator of `user` (they enrol again at their next login).

    Returns how many were removed. The caller audits (accounts never writes the audit itself
    for another user's reset: see regencies.services.member_mfa_reset).
    """
    deleted, _ = Authenticator.objects.filter(user_id=user.pk).delete()
    return deleted
