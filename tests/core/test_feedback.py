"""`core.feedback.attempt`: a service's refusal becomes the page's error message, its success the
success message (fixed text, or text made from the result); nothing else is caught."""

from __future__ import annotations

import pytest
from django.contrib.messages import constants, get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory
from django.utils.translation import gettext_lazy

from core.errors import Conflict
from core.feedback import attempt


@pytest.fixture
def request_():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def _said(request) -> list[tuple[int, str]]:
    return [(m.level, str(m)) for m in get_messages(request)]


def test_success_says_the_text_and_returns_the_result(request_):
    assert attempt(request_, lambda: 7, gettext_lazy("Disimpan.")) == 7
    assert _said(request_) == [(constants.SUCCESS, "Disimpan.")]


def test_success_text_may_be_made_from_the_result(request_):
    attempt(request_, lambda: 3, lambda n: f"{n} peserta ditugaskan.")
    assert _said(request_) == [(constants.SUCCESS, "3 peserta ditugaskan.")]


def test_a_refusal_says_the_services_reason(request_):
    def refuse():
        raise Conflict("Janji ini sudah dibatalkan.", code="already_cancelled")

    assert attempt(request_, refuse, "Dibatalkan.") is None
    assert _said(request_) == [(constants.ERROR, "Janji ini sudah dibatalkan.")]


def test_other_errors_are_not_swallowed(request_):
    def crash():
        raise ValueError("bug")

    with pytest.raises(ValueError):
        attempt(request_, crash, "Disimpan.")
    assert _said(request_) == []
