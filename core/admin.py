"""The audit trail (read-only: the database also refuses changes) and the outbox in the admin."""

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from core.models import AuditEvent, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the admin shows but never adds, edits or deletes: they change only through services
    (audited), or never. Actions that need a permission ask for "view"."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NationalDataAdmin(admin.ModelAdmin):
    """National reference data (tariffs, write-off programmes): only the national operator (an
    active superuser) sees, adds and edits it; nobody deletes a row, other records cite it."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "verb", "object_type", "object_id", "actor", "regency"]
    list_filter = ["verb", "object_type", "regency"]
    search_fields = ["object_id", "verb", "actor__email"]
    list_select_related = ["actor", "regency"]
    date_hierarchy = "created_at"
    ordering = ["-id"]  # the primary key: newest first without sorting the whole trail
    readonly_fields = ["created_at", "verb", "object_type", "object_id", "actor", "regency", "before", "after"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """Work waiting for the broker (core.outbox): read-only; "send now" runs the relay."""

    list_display = ["id", "task", "queue", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter), "queue", "task"]
    search_fields = ["task"]
    ordering = ["-id"]
    readonly_fields = ["task", "args", "kwargs", "queue", "created_at", "sent_at", "attempts", "last_error"]
    actions = ["send_now"]

    @admin.action(description=_("Kirim sekarang pesan yang belum terkirim (relay outbox)"))
    def send_now(self, request, queryset):
        from core.audit import audit_record
        from core.outbox import relay

        result = relay(grace_seconds=0)
        audit_record(actor=request.user, verb="outbox.relayed", object_type="core.outboxmessage",
                     object_id="", after=result)
        self.message_user(
            request,
            _("Terkirim %(sent)s, menunggu %(waiting)s, broker %(broker)s.") % result,
            level=messages.SUCCESS if result["broker"] == "ok" else messages.WARNING,
        )
