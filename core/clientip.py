"""The client's address, the same for every rate limit (allauth's and DRF's).

Behind `DJANGO_NUM_PROXIES` = N reverse proxies that we run, each proxy appends the address it
received the request from to `X-Forwarded-For`. The last N entries were written by our proxies;
the N-th from the right is the client as our outermost proxy saw it. Anything to its left was sent
by the client and can be made up, so it is never read. With N = 0 (the default: the app is
reached directly) the header is ignored and `REMOTE_ADDR` is the client.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# IPv6 clients usually hold a whole /64: counting them per address would let one client rotate
# through 2^64 addresses, so rate limits count the /64 (allauth does the same).
IPV6_PREFIX = 64


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:5000"
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def num_proxies() -> int:
    return max(int(getattr(settings, "NUM_PROXIES", 0) or 0), 0)


def client_ip(request: HttpRequest) -> str:
    """The client's address: the N-th entry from the right of X-Forwarded-For when N proxies are
    trusted, `REMOTE_ADDR` when none are (or the header is missing or not an address)."""
    remote = _clean(request.META.get("REMOTE_ADDR")) or "0.0.0.0"  # noqa: S104 (a key, not a bind)
    count = num_proxies()
    if count == 0:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    entries = [entry for entry in (part.strip() for part in forwarded.split(",")) if entry]
    if not entries:
        return remote
    # Fewer entries than proxies: the request skipped an outer proxy; the leftmost entry is
    # still one written by a proxy of ours (DRF's NUM_PROXIES reads it the same way).
    return _clean(entries[-min(count, len(entries))]) or remote


def rate_limit_ident(request: HttpRequest) -> str:
    """`client_ip`, with IPv6 addresses cut to their /64 network: the key rate limits count."""
    ip = client_ip(request)
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network(f"{address}/{IPV6_PREFIX}", strict=False).network_address)
    return ip
