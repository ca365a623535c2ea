"""The test database's URL for a child process the test starts (a worker, a second web process)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from scripts.services import postgres_socket_url


def database_url(settings_dict: dict[str, Any]) -> str:
    """Over TCP, or over the unix socket of the embedded PostgreSQL that `make test` starts
    without DATABASE_URL (its HOST is then a directory, which a `host:port` URL cannot carry)."""
    host, port = settings_dict.get("HOST") or "127.0.0.1", int(settings_dict.get("PORT") or 5432)
    user, password = settings_dict["USER"], settings_dict.get("PASSWORD") or ""
    if host.startswith("/"):
        return postgres_socket_url(host, database=settings_dict["NAME"], user=user, port=port)
    auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return f"postgres://{auth}@{host}:{port}/{settings_dict['NAME']}"
