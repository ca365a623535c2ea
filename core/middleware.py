"""Bahasa Indonesia first: the interface is Indonesian unless the user chose English.

Django's LocaleMiddleware would follow the browser's Accept-Language, and many
phones in Indonesia are set to English; the choice made with the language switch
(the language cookie set by `set_language`) is the only thing that changes it on a page.
An API client (a token, no cookie, no switch) names its language in Accept-Language.
"""

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation

from core.errors import ServiceUnavailable, is_broker_outage

logger = logging.getLogger(__name__)


class LanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen in self.supported:
            language = chosen
        elif request.path.startswith("/api/"):
            # Accept-Language among the supported languages, else Indonesian.
            language = translation.get_language_from_request(request)
        else:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


class BrokerOutageMiddleware:
    """A Redis / Celery broker outage is a 503 that says so, never a 500 or the debug page.

    Pages get templates/503.html; the API (`/api/`) gets `{"detail", "code":
    "service_unavailable"}`. Work written to the outbox (core.outbox) does not need the broker at
    request time at all; this catches what still does.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_broker_outage(exception):
            return None
        logger.warning(
            "broker unreachable during %s %s: %s", request.method, request.path, type(exception).__name__
        )
        response: HttpResponse
        if request.path.startswith("/api/"):
            error = ServiceUnavailable()
            response = JsonResponse({"detail": str(error.detail), "code": error.code}, status=503)
        else:
            response = render(request, "503.html", status=503)
        response["Retry-After"] = "60"
        return response
