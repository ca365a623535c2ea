"""Payment providers: one small module per provider, found by name.

A provider module has:
- `NAME` (the URL and the `ProviderNotification.provider` value),
- `SERVER_KEY_SETTING` (the Django setting holding the key that signs its notifications),
- `parse_and_verify(body: bytes | dict, server_key: str) -> Notification`, raising `BadNotification` (400)
  or `BadSignature` (401) before anything is recorded.

What a verified notification does is the same for every provider
(`donations.money.notifications.notification_record`). A second provider is a second module
and one more line in `PROVIDERS`."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from django.conf import settings

from donations.money.providers.base import BadNotification, BadSignature, Notification

__all__ = ["PROVIDERS", "BadNotification", "BadSignature", "Notification", "provider_get", "provider_secret"]

PROVIDERS: dict[str, str] = {
    "midtrans": "donations.money.providers.midtrans",
}


def provider_get(name: str) -> ModuleType:
    """The module of provider `name`; KeyError for one we do not know."""
    return import_module(PROVIDERS[name])


def provider_secret(module: ModuleType) -> str:
    return str(getattr(settings, module.SERVER_KEY_SETTING, "") or "")
