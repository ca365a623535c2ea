"""Read-mostly admin for the national operator: transitions go through services only."""

from django.contrib import admin

from assessments.models import Assessment, Evidence, Screening, ScreeningSettings


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
    readonly_fields = ("flags", "recommendation", "priority", "family_size", "computed_at", "queued_on")


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
