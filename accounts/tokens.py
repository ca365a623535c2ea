"""API tokens: `POST /api/v1/auth/token/` exchanges an e-mail and password for a token."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token

from core.audit import audit_record
from core.errors import DomainError


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


def api_token_obtain(*, email: str, password: str) -> Token:
    """The user's API token (created on first use). Raises `InvalidCredentials`."""
    # ModelBackend looks the address up case-insensitively (User.objects.get_by_natural_key),
    # hashes a dummy password for unknown addresses (same timing) and refuses inactive users.
    user = authenticate(None, username=email.strip(), password=password)
    if user is None or not user.is_active:
        raise InvalidCredentials()
    if _has_only_unverified_addresses(user):
        raise EmailUnverified()
    with transaction.atomic():
        token, created = Token.objects.get_or_create(user=user)
        if created:
            audit_record(actor=user, verb="api_token.issue", object_type="authtoken.token",
                         object_id=user.pk)
    return token


def _has_only_unverified_addresses(user) -> bool:
    """True for a self-signed-up user who never confirmed the address. Users without any
    allauth address row (an operator made with `createsuperuser`) are not refused."""
    from allauth.account.models import EmailAddress

    addresses = list(EmailAddress.objects.filter(user=user).values_list("verified", flat=True))
    return bool(addresses) and not any(addresses)
