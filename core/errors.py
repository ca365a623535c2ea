"""Domain errors: services raise these; one handler turns them into `{"detail", "code"}`."""

from __future__ import annotations

import uuid

from django.http import Http404
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A rule of the domain refused the action. `code` is stable; `detail` is for people."""

    status_code = 400
    default_code = "invalid"
    default_detail = _("Permintaan tidak valid.")

    def __init__(self, detail: str | None = None, *, code: str | None = None, extra: dict | None = None):
        self.detail = detail if detail is not None else str(self.default_detail)
        self.code = code or self.default_code
        self.extra = extra or {}
        super().__init__(str(self.detail))


class NotFound(DomainError):
    status_code = 404
    default_code = "not_found"
    default_detail = _("Tidak ditemukan.")


class PermissionDenied(DomainError):
    status_code = 403
    default_code = "permission_denied"
    default_detail = _("Anda tidak berhak melakukan tindakan ini.")


class Conflict(DomainError):
    status_code = 409
    default_code = "conflict"
    default_detail = _("Bertabrakan dengan data yang sudah ada.")


def uuid_or_404(value, *, what: str):
    """An opaque public id from a URL or a request body, or a 404 (never a 500) when malformed."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError) as exc:
        raise Http404(what) from exc


def int_or_404(value, *, what: str) -> int:
    """A numeric id from a URL or a request body, or a 404 (never a 500) when it is not a number."""
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise Http404(what) from exc


def get_or_404(queryset, *, what: str, **lookup):
    """The first row of `queryset` matching `lookup`, or a 404 naming `what` (a row of another
    regency, or one the queryset leaves out, is as missing as one that does not exist)."""
    found = queryset.filter(**lookup).first()
    if found is None:
        raise Http404(what)
    return found


class ServiceUnavailable(DomainError):
    """A service the action needs (the task broker, Redis) does not answer; try again later."""

    status_code = 503
    default_code = "service_unavailable"
    default_detail = _(
        "Layanan antrean tugas sementara tidak dapat dihubungi; tidak ada data yang hilang. "
        "Coba lagi dalam beberapa menit."
    )


def is_broker_outage(exc: BaseException) -> bool:
    """True for the errors of an unreachable Celery broker / Redis (kombu, redis-py)."""
    import kombu.exceptions
    import redis.exceptions

    return isinstance(
        exc,
        kombu.exceptions.OperationalError | redis.exceptions.ConnectionError | redis.exceptions.TimeoutError,
    )
