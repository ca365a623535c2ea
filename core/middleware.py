"""Bahasa Indonesia first: the interface is Indonesian unless the user chose English.

Django's LocaleMiddleware would follow the browser's Accept-Language, and many
phones in Indonesia are set to English; the choice made with the language switch
(the language cookie set by `set_language`) is the only thing that changes it.
"""

from django.conf import settings
from django.utils import translation


class LanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response
