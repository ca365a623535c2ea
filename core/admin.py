"""The audit trail (read-only: the database also refuses changes) and the outbox in the admin."""

from typing import Any

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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


class CappedCountPaginator(Paginator):
    """A paginator that counts at most `cap` + 1 rows (`SELECT count(*) FROM (... LIMIT cap + 1)`):
    the admin's page links then reach the first `cap` rows, and opening the list of a table with
    millions of rows costs the same as opening it with a hundred. Beyond the cap the admin says
    `cap` rows; narrowing the list (a filter, a search) reaches the older ones."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        """How many rows match, at most `cap`."""
        object_list: Any = self.object_list
        if isinstance(object_list, QuerySet):
            return min(object_list.order_by().values("pk")[: self.cap + 1].count(), self.cap)
        return min(len(object_list), self.cap)


class RecentValuesFilter(admin.SimpleListFilter):
    """A filter on one column whose choices are the values of the newest `sample` events, read
    from the primary key's index (a filter over every value would read the whole trail to list
    them). Any value still works in the URL: `?verb=...`."""

    sample = 5_000
    field_name = ""

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """The distinct values among the newest events, sorted."""
        recent = AuditEvent.objects.order_by("-id").values_list(self.field_name, flat=True)[: self.sample]
        return [(value, value) for value in sorted(set(recent))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        """The events with the chosen value (all when none is chosen)."""
        value = self.value()
        if value and "\x00" in value:
            return queryset.none()  # PostgreSQL refuses a NUL in a text parameter: no event has one
        return queryset.filter(**{self.field_name: value}) if value else queryset


class VerbFilter(RecentValuesFilter):
    title = gettext_lazy("tindakan")
    parameter_name = "verb"
    field_name = "verb"


class ObjectTypeFilter(RecentValuesFilter):
    title = gettext_lazy("jenis objek")
    parameter_name = "object_type"
    field_name = "object_type"


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The trail grows by millions of rows: the list is read newest first along the primary key
    (`ORDER BY id DESC LIMIT 101`), its count is capped (CappedCountPaginator) and never taken
    over the whole table (`show_full_result_count`), the filters' choices come from the newest
    events, dates filter by fixed ranges (the BRIN index on `created_at`), and a search compares
    whole values (`=`), not substrings of every row."""

    list_display = ["created_at", "verb", "object_type", "object_id", "actor", "regency"]
    list_filter = [VerbFilter, ObjectTypeFilter, ("created_at", admin.DateFieldListFilter), "regency"]
    search_fields = ["=object_id", "=verb", "=actor__email"]
    list_select_related = ["actor", "regency"]
    ordering = ["-id"]  # the primary key: newest first without sorting the whole trail
    sortable_by = ()  # another order would sort the whole trail
    paginator = CappedCountPaginator
    show_full_result_count = False
    readonly_fields = ["created_at", "verb", "object_type", "object_id", "actor", "regency", "before", "after"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[AuditEvent],
                           search_term: str) -> tuple[QuerySet[AuditEvent], bool]:
        """Whole values; a term with a NUL matches nothing (PostgreSQL refuses it as a parameter)."""
        if "\x00" in search_term:
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)


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
