"""MFA is required for every role except community donors.

A signed-in user who must use MFA (`accounts.mfa.mfa_required`: staff, a regency or branch
role) and has no authenticator enrolled is sent to allauth's TOTP enrolment page before any
other page; only logging out, re-authenticating, the e-mail pages and the MFA pages themselves
stay open. API requests authenticated by the session get a 403 `mfa_enrolment_required`
instead (token requests are checked when the token is issued: accounts.api).

The check costs one query per request for a signed-in user, none when the session itself
passed allauth's MFA step.
"""

from __future__ import annotations

from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import mfa

# Open to a user who still has to enrol.
_OPEN_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/logout/",
    "/accounts/reauthenticate/",
    "/accounts/email/",
    "/accounts/confirm-email/",
    "/i18n/",
    "/static/",
    "/healthz",
)


def session_passed_mfa(request) -> bool:
    """True when this session's login went through allauth's MFA step."""
    from allauth.account.internal.flows.login import get_authentication_records

    records = get_authentication_records(request, request.user)  # this user's, this session's
    return any(isinstance(r, dict) and r.get("method") == "mfa" for r in records)


class MfaRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(_OPEN_PREFIXES)
            and not session_passed_mfa(request)
            and not mfa.user_has_mfa(user)
            and mfa.mfa_required(user)
        ):
            return self._enrol(request)
        return self.get_response(request)

    def _enrol(self, request):
        if request.path.startswith("/api/"):
            return JsonResponse({
                "detail": _("Aktifkan autentikasi dua langkah (TOTP) di halaman akun Anda terlebih dahulu."),
                "code": "mfa_enrolment_required",
            }, status=403)
        return HttpResponseRedirect(reverse("mfa_activate_totp"))
