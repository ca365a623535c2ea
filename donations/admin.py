"""Admin for the national operator: tariffs are edited here; pledges and payments are read-only
(their transitions go through services, with the audit trail)."""

from django.contrib import admin

from donations.models import (
    Allocation,
    Campaign,
    DonorProfile,
    Gift,
    Handover,
    HandoverLine,
    LedgerEntry,
    Payment,
    Pledge,
    ProviderNotification,
    Tariff,
)


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ("care_class", "amount", "effective_from", "note")
    list_filter = ("care_class",)
    ordering = ("care_class", "-effective_from")

    # The national operator (superuser) edits tariffs; nobody deletes one (pledges cite them).
    def has_module_permission(self, request):
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DonorProfile)
class DonorProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "display_name", "is_anonymous", "organisation", "created_at")
    search_fields = ("user__email", "display_name")
    raw_id_fields = ("user",)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "regency", "audience", "kind", "status", "starts_on", "ends_on")
    list_filter = ("regency", "audience", "kind", "status")
    list_select_related = ("regency",)
    raw_id_fields = ("created_by",)


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Pledge)
class PledgeAdmin(_ReadOnly):
    list_display = ("public_id", "campaign", "regency", "status", "amount", "is_pooled", "created_at")
    list_filter = ("regency", "status", "is_pooled")
    list_select_related = ("campaign", "regency")
    raw_id_fields = ("participant", "donor", "campaign", "arrears_import")


@admin.register(Payment)
class PaymentAdmin(_ReadOnly):
    list_display = ("reference", "pledge", "amount", "paid_on", "created_at")
    raw_id_fields = ("pledge", "recorded_by")


@admin.register(Gift)
class GiftAdmin(_ReadOnly):
    list_display = ("reference", "campaign", "amount", "received", "created_at")
    list_filter = ("received",)
    raw_id_fields = ("donor", "campaign", "received_by")


@admin.register(Allocation)
class AllocationAdmin(_ReadOnly):
    list_display = ("gift", "pledge", "amount", "created_at")
    raw_id_fields = ("gift", "pledge")


@admin.register(ProviderNotification)
class ProviderNotificationAdmin(_ReadOnly):
    """Every provider notification kept, read-only: `unmatched` ones (an order that is no pledge's
    payment code, so no regency) are for the national operator to follow up with the provider."""

    list_display = ("received_at", "provider", "transaction_id", "order_id", "transaction_status", "gross_amount",
                    "outcome", "regency")
    list_filter = ("outcome", "provider", "transaction_status")
    list_select_related = ("regency",)
    search_fields = ("transaction_id", "order_id")
    raw_id_fields = ("regency", "payment")


class HandoverLineInline(admin.TabularInline):
    model = HandoverLine
    fields = ("va_number", "members", "amount")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Handover)
class HandoverAdmin(_ReadOnly):
    """Hand-over batches to BPJS, read-only: they are made and marked transferred by the treasurer."""

    list_display = ("number", "campaign", "regency", "status", "families", "total", "transferred_at", "created_at")
    list_filter = ("regency", "status")
    list_select_related = ("campaign", "regency")
    raw_id_fields = ("campaign", "created_by")
    inlines = [HandoverLineInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(_ReadOnly):
    """The append-only ledger (the database refuses changes as well)."""

    list_display = ("created_at", "campaign", "kind", "source", "amount", "pledge", "handover")
    list_filter = ("regency", "kind", "source")
    list_select_related = ("campaign", "pledge", "handover")
    raw_id_fields = ("campaign", "pledge", "payment", "statement_line", "handover", "settles", "actor")
