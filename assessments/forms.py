"""Forms of the assessment pages. The questionnaire's form is built from its definition, next
to it: `assessments.questionnaire.AnswersForm`."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from assessments.models import ReasonCode


class ScreeningSettingsForm(forms.Form):
    cleared_min_months = forms.IntegerField(
        label=_("Tunggakan yang dilunasi sendiri, paling sedikit (bulan, N)"), min_value=1, max_value=24,
        help_text=_("Tunggakan sebanyak ini yang lunas sekaligus ditandai 'pernah melunasi sendiri'."),
    )
    relapse_within_months = forms.IntegerField(
        label=_("Menunggak lagi dalam (bulan, M)"), min_value=1, max_value=36,
        help_text=_("Lunas lalu menunggak lagi dalam waktu ini ditandai 'bayar saat sakit'."),
    )
    short_arrears_months = forms.IntegerField(
        label=_("Tunggakan singkat jika kurang dari (bulan, K)"), min_value=1, max_value=24,
    )
    validity_months = forms.IntegerField(
        label=_("Masa berlaku hasil asesmen (bulan)"), min_value=1, max_value=60,
    )


class DecisionForm(forms.Form):
    ACTIONS = (("approve", _("Setujui (layak)")), ("reject", _("Tolak (tidak layak)")),
               ("return", _("Kembalikan ke asesor")))
    action = forms.ChoiceField(choices=ACTIONS, label=_("Keputusan"))
    reason = forms.ChoiceField(
        choices=[("", _("— pilih alasan penolakan —")), *ReasonCode.choices], required=False,
        label=_("Alasan (jika ditolak)"),
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000,
                           label=_("Catatan"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        action = data.get("action")
        if action == "reject" and not data.get("reason"):
            self.add_error("reason", _("Pilih alasan penolakan."))
        if action == "return" and not (data.get("note") or "").strip():
            self.add_error("note", _("Tulis apa yang perlu diperbaiki."))
        return data


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("Foto atau PDF (paling besar 5 MB)"))


class AssignForm(forms.Form):
    assignee = forms.IntegerField(required=False)
    participants = forms.TypedMultipleChoiceField(coerce=int, choices=())

    def __init__(self, *args, participant_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.TypedMultipleChoiceField, self.fields["participants"]).choices = [(pid, pid) for pid in participant_ids]
