"""Labels for assessment codes in templates: `{% load assessment_tags %}`."""

from collections.abc import Callable

from django import template
from django.db import models

from assessments.models import Eligibility, Flag, ReasonCode, Recommendation, Status

register = template.Library()


def _labeller(choices: type[models.Choices]) -> Callable[[object], str]:
    """A filter that shows a code of `choices` by its label (an unknown code as it is)."""

    def label(code: object) -> str:
        try:
            return str(choices(code).label)
        except ValueError:
            return str(code or "")

    return label


for _name, _choices in (("flag_label", Flag), ("recommendation_label", Recommendation),
                        ("eligibility_label", Eligibility), ("reason_label", ReasonCode),
                        ("status_label", Status)):
    register.filter(_name, _labeller(_choices))


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
