"""Template filters loaded everywhere (a builtin): `{{ amount|rupiah }}`, `{{ day|tanggal }}`."""

from django import template
from django.utils import timezone

from core.formatting import format_date, format_datetime, format_number, format_rupiah

register = template.Library()


@register.filter
def rupiah(value):
    return format_rupiah(value)


@register.filter
def angka(value):
    return format_number(value)


@register.filter
def tanggal(value):
    return format_date(value)


@register.filter
def waktu(value, regency=None):
    """A datetime in the regency's time zone: `{{ at|waktu:pledge.campaign.regency }}` on pages
    outside `/r/<slug>/` (a donor's pledges); without an argument, the active zone (the
    regency's on tenant pages)."""
    tz = getattr(regency, "tzinfo", None) or timezone.get_current_timezone()
    return format_datetime(value, tz)


@register.filter
def percent(value, total):
    try:
        return round(100 * int(value) / int(total)) if int(total) else 0
    except (TypeError, ValueError):
        return 0


@register.simple_tag
def service_penalty_example(months_in_arrears):
    """`{% service_penalty_example p.months_in_arrears as penalty %}`: the service penalty a
    hospital stay within 45 days would cost now (core.service_penalty), for
    `includes/service_penalty.html`."""
    from core.service_penalty import penalty_example

    return penalty_example(months_in_arrears or 0)
