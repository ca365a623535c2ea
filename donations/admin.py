"""Admin for the national operator: tariffs are edited here; pledges and payments are read-only
(their transitions go through services, with the audit trail)."""

from django.contrib import admin

from core.admin import NationalDataAdmin, ReadOnlyAdmin
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
class TariffAdmin(NationalDataAdmin):
    """Edited by the national operator; pledges cite a tariff, so none is deleted."""

    list_display = ("care_class", "amount", "effective_from", "note")
    list_filter = ("care_class",)
    ordering = ("care_class", "-effective_from")


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


@admin.register(Pledge)
class PledgeAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "campaign", "regency", "status", "amount", "is_pooled", "created_at")
    list_filter = ("regency", "status", "is_pooled")
    list_select_related = ("campaign", "regency")
    raw_id_fields = ("participant", "donor", "campaign", "arrears_import")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("reference", "pledge", "amount", "paid_on", "created_at")
    raw_id_fields = ("pledge", "recorded_by")


@admin.register(Gift)
class GiftAdmin(ReadOnlyAdmin):
    list_display = ("reference", "campaign", "amount", "received", "created_at")
    list_filter = ("received",)
    raw_id_fields = ("donor", "campaign", "received_by")


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = ("gift", "pledge", "amount", "created_at")
    raw_id_fields = ("gift", "pledge")


@admin.register(ProviderNotification)
class ProviderNotificationAdmin(ReadOnlyAdmin):
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
class HandoverAdmin(ReadOnlyAdmin):
    """Hand-over batches to BPJS, read-only: they are made and marked transferred by the treasurer."""

    list_display = ("number", "campaign", "regency", "status", "families", "total", "transferred_at", "created_at")
    list_filter = ("regency", "status")
    list_select_related = ("campaign", "regency")
    raw_id_fields = ("campaign", "created_by")
    inlines = [HandoverLineInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """The append-only ledger (the database refuses changes as well)."""

    list_display = ("created_at", "campaign", "kind", "source", "amount", "pledge", "handover")
    list_filter = ("regency", "kind", "source")
    list_select_related = ("campaign", "pledge", "handover")
    raw_id_fields = ("campaign", "pledge", "payment", "statement_line", "handover", "settles", "actor")
