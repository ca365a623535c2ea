"""The regency's participant list as table rows (`core.tables`): one row per participant,
the cells the template's table header names, in its order."""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html

from core.formatting import format_date, format_rupiah
from core.tables import Column
from participants.selectors import ELIGIBILITY_CHOICES

_ELIGIBILITY = dict(ELIGIBILITY_CHOICES)


def _place(row: tuple[Any, str]) -> str:
    p = row[0]
    district = p.district.name if p.district is not None and p.district.name else "–"
    return f"{district} / {p.village.name}" if p.village is not None else district


# Each row is (participant, the link to its page).
PARTICIPANT_COLUMNS = (
    Column(lambda row: format_html('<a href="{}">{}</a>', row[1], row[0].name)),
    Column(lambda row: row[0].card_number),
    Column(lambda row: row[0].nik_masked),
    Column(_place),
    Column(lambda row: row[0].get_care_class_display()),
    Column(lambda row: row[0].months_in_arrears, css="num"),
    Column(lambda row: format_rupiah(row[0].arrears_amount), css="num"),
    Column(lambda row: format_date(row[0].last_paid_date)),
    Column(lambda row: format_html('<span class="badge {}">{}</span>', row[0].status_badge,
                                   row[0].get_status_display())),
    Column(lambda row: format_html('<span class="badge badge-muted" data-eligibility="{}">{}</span>',
                                   row[0].eligibility, _ELIGIBILITY.get(row[0].eligibility, ""))),
)
