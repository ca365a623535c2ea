"""Cross-cutting pages: health check (`{"db", "broker"}` decide the status; `outbox` is reported)."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import broker_ok
from core.outbox import backlog


@never_cache
@require_GET
def healthz(request):
    body: dict[str, object] = {"db": "ok", "broker": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any failure of the database means "down"
        body["db"] = "down"
    if not broker_ok():
        body["broker"] = "down"
    healthy = all(v == "ok" for v in body.values())
    # Reported, never failing the check: work waiting in the outbox (core.outbox) is delayed,
    # not lost; a large or old backlog with the broker up means the relay is not running.
    if body["db"] == "ok":
        try:
            body["outbox"] = backlog()
        except Exception:  # the report must not turn a healthy answer into an error
            body["outbox"] = None
    return JsonResponse(body, status=200 if healthy else 503)
