"""Forms of the regency pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from regencies.roles import INVITABLE_ROLES


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "inputmode": "email"}),
    )
    role = forms.ChoiceField(
        label=_("Peran"),
        choices=[(r.value, r.label) for r in INVITABLE_ROLES],
        help_text=_("Staf Pemda berdonasi di kampanye internal; asesor menilai rumah tangga; "
                    "supervisor menyetujui asesmen; admin mengelola semuanya."),
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()
