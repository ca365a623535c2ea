"""The operator's view of arrears imports: stuck, failed and dead-lettered ones, with retry
and discard (both audited through the services). Nothing else is editable here."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ReadOnlyAdmin
from core.errors import DomainError
from participants import services
from participants.models import RUNNING_STATUSES, ArrearsImport, ImportStatus


def _stale_q() -> Q:
    stale = services._stale_before()
    return Q(status__in=RUNNING_STATUSES) & (Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True))


class HealthFilter(admin.SimpleListFilter):
    """What needs the operator: stuck (a worker stopped beating), failed, dead-lettered."""

    title = _("keadaan")
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [
            ("stuck", _("Macet (detak pekerja terhenti)")),
            ("failed", _("Gagal")),
            ("dead_letter", _("Gagal: terhenti dua kali (dead letter)")),
            ("awaiting", _("Menunggu konfirmasi")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "stuck":
            return queryset.filter(_stale_q())
        if value == "failed":
            return queryset.filter(status=ImportStatus.FAILED)
        if value == "dead_letter":
            return queryset.filter(status=ImportStatus.FAILED, attempts__gte=services.MAX_ATTEMPTS)
        if value == "awaiting":
            return queryset.filter(status=ImportStatus.AWAITING_CONFIRMATION)
        return queryset


@admin.register(ArrearsImport)
class ArrearsImportAdmin(ReadOnlyAdmin):
    """The detail page is for reading; status changes go through the actions (audited)."""

    list_display = [
        "id", "branch", "as_of", "mode", "status", "health", "progress", "attempts", "heartbeat_at",
        "rows", "created_at", "finished_at", "short_message",
    ]
    list_filter = [HealthFilter, "status", "mode", "branch"]
    list_select_related = ["branch"]
    search_fields = ["original_name", "sha256", "branch__code"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = ["retry_imports", "discard_imports"]
    exclude = ["errors"]

    @admin.display(description=_("keadaan"))
    def health(self, obj: ArrearsImport) -> str:
        if obj.status in RUNNING_STATUSES:
            stale = services._stale_before()
            if obj.heartbeat_at is None or obj.heartbeat_at < stale:
                return str(_("macet"))
            return str(_("berjalan"))
        if obj.status == ImportStatus.FAILED and obj.attempts >= services.MAX_ATTEMPTS:
            return str(_("dead letter"))
        return ""

    @admin.display(description=_("pesan"))
    def short_message(self, obj: ArrearsImport) -> str:
        text = obj.message or ""
        return text if len(text) <= 90 else text[:87] + "..."

    def _each(self, request, queryset, action, done_message):
        done = 0
        for arrears_import in queryset.select_related("branch"):
            try:
                action(arrears_import=arrears_import, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"#{arrears_import.pk}: {exc.detail}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done), messages.SUCCESS)

    @admin.action(description=_("Coba lagi dari berkas tersimpan (percobaan diulang dari nol)"),
                  permissions=["view"])
    def retry_imports(self, request, queryset):
        self._each(request, queryset, services.import_retry,
                   lambda n: ngettext("%(n)d impor diantrekan lagi.", "%(n)d impor diantrekan lagi.", n) % {"n": n})

    @admin.action(description=_("Batalkan (tidak diterapkan; staging dihapus)"), permissions=["view"])
    def discard_imports(self, request, queryset):
        self._each(request, queryset, services.import_discard,
                   lambda n: ngettext("%(n)d impor dibatalkan.", "%(n)d impor dibatalkan.", n) % {"n": n})

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["title"] = _("Impor tunggakan (per %(now)s)") % {
            "now": timezone.localtime().strftime("%Y-%m-%d %H:%M")
        }
        return super().changelist_view(request, extra_context)
