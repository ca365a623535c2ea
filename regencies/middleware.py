"""Resolve the tenant of `/r/<slug>/...` pages, check membership, use the regency's time zone."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.utils import timezone

from regencies.permissions import regency_access_get


class RegencyMiddleware:
    """For every page whose URL carries `regency_slug`:

    - anonymous visitors are sent to the login page (for every slug alike);
    - a user without access gets a 404, the same as for a slug that does not exist;
    - `request.regency` and `request.regency_access` are set, and times are shown
      in the regency's own time zone.

    API views resolve the tenant themselves after token authentication
    (`regencies.permissions.RegencyPermission`).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.regency = None
        request.regency_access = None
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("regency_slug")
        if slug is None or request.path.startswith("/api/"):
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        access = regency_access_get(user=request.user, slug=slug)
        request.regency = access.regency
        request.regency_access = access
        timezone.activate(access.regency.tzinfo)
        return None
