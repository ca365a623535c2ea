"""API input and output shapes of imports and participants."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from participants.forms import validate_arrears_file
from participants.imports.messages import localise
from participants.models import ArrearsImport, ImportMode, Participant, ParticipantStatus
from participants.selectors import ELIGIBILITY_CHOICES, import_error_total


class ImportCreateInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=_("Daftar tunggakan, CSV atau XLSX."),
        error_messages={"required": _("Lampirkan berkas CSV atau XLSX di kolom `file`."),
                        "empty": _("Berkas kosong (0 byte)."),
                        "invalid": _("Kolom `file` harus berupa berkas (multipart/form-data).")},
    )
    branch = serializers.SlugField(
        help_text=_("Kode cabang BPJS, mis. `palopo`."),
        error_messages={"required": _("Isi kode cabang (`branch`), mis. palopo.")},
    )
    as_of = serializers.DateField(
        input_formats=["%Y-%m-%d"],
        help_text=_("Tanggal data, TTTT-BB-HH."),
        error_messages={"required": _("Isi tanggal data (`as_of`), TTTT-BB-HH."),
                        "invalid": _("Tanggal harus berformat TTTT-BB-HH.")},
    )
    mode = serializers.ChoiceField(
        choices=ImportMode.choices, default=ImportMode.PARTIAL,
        help_text=_("`partial` (bawaan): sebagian; `full`: daftar lengkap cabang (peserta yang tidak ada "
                    "ditandai keluar; bila terlalu banyak atau melepas janji donasi aktif, impor menunggu "
                    "konfirmasi)."),
        error_messages={"invalid_choice": _("`mode` harus `full` atau `partial`.")},
    )

    def validate_file(self, value):
        try:
            validate_arrears_file(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return value


class ImportCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    duplicate = serializers.BooleanField(required=False)


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


class ImportListItemSerializer(serializers.ModelSerializer):
    branch = serializers.CharField(source="branch.code")
    uploaded_by = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = ArrearsImport
        fields = [
            "id", "url", "branch", "as_of", "mode", "status", "progress", "original_name", "uploaded_by",
            "created_at", "finished_at", "rows", "valid", "invalid", "new", "updated", "unchanged",
            "cleared", "is_outdated",
        ]

    def get_uploaded_by(self, obj: ArrearsImport) -> str | None:
        return obj.uploaded_by.email if obj.uploaded_by is not None else None

    def get_url(self, obj: ArrearsImport) -> str:
        return _absolute(self.context.get("request"), reverse("api_import_detail", kwargs={"import_id": obj.pk}))


class StoredMessageField(serializers.CharField):
    """A message the import worker stored in Indonesian, read in the request's language."""

    def to_representation(self, value: str) -> str:
        return localise(super().to_representation(value))


class ImportSummarySerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    valid = serializers.IntegerField()
    invalid = serializers.IntegerField()
    new = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    cleared = serializers.IntegerField()
    regencies = serializers.DictField(child=serializers.IntegerField(), source="regency_counts")
    is_outdated = serializers.BooleanField()
    message = StoredMessageField()
    warning_count = serializers.IntegerField(
        help_text=_("Baris yang diterima tetapi ditandai (mis. tagihan lebih dari 24 bulan)."))
    warnings = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_warnings(self, obj: ArrearsImport) -> list[dict]:
        """The first 50 warnings: `row`, `column`, `message` (rows accepted but flagged)."""
        return [{"row": w.get("row"), "column": w.get("column"),
                 "message": localise(str(w["message"])) if w.get("message") else w.get("message")}
                for w in (obj.warnings or [])[:50]]


class ImportPreviewSerializer(serializers.Serializer):
    would_clear = serializers.IntegerField(help_text=_("Peserta yang akan ditandai keluar dari daftar."))
    would_clear_by_regency = serializers.DictField(child=serializers.IntegerField())
    pledges_released = serializers.IntegerField(help_text=_("Janji donasi aktif yang akan dilepas."))


class ImportDetailSerializer(serializers.ModelSerializer):
    summary = serializers.SerializerMethodField()
    preview = serializers.SerializerMethodField()
    errors_url = serializers.SerializerMethodField()
    errors_api_url = serializers.SerializerMethodField()

    class Meta:
        model = ArrearsImport
        fields = ["id", "status", "progress", "summary", "preview", "errors_url", "errors_api_url"]

    @extend_schema_field(ImportPreviewSerializer(allow_null=True))
    def get_preview(self, obj: ArrearsImport) -> dict | None:
        """A full list: what it clears and releases (null for a partial list)."""
        from participants.services import _public_preview

        return _public_preview(obj.preview)

    def _has_errors(self, obj: ArrearsImport) -> bool:
        cache = self.context.setdefault("has_errors", {})
        if obj.pk not in cache:
            cache[obj.pk] = bool(import_error_total(arrears_import=obj))
        return cache[obj.pk]

    @extend_schema_field(ImportSummarySerializer)
    def get_summary(self, obj: ArrearsImport) -> dict:
        return ImportSummarySerializer(obj).data

    def get_errors_url(self, obj: ArrearsImport) -> str | None:
        if not self._has_errors(obj):
            return None
        path = reverse("import_errors_csv", kwargs={"branch_code": obj.branch.code, "import_id": obj.pk})
        return _absolute(self.context.get("request"), path)

    def get_errors_api_url(self, obj: ArrearsImport) -> str | None:
        if not self._has_errors(obj):
            return None
        return _absolute(self.context.get("request"), reverse("api_import_errors", kwargs={"import_id": obj.pk}))


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField()
    message = serializers.CharField()
    value = serializers.CharField()


class ParticipantFilterSerializer(serializers.Serializer):
    """Query parameters of the participant list; an unknown value is a 400 naming the parameter."""

    search = serializers.CharField(required=False, allow_blank=True, max_length=100)
    status = serializers.ChoiceField(
        choices=ParticipantStatus.choices, required=False, allow_blank=True,
        error_messages={"invalid_choice": _("Status tidak dikenal: \"{input}\".")},
    )
    eligibility = serializers.ChoiceField(
        choices=ELIGIBILITY_CHOICES, required=False, allow_blank=True,
        error_messages={"invalid_choice": _("Kelayakan tidak dikenal: \"{input}\".")},
    )


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


class ParticipantSerializer(serializers.ModelSerializer):
    """The staff field set: exactly these fields."""

    nik_masked = serializers.CharField(read_only=True)
    district = serializers.SerializerMethodField()
    village = serializers.SerializerMethodField()
    family_card_number = serializers.SerializerMethodField()
    eligibility = serializers.ChoiceField(choices=ELIGIBILITY_CHOICES, read_only=True)

    class Meta:
        model = Participant
        fields = [
            "public_id", "card_number", "nik_masked", "name", "birth_date", "sex", "care_class", "segment",
            "district", "village", "family_card_number", "months_in_arrears", "arrears_amount",
            "last_paid_date", "status", "eligibility",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Participant) -> dict[str, Any]:
        """The fields above as DRF writes them (ISO dates, the UUID as text, choices as their
        codes), in one dict per row: DRF's generic walk costs about 25 function calls a field,
        800 fields a page. `test_api_participants` holds the two equal."""
        p = instance
        return {
            "public_id": str(p.public_id),
            "card_number": p.card_number,
            "nik_masked": p.nik_masked,
            "name": p.name,
            "birth_date": _iso(p.birth_date),
            "sex": p.sex,
            "care_class": p.care_class,
            "segment": p.segment,
            "district": self.get_district(p),
            "village": self.get_village(p),
            "family_card_number": self.get_family_card_number(p),
            "months_in_arrears": p.months_in_arrears,
            "arrears_amount": p.arrears_amount,
            "last_paid_date": _iso(p.last_paid_date),
            "status": p.status,
            "eligibility": p.eligibility,  # type: ignore[attr-defined]  # the list's annotation
        }

    def get_district(self, obj: Participant) -> str | None:
        return obj.district.name if obj.district is not None else None

    def get_village(self, obj: Participant) -> str | None:
        return obj.village.name if obj.village is not None else None

    def get_family_card_number(self, obj: Participant) -> str | None:
        return obj.family.number if obj.family is not None else None

