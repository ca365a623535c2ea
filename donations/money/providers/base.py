"""What every payment provider module gives the rest of the system: a verified `Notification`,
or one of two refusals (`BadNotification` 400, `BadSignature` 401) raised before anything is
recorded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class BadNotification(DomainError):
    """The body is not a notification this provider sends (not JSON, a field missing, a bad amount)."""

    status_code = 400
    default_code = "invalid_notification"
    default_detail = _("Isi notifikasi pembayaran tidak valid.")


class BadSignature(DomainError):
    """The signature does not prove the provider sent it (or no server key is configured)."""

    status_code = 401
    default_code = "bad_signature"
    default_detail = _("Tanda tangan notifikasi tidak cocok.")


@dataclass(frozen=True)
class Notification:
    """One verified notification, in the provider's words reduced to what we act on."""

    provider: str
    transaction_id: str  # unique per provider: the payment's reference, and the replay key
    order_id: str  # our pledge's payment code
    transaction_status: str
    amount: int  # integer rupiah
    paid: bool  # the money has arrived (settled, or captured and accepted)
    occurred_at: dt.datetime | None  # when the provider says it happened (aware), if it says
    body: dict = field(default_factory=dict, compare=False, repr=False)
