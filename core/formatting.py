"""Money, numbers and dates in the active interface language.

Indonesian (the default, and what background jobs without a request use) reads
`Rp1.250.000`, `1.484` and `22 November 2026 14.05 WITA`; English reads `Rp1,250,000`,
`1,484` and `22 November 2026 14:05 WITA`. The zone's abbreviation is the Indonesian one in
both, as it is what a clock in the regency shows.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import get_language

MONTHS_ID = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)
MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
ZONES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def _english() -> bool:
    return (get_language() or "").lower().startswith("en")


def month_names() -> tuple[str, ...]:
    """The twelve month names in the active language."""
    return MONTHS_EN if _english() else MONTHS_ID


def _group(value: int) -> str:
    grouped = f"{abs(value):,}"
    return grouped if _english() else grouped.replace(",", ".")


def format_rupiah(amount: int | None) -> str:
    """`1250000` -> `Rp1.250.000` (`Rp1,250,000` in English); negative amounts keep their sign."""
    if amount is None:
        return "–"
    value = int(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}Rp{_group(value)}"


def format_number(value: int | None) -> str:
    """`1484` -> `1.484` (`1,484` in English)."""
    if value is None:
        return "–"
    number = int(value)
    return ("-" if number < 0 else "") + _group(number)


def format_decimal(value: float | int | None, places: int = 1) -> str:
    """`80.0` -> `80` and `12.5` -> `12,5` (`12.5` in English): no trailing zeros shown."""
    if value is None:
        return "–"
    text = f"{float(value):.{places}f}".rstrip("0").rstrip(".")
    whole, _sep, fraction = text.lstrip("-").partition(".")
    sign = "-" if text.startswith("-") and text.strip("-0.") else ""
    grouped = _group(int(whole))
    if not fraction:
        return sign + grouped
    return sign + grouped + ("." if _english() else ",") + fraction


def format_date(value: dt.date | None) -> str:
    """`2026-11-22` -> `22 November 2026`, the month in the active language."""
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        value = value.date()
    return f"{value.day} {month_names()[value.month - 1]} {value.year}"


def format_day_month(value: dt.date) -> str:
    """`2026-12-10` -> `10 Desember` (`10 December`)."""
    return f"{value.day} {month_names()[value.month - 1]}"


def format_month(value: dt.date) -> str:
    """`2026-12-01` -> `Desember 2026` (`December 2026`)."""
    return f"{month_names()[value.month - 1]} {value.year}"


def format_datetime(value: dt.datetime | None, tz: dt.tzinfo | None = None) -> str:
    """`22 November 2026 14.05 WITA` in the given zone (the regency's); `14:05` in English."""
    if value is None:
        return "–"
    if tz is not None:
        value = value.astimezone(tz)
    zone = ZONES.get(str(getattr(value.tzinfo, "key", "")), value.strftime("%Z"))
    clock = f"{value:%H:%M}" if _english() else f"{value:%H.%M}"
    return f"{format_date(value)} {clock} {zone}".rstrip()
