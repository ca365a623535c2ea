"""The audit trail in the admin: read-only (the database also refuses changes)."""

from django.contrib import admin

from core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "verb", "object_type", "object_id", "actor", "regency"]
    list_filter = ["verb", "object_type", "regency"]
    search_fields = ["object_id", "verb", "actor__email"]
    list_select_related = ["actor", "regency"]
    date_hierarchy = "created_at"
    ordering = ["-id"]  # the primary key: newest first without sorting the whole trail
    readonly_fields = ["created_at", "verb", "object_type", "object_id", "actor", "regency", "before", "after"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
