"""Forms of the regency pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from regencies.roles import INVITABLE_ROLES


class PercentField(forms.DecimalField):
    """A percentage shown as it would be written: `80`, `82.5`, not the stored `80.00`."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal) and value.is_finite():
            return format(value.normalize(), "f")
        return value


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


class RegencySettingsForm(forms.Form):
    """Population and JKN totals (coverage, active rate) and the active-rate target of the regency."""

    population = forms.IntegerField(
        label=_("Jumlah penduduk"), required=False, min_value=1, max_value=100_000_000,
        help_text=_("Menurut data kependudukan (Dukcapil) terbaru."),
    )
    jkn_participants = forms.IntegerField(
        label=_("Jumlah peserta JKN"), required=False, min_value=0, max_value=100_000_000,
        help_text=_("Semua segmen, menurut BPJS Kesehatan cabang."),
    )
    active_rate_target = PercentField(
        label=_("Target keaktifan (%)"), min_value=0, max_value=100, max_digits=5, decimal_places=2,
        help_text=_("UHC Pratama 80%, Madya 85%, Utama 95%."),
    )
    minimum_wage = forms.IntegerField(
        label=_("UMK (Rp per bulan)"), required=False, min_value=0, max_value=1_000_000_000,
    )
    retention_years = forms.IntegerField(
        label=_("Masa simpan data pribadi peserta (tahun)"), required=False, min_value=1, max_value=30,
        help_text=_("UU 27/2022: data pribadi peserta dianonimkan sekian tahun setelah daftar tunggakan "
                    "terakhir yang memuatnya, bila tidak ada janji donasi yang masih berjalan."),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("retention_years") is None:
            data.pop("retention_years", None)  # left empty: the regency keeps its period
        population, participants = data.get("population"), data.get("jkn_participants")
        if population and participants and participants > population * 2:
            self.add_error("jkn_participants", _(
                "Jumlah peserta JKN (%(p)s) tidak masuk akal untuk penduduk %(n)s: periksa kembali angkanya."
            ) % {"p": participants, "n": population})
        return data
