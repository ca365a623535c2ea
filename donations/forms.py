"""Forms of the donation pages. Validation that is a rule of the domain lives in services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from donations.models import Campaign, DonorProfile
from participants.selectors import ARREARS_BANDS


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["title", "slug", "story", "audience", "kind", "status", "target_participants",
                  "target_amount", "starts_on", "ends_on", "pledge_limit", "hold_hours", "months_ahead",
                  "payment_route", "bank_name", "account_number", "account_holder"]
        widgets = {
            "payment_route": forms.RadioSelect,
            "story": forms.Textarea(attrs={"rows": 6}),
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "account_number": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        }
        help_texts = {
            "payment_route": _("Langsung: donatur membayar ke VA keluarga peserta (VA memuat digit nomor kartu, "
                               "tampil setelah janji dikonfirmasi). Rekening penampung: donatur mentransfer ke "
                               "rekening kampanye dengan kode pembayaran per janji; bendahara mencocokkan mutasi "
                               "rekening dan menyerahkan dana ke BPJS. Donatur tidak pernah melihat VA."),
            "bank_name": _("Wajib bila cara bayar lewat rekening penampung, mis. Bank Sulselbar."),
            "account_number": _("Wajib bila cara bayar lewat rekening penampung."),
            "account_holder": _("Wajib bila cara bayar lewat rekening penampung, mis. Pemkab Luwu Utara."),
        }

    PAYMENT_FIELDS = ("payment_route", "bank_name", "account_number", "account_holder")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Field-level limits (the same as the service's), so that a bad value is named at its field.
        for name, low, high in (("hold_hours", 1, 720), ("months_ahead", 0, 12), ("target_amount", 0, None),
                                ("target_participants", 0, None), ("pledge_limit", 1, None)):
            field = cast(forms.IntegerField, self.fields[name])
            field.min_value, field.max_value = low, high
            field.widget.attrs["min"] = low
            if high is not None:
                field.widget.attrs["max"] = high
            field.validators = [v for v in field.validators if not hasattr(v, "limit_value")]
            field.validators.append(MinValueValidator(low))
            if high is not None:
                field.validators.append(MaxValueValidator(high))

    @property
    def campaign_fields(self):
        return [field for field in self if field.name not in self.PAYMENT_FIELDS]

    @property
    def payment_fields(self):
        return [field for field in self if field.name in self.PAYMENT_FIELDS]

    def clean_slug(self):
        from donations.services import SLUG_PATTERN

        slug = (self.cleaned_data.get("slug") or "").strip().lower()
        if not SLUG_PATTERN.match(slug) or slug == "new":
            raise forms.ValidationError(_("Slug hanya huruf kecil, angka dan tanda hubung, mis. lutra-peduli."))
        return slug

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        starts, ends = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("Tanggal berakhir tidak boleh sebelum tanggal mulai."))
        # The collecting account is checked by the service (`_validate_campaign`), named at its fields.
        for name in ("bank_name", "account_number", "account_holder"):
            cleaned[name] = (cleaned.get(name) or "").strip()
        return cleaned

    def validate_unique(self):
        # Uniqueness of the slug is checked by the service (across regencies, with a clear message).
        return None


class ProfileForm(forms.ModelForm):
    class Meta:
        model = DonorProfile
        fields = ["display_name", "is_anonymous", "phone", "organisation"]
        help_texts = {
            "is_anonymous": _("Bila dicentang, nama Anda tidak tampil di halaman kampanye (bawaan)."),
            "organisation": _("Mis. unit kerja Anda di Pemda."),
        }


class PaymentForm(forms.Form):
    amount = forms.IntegerField(label=_("Jumlah dibayar (Rp)"), min_value=1, max_value=10**12)
    reference = forms.CharField(label=_("Nomor referensi transfer"), max_length=64)
    # ISO, whatever the language: an <input type=date> shows nothing for "22-11-2026".
    paid_at = forms.DateField(label=_("Tanggal bayar"),
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    receipt = forms.FileField(label=_("Bukti bayar (foto atau PDF, opsional)"), required=False)


class GiftForm(forms.Form):
    amount = forms.IntegerField(label=_("Jumlah (Rp)"), min_value=1000, max_value=10**12)
    reference = forms.CharField(label=_("Nomor referensi transfer"), max_length=64)


class DonorFilterForm(forms.Form):
    district = forms.TypedChoiceField(label=_("Kecamatan"), required=False, coerce=int, empty_value=None)
    care_class = forms.ChoiceField(label=_("Kelas"), required=False, choices=[
        ("", _("Semua kelas")), ("1", _("Kelas I")), ("2", _("Kelas II")), ("3", _("Kelas III"))])
    band = forms.ChoiceField(label=_("Lama tunggakan"), required=False)
    sort = forms.ChoiceField(label=_("Urutkan"), required=False)

    def __init__(self, *args, districts=(), sorts=(), **kwargs):
        """`districts`: (id, name) pairs in the order shown; `sorts`: (key, label) pairs."""
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["district"]).choices = [("", _("Semua kecamatan")), *districts]
        cast(forms.ChoiceField, self.fields["band"]).choices = (
            [("", _("Semua"))] + [(k, v[0]) for k, v in ARREARS_BANDS.items()])
        cast(forms.ChoiceField, self.fields["sort"]).choices = list(sorts)
