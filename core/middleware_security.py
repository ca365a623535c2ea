"""Response headers that keep pages safe in the browser and personal data out of caches.

- `ContentSecurityPolicyMiddleware`: the policy in `settings.CONTENT_SECURITY_POLICY` on every
  response (Django 5.2 has no CSP of its own). The policy allows scripts and styles only from the
  app itself: no inline `<script>`, no `on*=` handler, no `style=""` attribute; their code lives
  in static/js and static/css (htmx and Chart.js are served by the app from node_modules).
- `NoStoreMiddleware`: `Cache-Control: no-store` (and `Pragma: no-cache` for old proxies) on
  every response that may carry personal data, so that neither a shared proxy nor the browser's
  history/back button keeps a copy: every response to a signed-in user, and every response under
  `settings.NO_STORE_PATH_PREFIXES` (the API, regency and branch pages, the donor's own pages,
  the accounts pages) whoever asks. Static files and the public campaign page seen by an
  anonymous visitor stay cacheable.
"""

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


def carries_personal_data(request) -> bool:
    """Whether the response to `request` must not be stored by any cache."""
    path = request.path_info
    if path.startswith(settings.STATIC_URL):
        return False
    if path.startswith(tuple(settings.NO_STORE_PATH_PREFIXES)):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class NoStoreMiddleware:
    """Must come after AuthenticationMiddleware (it asks whether the user is signed in)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if carries_personal_data(request):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
            if "Expires" in response:
                del response["Expires"]
        return response
