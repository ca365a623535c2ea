"""The reason a screening flag gives, in words, made when it is shown.

Screening stores each flag as its code and the numbers and dates behind it (`screening.py`); the
sentence is written here, in the reader's language and with Indonesian dates, not in SQL at
screening time (in whatever language the worker ran, and once per entry of every run, most of which
are never read). A flag stored by an older screening keeps the sentence it was stored with when its
numbers are missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.translation import gettext as _

from assessments.models import Flag
from core.formatting import format_date, format_number


def _date(value: Any) -> str:
    return format_date(dt.date.fromisoformat(value) if isinstance(value, str) else value)


def _written_off(flag: dict[str, Any]) -> str:
    return _("Daftar BPJS: tunggakan dihapus program pemutihan; usulkan PBI, jangan ditawarkan ke donatur")


def _in_rehab(flag: dict[str, Any]) -> str:
    left = flag.get("instalments_left")
    if left is None:
        return _("Daftar BPJS: sudah ikut REHAB (cicilan tunggakan)")
    return _("Daftar BPJS: sudah ikut REHAB, sisa %(n)s cicilan") % {"n": format_number(left)}


def _pays_when_sick(flag: dict[str, Any]) -> str:
    return _(
        "Tunggakan %(months)s bulan lunas sendiri antara %(start)s dan %(end)s, "
        "lalu menunggak lagi %(later)s bulan kemudian"
    ) % {"months": format_number(flag["months_cleared"]), "start": _date(flag["from"]),
         "end": _date(flag["cleared"]), "later": format_number(flag["months_later"])}


def _self_cleared(flag: dict[str, Any]) -> str:
    return _("Tunggakan %(months)s bulan lunas sendiri antara %(start)s dan %(end)s") % {
        "months": format_number(flag["months_cleared"]), "start": _date(flag["from"]),
        "end": _date(flag["cleared"])}


def _short_arrears(flag: dict[str, Any]) -> str:
    return _("Baru menunggak %(months)s bulan (kurang dari %(threshold)s bulan)") % {
        "months": format_number(flag["months"]), "threshold": format_number(flag["threshold"])}


def _higher_class(flag: dict[str, Any]) -> str:
    return _("Kelas %(cls)s: sarankan pindah ke kelas III, bukan dibantu") % {
        "cls": "I" if flag["care_class"] == 1 else "II"}


def _family(flag: dict[str, Any]) -> str:
    return _("%(paying)s dari %(size)s anggota keluarga tidak menunggak") % {
        "paying": format_number(flag["not_in_arrears"]), "size": format_number(flag["family_size"])}


_REASONS: dict[str, Callable[[dict[str, Any]], str]] = {
    Flag.WRITTEN_OFF: _written_off,
    Flag.IN_REHAB: _in_rehab,
    Flag.PAYS_WHEN_SICK: _pays_when_sick,
    Flag.SELF_CLEARED_BEFORE: _self_cleared,
    Flag.SHORT_ARREARS: _short_arrears,
    Flag.HIGHER_CLASS: _higher_class,
    Flag.FAMILY_PARTLY_COVERED: _family,
}


def flag_reason(flag: dict[str, Any]) -> str:
    """The sentence of one stored flag, in the active language ("" for an unknown code)."""
    reason_of = _REASONS.get(flag.get("code", ""))
    if reason_of is None:
        return str(flag.get("reason", ""))
    try:
        return reason_of(flag)
    except (KeyError, TypeError, ValueError):
        # A flag from an older screening without the numbers: the sentence it was stored with.
        return str(flag.get("reason", ""))


def with_reasons(flags: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Copies of the stored flags, each with its `reason` in the active language."""
    return [{**flag, "reason": flag_reason(flag)} for flag in flags or ()]
