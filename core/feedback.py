"""A page's one-line answer to a POST that calls one service.

A service refuses with a `DomainError` whose `detail` is written for the user; a page that has
no form to show the refusal next to says it as an error message and carries on to its redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from django.contrib import messages
from django.http import HttpRequest
from django.utils.functional import Promise

from core.errors import DomainError

if TYPE_CHECKING:  # a development dependency: the type of a lazy translation
    from django_stubs_ext import StrPromise

T = TypeVar("T")


def attempt(request: HttpRequest, action: Callable[[], T],
            success: str | StrPromise | Callable[[T], str | StrPromise]) -> T | None:
    """Run `action`; say `success` (text, or made from what the action returned) when it succeeds,
    the service's reason when it refuses. The action's result, or None when it refused."""
    try:
        result = action()
    except DomainError as exc:
        messages.error(request, str(exc.detail))
        return None
    messages.success(request, success if isinstance(success, str | Promise) else success(result))
    return result
