"""Dates in a regency's own time zone: a regency's day starts at its local midnight, not UTC's."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Protocol

from django.utils import timezone


class _HasTimezone(Protocol):
    timezone: str  # an IANA name such as "Asia/Jakarta"


def regency_today(regency: _HasTimezone, moment: dt.datetime | None = None) -> dt.date:
    """The calendar date in `regency`'s time zone at `moment` (now when not given); `regency` is
    anything with a `timezone` name (a regency, or a branch reference)."""
    return timezone.localdate(moment, timezone=zoneinfo.ZoneInfo(regency.timezone))
