"""Indonesian formats for money and dates, whatever the interface language."""

from __future__ import annotations

import datetime as dt

MONTHS_ID = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)


def format_rupiah(amount: int | None) -> str:
    """`1250000` -> `Rp1.250.000`; negative amounts keep their sign."""
    if amount is None:
        return "–"
    value = int(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}Rp{abs(value):,}".replace(",", ".")


def format_number(value: int | None) -> str:
    if value is None:
        return "–"
    return f"{int(value):,}".replace(",", ".")


def format_date(value: dt.date | None) -> str:
    """`2026-11-22` -> `22 November 2026`."""
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        value = value.date()
    return f"{value.day} {MONTHS_ID[value.month - 1]} {value.year}"


def format_datetime(value: dt.datetime | None, tz: dt.tzinfo | None = None) -> str:
    """`22 November 2026 14.05 WITA` in the given zone (the regency's)."""
    if value is None:
        return "–"
    if tz is not None:
        value = value.astimezone(tz)
    zone = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}.get(
        str(getattr(value.tzinfo, "key", "")), value.strftime("%Z")
    )
    return f"{format_date(value)} {value:%H.%M} {zone}".rstrip()
