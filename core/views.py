"""Cross-cutting pages: health check."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import broker_ok


@never_cache
@require_GET
def healthz(request):
    body = {"db": "ok", "broker": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any failure of the database means "down"
        body["db"] = "down"
    if not broker_ok():
        body["broker"] = "down"
    healthy = all(v == "ok" for v in body.values())
    return JsonResponse(body, status=200 if healthy else 503)
