"""The regency's participant list as table rows (`core.tables`): one row per participant,
the cells the template's table header names, in its order."""

from __future__ import annotations

from typing import Any

from django.utils.safestring import SafeString

from core.formatting import format_date, format_rupiah
from core.tables import Column, escape_html
from participants.selectors import ELIGIBILITY_CHOICES

_ELIGIBILITY = dict(ELIGIBILITY_CHOICES)


def _place(row: tuple[Any, str]) -> str:
    p = row[0]
    district = p.district.name if p.district is not None and p.district.name else "–"
    return f"{district} / {p.village.name}" if p.village is not None else district


def _name(row: tuple[Any, str]) -> SafeString:
    return SafeString(f'<a href="{escape_html(row[1])}">{escape_html(row[0].name)}</a>')


def _status(row: tuple[Any, str]) -> SafeString:
    p = row[0]
    return SafeString(f'<span class="badge {escape_html(p.status_badge)}">{escape_html(p.get_status_display())}</span>')


def _eligibility(row: tuple[Any, str]) -> SafeString:
    code = row[0].eligibility
    return SafeString(f'<span class="badge badge-muted" data-eligibility="{escape_html(code)}">'
                      f'{escape_html(_ELIGIBILITY.get(code, ""))}</span>')


# Each row is (participant, the link to its page).
PARTICIPANT_COLUMNS = (
    Column(_name),
    Column(lambda row: row[0].card_number),
    Column(lambda row: row[0].nik_masked),
    Column(_place),
    Column(lambda row: row[0].get_care_class_display()),
    Column(lambda row: row[0].months_in_arrears, css="num"),
    Column(lambda row: format_rupiah(row[0].arrears_amount), css="num"),
    Column(lambda row: format_date(row[0].last_paid_date)),
    Column(_status),
    Column(_eligibility),
)
