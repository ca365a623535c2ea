"""Read-mostly admin for the national operator: transitions go through services only."""

from django import forms
from django.contrib import admin
from django.contrib.postgres.forms import SimpleArrayField
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from assessments.models import Assessment, Evidence, Screening, ScreeningSettings, WriteOffProgramme
from core.admin import NationalDataAdmin
from core.audit import audit_record

_PROGRAMME_FIELDS = ("name", "legal_basis", "starts_on", "ends_on", "deciles_automatic", "deciles_may_apply",
                     "care_classes", "segments", "months_counted", "once_per_person", "note")


class WriteOffProgrammeForm(forms.ModelForm):
    """Lists as comma-separated values ("1,2,3,4"; "PBPU,BP"); the model's `clean` checks them."""

    deciles_automatic = SimpleArrayField(forms.IntegerField(min_value=1, max_value=10), required=False,
                                         label=_("desil dihapus otomatis"), help_text=_("mis. 1,2,3,4"))
    deciles_may_apply = SimpleArrayField(forms.IntegerField(min_value=1, max_value=10), required=False,
                                         label=_("desil yang dapat mengajukan"), help_text=_("mis. 5,6,7,8,9,10"))
    care_classes = SimpleArrayField(forms.IntegerField(min_value=1, max_value=3),
                                    label=_("kelas rawat yang dicakup"), help_text=_("mis. 3"))
    segments = SimpleArrayField(forms.CharField(max_length=4), label=_("segmen yang dicakup"),
                                help_text=_("PBPU,BP"))

    class Meta:
        model = WriteOffProgramme
        fields = _PROGRAMME_FIELDS


@admin.register(WriteOffProgramme)
class WriteOffProgrammeAdmin(NationalDataAdmin):
    """National data: the national operator (superuser) adds and edits programmes as the rules
    become known; every change is audited. Nobody deletes one (assessments cite it)."""

    form = WriteOffProgrammeForm
    list_display = ("name", "starts_on", "ends_on", "deciles_automatic", "deciles_may_apply", "care_classes",
                    "segments", "months_counted", "once_per_person", "updated_at")
    readonly_fields = ("updated_at",)

    def save_model(self, request, obj, form, change):
        def values(o):
            return {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                    for k, v in ((f, getattr(o, f)) for f in _PROGRAMME_FIELDS)}

        before = values(WriteOffProgramme.objects.get(pk=obj.pk)) if change and obj.pk else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(actor=request.user, verb="writeoff_programme.changed" if change else
                         "writeoff_programme.created", obj=obj, before=before, after=values(obj))


@admin.register(ScreeningSettings)
class ScreeningSettingsAdmin(admin.ModelAdmin):
    list_display = ("regency", "cleared_min_months", "relapse_within_months", "short_arrears_months",
                    "validity_months", "updated_at")
    list_select_related = ("regency",)
    readonly_fields = ("updated_at", "updated_by")


@admin.register(Screening)
class ScreeningAdmin(admin.ModelAdmin):
    list_display = ("participant", "regency", "recommendation", "priority", "family_size", "computed_at")
    list_filter = ("regency", "recommendation")
    list_select_related = ("participant", "regency")
    raw_id_fields = ("participant", "arrears_import", "assigned_to")
    readonly_fields = ("flags", "recommendation", "priority", "priority_base", "queue_rank", "family_size",
                       "computed_at", "queued_on")


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ("pk", "participant", "regency", "status", "outcome", "reason_code", "valid_until")
    list_filter = ("regency", "status", "outcome")
    list_select_related = ("participant", "regency")
    raw_id_fields = ("participant",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    list_display = ("pk", "assessment", "content_type", "size_bytes", "uploaded_at")
    list_select_related = ("assessment",)

    def has_change_permission(self, request, obj=None):
        return False
