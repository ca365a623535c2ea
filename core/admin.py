"""The audit trail (read-only: the database also refuses changes) and the outbox in the admin."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _

from core.models import AuditEvent, OutboxMessage


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


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Work waiting for the broker (core.outbox): read-only; "send now" runs the relay."""

    list_display = ["id", "task", "queue", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter), "queue", "task"]
    search_fields = ["task"]
    ordering = ["-id"]
    readonly_fields = ["task", "args", "kwargs", "queue", "created_at", "sent_at", "attempts", "last_error"]
    actions = ["send_now"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

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
