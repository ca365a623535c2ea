"""Labels for assessment codes in templates: `{% load assessment_tags %}`."""

from django import template

from assessments.models import Eligibility, Flag, ReasonCode, Recommendation, Status

register = template.Library()


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


@register.filter
def flag_label(code):
    return _label(Flag, code)


@register.filter
def recommendation_label(code):
    return _label(Recommendation, code)


@register.filter
def eligibility_label(code):
    return _label(Eligibility, code)


@register.filter
def reason_label(code):
    return _label(ReasonCode, code)


@register.filter
def status_label(code):
    return _label(Status, code)


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
