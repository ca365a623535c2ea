"""Forms of the import and participant pages. Validation only: writes go through services."""

from __future__ import annotations

import datetime as dt
from typing import cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.formatting import format_date
from participants.models import ImportMode, ParticipantStatus
from participants.selectors import ARREARS_BANDS, DEFAULT_SORT, ELIGIBILITY_CHOICES, SORTS
from regencies.models import District, Regency, Village

ALLOWED_EXTENSIONS = (".csv", ".xlsx")


def format_size(n_bytes: int) -> str:
    """`209715200` -> `200 MB` (for messages and the size hint)."""
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / (1024 * 1024):.0f} MB"
    if n_bytes >= 1024:
        return f"{n_bytes / 1024:.0f} KB"
    return f"{n_bytes} B"


def validate_arrears_file(uploaded: UploadedFile) -> None:
    """Extension .csv/.xlsx, not empty, within the size limit; raises ValidationError with a clear message."""
    name = (uploaded.name or "").lower()
    if not name.endswith(ALLOWED_EXTENSIONS):
        raise forms.ValidationError(
            _("Berkas harus berformat CSV (.csv) atau Excel (.xlsx); yang diunggah: %(name)s.")
            % {"name": uploaded.name or "-"},
            code="extension",
        )
    size = uploaded.size or 0
    if size == 0:
        raise forms.ValidationError(_("Berkas kosong (0 byte)."), code="empty")
    limit = settings.ARREARS_MAX_UPLOAD_BYTES
    if size > limit:
        raise forms.ValidationError(
            _("Berkas terlalu besar: %(size)s, batasnya %(limit)s.")
            % {"size": format_size(size), "limit": format_size(limit)},
            code="too_large",
        )


def validate_as_of(value: dt.date, *, today: dt.date) -> None:
    if value > today:
        raise forms.ValidationError(
            _("Tanggal data tidak boleh di masa depan (hari ini %(today)s).") % {"today": format_date(today)},
            code="future",
        )


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Berkas daftar tunggakan (CSV atau XLSX)"),
        error_messages={
            "required": gettext_lazy("Pilih berkas CSV atau XLSX yang akan diunggah."),
            "empty": gettext_lazy("Berkas kosong (0 byte)."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    as_of = forms.DateField(
        label=gettext_lazy("Data per tanggal"),
        input_formats=["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("Isi tanggal data (per tanggal berapa daftar ini dibuat)."),
            "invalid": gettext_lazy("Tanggal tidak dikenali; gunakan format TTTT-BB-HH."),
        },
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("Jenis daftar"),
        choices=ImportMode.choices,
        initial=ImportMode.PARTIAL,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Daftar lengkap: berkas ini adalah seluruh daftar tunggakan cabang; peserta cabang yang "
            "tidak ada di berkas ditandai sudah tidak menunggak (keluar dari daftar). "
            "Sebagian: hanya menambah atau memperbarui peserta yang ada di berkas. "
            "Daftar lengkap yang akan mengeluarkan banyak peserta atau melepas janji donasi aktif "
            "menunggu konfirmasi Anda sebelum diterapkan."
        ),
        error_messages={"invalid_choice": gettext_lazy("Pilih jenis daftar: lengkap atau sebagian.")},
    )

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["as_of"].initial = today
        self.fields["file"].widget.attrs["data-max-bytes"] = str(settings.ARREARS_MAX_UPLOAD_BYTES)
        self.fields["file"].help_text = _("Paling besar %(limit)s.") % {
            "limit": format_size(settings.ARREARS_MAX_UPLOAD_BYTES)
        }

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        validate_arrears_file(uploaded)
        return uploaded

    def clean_as_of(self):
        value = self.cleaned_data["as_of"]
        validate_as_of(value, today=self.today)
        return value


class _ListedChoiceIterator(ModelChoiceIterator):
    """The field's choices read with one query per form and kept: Django's iterator opens a
    server-side cursor each time the choices are walked and counts them with another query
    (three statements and a held cursor for a regency's district list on every page)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:  # evaluated once; the queryset keeps its rows
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(self.queryset) + (1 if self.field.empty_label is not None else 0)


class _ListedModelChoiceField(forms.ModelChoiceField):
    iterator = _ListedChoiceIterator


class ParticipantFilterForm(forms.Form):
    """The participant list's search, filters and sort (GET). An invalid value is named and ignored."""

    q = forms.CharField(
        label=gettext_lazy("Cari"), required=False, max_length=100,
        widget=forms.TextInput(attrs={
            "type": "search",
            "placeholder": gettext_lazy("No. kartu, NIK, atau nama"),
        }),
    )
    district = _ListedModelChoiceField(
        label=gettext_lazy("Kecamatan"), queryset=District.all_regencies.none(), required=False,
        empty_label=gettext_lazy("Semua kecamatan"),
        error_messages={"invalid_choice": gettext_lazy("Kecamatan tidak dikenal.")},
    )
    village = _ListedModelChoiceField(
        label=gettext_lazy("Desa/kelurahan"), queryset=Village.all_regencies.none(), required=False,
        empty_label=gettext_lazy("Semua desa/kelurahan"),
        error_messages={"invalid_choice": gettext_lazy("Desa/kelurahan tidak dikenal di kecamatan ini.")},
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False,
        choices=[("", gettext_lazy("Semua status")), *ParticipantStatus.choices],
        error_messages={"invalid_choice": gettext_lazy("Status tidak dikenal.")},
    )
    eligibility = forms.ChoiceField(
        label=gettext_lazy("Kelayakan"), required=False,
        choices=[("", gettext_lazy("Semua")), *ELIGIBILITY_CHOICES],
        error_messages={"invalid_choice": gettext_lazy("Kelayakan tidak dikenal.")},
    )
    band = forms.ChoiceField(
        label=gettext_lazy("Lama tunggakan"), required=False,
        choices=[("", gettext_lazy("Semua")), *((key, label) for key, (label, _lo, _hi) in ARREARS_BANDS.items())],
        error_messages={"invalid_choice": gettext_lazy("Rentang bulan tunggakan tidak dikenal.")},
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("Urutkan"), required=False,
        choices=[(key, label) for key, (label, _ordering) in SORTS.items()],
        error_messages={"invalid_choice": gettext_lazy("Urutan tidak dikenal.")},
    )

    def __init__(self, data=None, *, regency: Regency, **kwargs):
        super().__init__(data, **kwargs)
        self.regency = regency
        cast(forms.ModelChoiceField, self.fields["district"]).queryset = District.objects.for_regency(regency).order_by("name")
        district_id = (data or {}).get("district") or ""
        villages = Village.all_regencies.none()
        if str(district_id).isdigit():
            villages = Village.objects.for_regency(regency).filter(district_id=int(district_id)).order_by("name")
        cast(forms.ModelChoiceField, self.fields["village"]).queryset = villages
        self.fields["district"].widget.attrs["data-village-source"] = "1"

    def filters(self) -> dict:
        """Keyword arguments for `participants.selectors.participant_list`: valid values only."""
        self.is_valid()
        data = {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}
        district = data.get("district")
        village = data.get("village")
        return {
            "q": data.get("q") or "",
            "district_id": district.pk if district else None,
            "village_id": village.pk if village else None,
            "status": data.get("status") or "",
            "eligibility": data.get("eligibility") or "",
            "band": data.get("band") or "",
            "sort": data.get("sort") or DEFAULT_SORT,
        }
