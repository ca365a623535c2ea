"""Labels for assessment codes in templates, and the queue's cards: `{% load assessment_tags %}`."""

from collections.abc import Callable, Iterable, Mapping
from html import escape
from typing import Any

from django import template
from django.conf import settings
from django.db import models
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from assessments.flags import flag_reason
from assessments.models import Eligibility, Flag, ReasonCode, Recommendation, Status
from core.formatting import format_rupiah
from core.links import link_maker
from core.tables import escape_html, fill_translation

register = template.Library()


def _labeller(choices: type[models.Choices]) -> Callable[[object], str]:
    """A filter that shows a code of `choices` by its label (an unknown code as it is)."""

    def label(code: object) -> str:
        try:
            return str(choices(code).label)
        except ValueError:
            return str(code or "")

    return label


flag_label = _labeller(Flag)
recommendation_label = _labeller(Recommendation)
eligibility_label = _labeller(Eligibility)
status_label = _labeller(Status)

for _name, _filter in (("flag_label", flag_label), ("recommendation_label", recommendation_label),
                       ("eligibility_label", eligibility_label), ("reason_label", _labeller(ReasonCode)),
                       ("status_label", status_label)):
    register.filter(_name, _filter)


@register.filter
def verb_label(verb):
    from django.utils.translation import gettext as _

    return {
        "assessment.created": _("Asesmen dibuat"),
        "assessment.answers_saved": _("Jawaban disimpan"),
        "assessment.evidence_added": _("Bukti diunggah"),
        "assessment.submitted": _("Diajukan"),
        "assessment.returned": _("Dikembalikan ke asesor"),
        "assessment.approved": _("Disetujui: layak"),
        "assessment.rejected": _("Ditolak: tidak layak"),
    }.get(verb, verb)


# --- the queue's cards -----------------------------------------------------------------------------

_RECOMMENDATION_BADGES = {Recommendation.ASSESS.value: "badge-ok", Recommendation.LIKELY_INELIGIBLE.value: "badge-bad"}
_FLAG_BADGES = {Flag.PAYS_WHEN_SICK.value: "badge-bad", Flag.FAMILY_PARTLY_COVERED.value: "badge-ok"}
_CARD = (
    '\n      <li class="card queue-card" data-participant="{public_id}">'
    '\n        <div class="queue-card-head">{checkbox}<strong class="queue-name">{name}</strong>'
    "\n          {action}</div>"
    '\n        <p class="queue-meta"><span class="badge {rec_badge}">{rec}</span>{state}'
    "\n          <span>NIK {nik}</span> · {district} · {village} · {months} · "
    '<span class="amount">{amount}</span> · {family} · {waiting}{assigned}</p>'
    "\n        {flags}"
    "\n      </li>\n    "
)


def _value(value: Any, number: Callable[[Any], str]) -> str:
    """A value as a template variable shows it (localized, escaped; None as "None")."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return number(value)
    return escape_html(str(localize(value)))


def queue_cards(context: Mapping[str, Any], rows: Iterable[Mapping[str, Any]]) -> SafeString:
    """The queue's cards (`<li>` each), as the template wrote them card by card: the same
    markup and texts, with the translations, links and per-page choices looked up once a page
    instead of once a card. A card's values are plain text (the database's, never marked safe)
    and escaped as Django's `escape` does (`html.escape`), without its checks for lazy and safe
    strings on every value."""
    number: Callable[[Any], str] = (lambda n: escape_html(str(localize(n)))) \
        if settings.USE_THOUSAND_SEPARATOR else str
    slug = context["regency"].slug
    detail_url = link_maker("assessment_detail", key="assessment_id", sample="987654321", regency_slug=slug)
    start_url = link_maker("assessment_start", key="public_id", sample="00000000-0000-0000-0000-000000000000",
                           regency_slug=slug)
    can_decide = context.get("can_decide")
    assign_form = context.get("assign_form")
    described = (' aria-describedby="participants_error"'
                 if can_decide and assign_form is not None and assign_form["participants"].errors else "")
    # The template's {% blocktranslate %} texts (the same msgids), translated once a page.
    choose, months = gettext("Pilih %(name)s"), gettext("%(m)s bulan")
    family, assigned = gettext("keluarga %(n)s orang"), gettext("ditugaskan: %(who)s")
    waiting_texts: dict[int, str] = {}

    def waiting(days: int) -> str:
        if days not in waiting_texts:
            waiting_texts[days] = ngettext("menunggu %(d)s hari", "menunggu %(d)s hari", days)
        return fill_translation(waiting_texts[days], "menunggu %(d)s hari", d=_value(days, number))

    review, resume = escape_html(gettext("Tinjau")), escape_html(gettext("Lanjutkan"))
    start = escape_html(gettext("Mulai asesmen"))
    labels: dict[tuple[Callable[[object], str], object], str] = {}

    def label(of: Callable[[object], str], code: object) -> str:
        key = (of, code)
        if key not in labels:
            labels[key] = escape_html(of(code))
        return labels[key]

    cards = []
    for row in rows:
        e = row["entry"]
        p = e.participant
        name = escape(p.name)
        checkbox = ""
        if can_decide:
            checkbox = (f'<input type="checkbox" name="participants" value="{number(p.pk)}" '
                        f'aria-label="{fill_translation(choose, "Pilih %(name)s", name=name)}"{described}>')
        if e.open_id:
            action = (f'<a class="btn btn-primary btn-small queue-action" href="{escape(detail_url(e.open_id))}">'
                      f'{review if e.open_status == Status.SUBMITTED else resume}</a>')
        elif e.eligibility in (Eligibility.UNASSESSED, Eligibility.EXPIRED):
            action = ('<button class="btn btn-primary btn-small queue-action" type="submit" form="queue-start" '
                      f'formaction="{escape(start_url(p.public_id))}">{start}</button>')
        else:
            action = ""
        if e.open_status:
            state = f' <span class="badge badge-warn">{label(status_label, e.open_status)}</span>'
        elif e.eligibility != Eligibility.UNASSESSED:
            state = f' <span class="badge badge-muted">{label(eligibility_label, e.eligibility)}</span>'
        else:
            state = ""
        flags = ""
        if e.flags:
            flags = '<p class="queue-flags">' + "<br>".join(
                f'<span class="badge {_FLAG_BADGES.get(f.get("code"), "badge-warn")}" '
                f'data-flag="{_value(f.get("code", ""), number)}">{label(flag_label, f.get("code", ""))}</span> '
                f'{escape(flag_reason(f))}'
                for f in e.flags
            ) + "</p>"
        cards.append(_CARD.format(
            public_id=escape(str(p.public_id)),
            checkbox=checkbox,
            name=name,
            action=action,
            rec_badge=_RECOMMENDATION_BADGES.get(e.recommendation, "badge-muted"),
            rec=label(recommendation_label, e.recommendation),
            state=state,
            nik=escape(p.nik_masked),
            district=escape(e.district_name) if e.district_name else "–",
            village=escape(e.village_name) if e.village_name else "–",
            months=fill_translation(months, "%(m)s bulan", m=_value(p.months_in_arrears, number)),
            amount=escape(format_rupiah(p.arrears_amount)),
            family=fill_translation(family, "keluarga %(n)s orang", n=_value(e.family_size, number)),
            waiting=waiting(row["days_waiting"]),
            assigned=(" · " + fill_translation(assigned, "ditugaskan: %(who)s",
                                    who=escape(e.assigned_to.get_full_name()))
                      if e.assigned_to else ""),
            flags=flags,
        ))
    return mark_safe("".join(cards))  # noqa: S308 (every value above is escaped)
