"""Midtrans HTTP notification (https://docs.midtrans.com/docs/https-notification-webhooks).

The body is JSON. `signature_key` is the SHA-512 hex of `order_id` + `status_code` +
`gross_amount` + the merchant's server key, each exactly as sent (`gross_amount` is a string
such as "245000.00"). `transaction_status` `settlement`, or `capture` with `fraud_status`
`accept`, means the money arrived; `pending`, `expire`, `cancel`, `deny`, `capture` with
`challenge` (and anything else) do not. `transaction_time` is Western Indonesia Time (WIB)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from typing import NoReturn

from django.utils.translation import gettext as _

from donations.money.providers.base import BadNotification, BadSignature, Notification

NAME = "midtrans"
SERVER_KEY_SETTING = "MIDTRANS_SERVER_KEY"

# field -> longest value we accept (the columns that keep them, and Payment.reference for the id).
REQUIRED = {
    "order_id": 100,
    "status_code": 10,
    "gross_amount": 30,
    "signature_key": 200,
    "transaction_id": 64,
    "transaction_status": 20,
}
PAID_STATUSES = ("settlement", "capture")
_AMOUNT = re.compile(r"^(\d{1,15})(?:\.(\d{1,6}))?$")


def signature(*, order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """The signature Midtrans computes (tests and tools sign with it too)."""
    text = f"{order_id}{status_code}{gross_amount}{server_key}"
    return hashlib.sha512(text.encode("utf-8")).hexdigest()


def _load(body: bytes | str | dict) -> dict:
    if isinstance(body, dict):
        data = body
    else:
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else body
            data = json.loads(text, parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise BadNotification(_("Isi notifikasi bukan JSON yang valid."), code="invalid_json") from exc
    if not isinstance(data, dict):
        raise BadNotification(_("Isi notifikasi harus objek JSON."), code="invalid_json")
    if not _storable(data):
        raise BadNotification(_("Isi notifikasi memuat karakter yang tidak diizinkan."), code="invalid_json")
    return data


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _storable(value: object, depth: int = 0) -> bool:
    """No NUL and no lone surrogate anywhere (PostgreSQL's jsonb refuses both), not too deep."""
    if depth > 20:
        return False
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_storable(k, depth + 1) and _storable(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v, depth + 1) for v in value)
    return True


def _fields(data: dict) -> dict[str, str]:
    missing = [name for name in REQUIRED if not isinstance(data.get(name), str) or not data[name].strip()]
    if missing:
        raise BadNotification(
            _("Notifikasi tanpa kolom wajib (teks tidak kosong): %(f)s.") % {"f": ", ".join(missing)},
            code="missing_field", extra={"fields": missing})
    too_long = [name for name, limit in REQUIRED.items() if len(data[name]) > limit]
    if too_long:
        raise BadNotification(_("Kolom notifikasi terlalu panjang: %(f)s.") % {"f": ", ".join(too_long)},
                              code="invalid_notification", extra={"fields": too_long})
    return {name: data[name] for name in REQUIRED}


def parse_amount(text: str) -> int:
    """`"245000.00"` -> 245000. Zero, a fraction of a rupiah, a sign or anything not a number -> 400."""
    match = _AMOUNT.match(text.strip())
    if match is None or (match.group(2) and set(match.group(2)) != {"0"}) or int(match.group(1)) == 0:
        raise BadNotification(_("gross_amount harus jumlah rupiah bulat lebih dari 0 (mis. \"245000.00\"), bukan %(v)r.")
                              % {"v": text[:30]}, code="invalid_amount")
    return int(match.group(1))


def _occurred_at(data: dict) -> dt.datetime | None:
    raw = data.get("transaction_time")
    if not isinstance(raw, str):
        return None
    try:
        moment = dt.datetime.strptime(f"{raw.strip()} +0700", "%Y-%m-%d %H:%M:%S %z")  # WIB, no DST
    except ValueError:
        return None
    return moment


def parse_and_verify(body: bytes | str | dict, server_key: str) -> Notification:
    """The verified notification; `BadNotification` (400) or `BadSignature` (401) otherwise. The
    signature is checked before anything in the body is believed (the amount included)."""
    data = _load(body)
    fields = _fields(data)
    if not server_key:
        raise BadSignature(_("Notifikasi tidak dapat diverifikasi: kunci server Midtrans belum diatur."))
    expected = signature(order_id=fields["order_id"], status_code=fields["status_code"],
                         gross_amount=fields["gross_amount"], server_key=server_key)
    if not hmac.compare_digest(expected.encode("ascii"), fields["signature_key"].strip().lower().encode("utf-8")):
        raise BadSignature()
    status = fields["transaction_status"].strip().lower()
    fraud = data.get("fraud_status")
    fraud = fraud.strip().lower() if isinstance(fraud, str) else ""
    paid = status == "settlement" or (status == "capture" and fraud == "accept")
    return Notification(
        provider=NAME, transaction_id=fields["transaction_id"].strip(), order_id=fields["order_id"].strip(),
        transaction_status=status, amount=parse_amount(fields["gross_amount"]), paid=paid,
        occurred_at=_occurred_at(data), body=data,
    )
