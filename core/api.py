"""API plumbing shared by every app: pagination and the one error shape."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler

from core.clientip import rate_limit_ident
from core.errors import DomainError, ServiceUnavailable, is_broker_outage
from core.tenancy import TenantScopeRequired


class Pagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}` for every list."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_number(self, request, paginator):
        # A page number that is not a number is page 1, not a 500.
        raw = request.query_params.get(self.page_query_param) or 1
        try:
            return max(int(raw), 1)
        except (TypeError, ValueError):
            return 1


def _first_message(data) -> str:
    if isinstance(data, list) and data:
        return _first_message(data[0])
    if isinstance(data, dict) and data:
        key, value = next(iter(data.items()))
        text = _first_message(value)
        return text if key in ("detail", "non_field_errors") else f"{key}: {text}"
    return str(data)


def exception_handler(exc, context):
    """Every error is `{"detail": "...", "code": "..."}`; validation adds `errors` per field."""
    response: Response | None
    if is_broker_outage(exc):
        exc = ServiceUnavailable()
    if isinstance(exc, DomainError):
        body = {"detail": str(exc.detail), "code": exc.code, **exc.extra}
        response = Response(body, status=exc.status_code)
        if exc.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
            response["Retry-After"] = "60"
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, TenantScopeRequired):
        # A programming error, but a tenant leak must never be the outcome: refuse.
        exc = exceptions.NotFound()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": _first_message(exc.detail),
            "code": "invalid",
            "errors": exc.detail,
        }
        return response
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        response.data = {"detail": str(exc.detail), "code": code}
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        response.data["code"] = "throttled"
    return response


# --- throttles ---------------------------------------------------------------------------
# Rates are named by scope in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]. Every throttle reads the
# client address through core.clientip (trusted proxies: DJANGO_NUM_PROXIES), as allauth does.


class ClientIpThrottle(SimpleRateThrottle):
    """Counts requests per client address (`scope` set by a subclass), signed in or not."""

    def get_ident(self, request):
        return rate_limit_ident(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignedInUserThrottle(SimpleRateThrottle):
    """Counts a signed-in user's requests wherever they come from; anonymous ones are not counted
    here (pair it with a `ClientIpThrottle`)."""

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


class ReservationUserThrottle(SignedInUserThrottle):
    """Reservations (API and page) per donor: a script cannot hold the whole pool."""

    scope = "reservation_user"


class ReservationIpThrottle(ClientIpThrottle):
    """Reservations (API and page) per client address, over every account used from it."""

    scope = "reservation_ip"


RESERVATION_THROTTLES = (ReservationUserThrottle, ReservationIpThrottle)


def throttle_wait(request, throttle_classes) -> float | None:
    """For pages (plain Django views): None when every throttle lets `request` through (each
    counts it), else the seconds to wait. The counts are the ones the API's throttles keep."""
    waits = []
    for throttle_class in throttle_classes:
        throttle = throttle_class()
        if not throttle.allow_request(request, None):
            waits.append(throttle.wait() or 1)
    return max(waits) if waits else None
