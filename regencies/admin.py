"""Django admin for the national operator: tenants, branches, places, memberships, invitations.

Tenant models are listed through `Model.all_regencies`: the admin is one of the few
places where a cross-regency view is intended.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from regencies.models import (
    BpjsBranch,
    BranchMembership,
    ContributionShare,
    District,
    Invitation,
    Membership,
    Regency,
    Village,
)


class AllRegenciesAdmin(admin.ModelAdmin):
    """Base for tenant models: an explicit, cross-regency queryset."""

    def get_queryset(self, request):
        qs = self.model.all_regencies.get_queryset()
        ordering = self.get_ordering(request)
        if ordering:
            qs = qs.order_by(*ordering)
        return qs


class BranchInline(admin.TabularInline):
    model = BpjsBranch.regencies.through
    extra = 0
    verbose_name = _("cabang BPJS Kesehatan")
    verbose_name_plural = _("cabang BPJS Kesehatan")
    autocomplete_fields = ["bpjsbranch"]


@admin.register(Regency)
class RegencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "slug", "timezone", "population", "jkn_participants", "active_rate_target"]
    list_filter = ["kind", "timezone", "branches"]
    search_fields = ["code", "name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [BranchInline]
    ordering = ["name"]


@admin.register(BpjsBranch)
class BpjsBranchAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "timezone"]
    search_fields = ["code", "name"]
    filter_horizontal = ["regencies"]


@admin.register(District)
class DistrictAdmin(AllRegenciesAdmin):
    list_display = ["code", "name", "regency"]
    list_filter = ["regency"]
    search_fields = ["code", "name"]
    list_select_related = ["regency"]
    ordering = ["regency__name", "name"]


@admin.register(Village)
class VillageAdmin(AllRegenciesAdmin):
    list_display = ["code", "name", "district", "regency"]
    list_filter = ["regency"]
    search_fields = ["code", "name", "district__name"]
    list_select_related = ["regency", "district"]
    raw_id_fields = ["district"]
    ordering = ["regency__name", "district__name", "name"]


@admin.register(Membership)
class MembershipAdmin(AllRegenciesAdmin):
    list_display = ["user", "regency", "role", "is_active", "created_at"]
    list_filter = ["regency", "role", "is_active"]
    search_fields = ["user__email", "user__full_name"]
    list_select_related = ["user", "regency"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["districts"]
    ordering = ["regency__name", "user__email"]


@admin.register(BranchMembership)
class BranchMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "branch", "role", "is_active", "created_at"]
    list_filter = ["branch", "role", "is_active"]
    search_fields = ["user__email", "user__full_name"]
    list_select_related = ["user", "branch"]
    autocomplete_fields = ["user"]


@admin.register(Invitation)
class InvitationAdmin(AllRegenciesAdmin):
    list_display = ["email", "regency", "role", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["regency", "role"]
    search_fields = ["email"]
    list_select_related = ["regency", "invited_by"]
    readonly_fields = ["token", "created_at", "accepted_at"]
    autocomplete_fields = ["invited_by"]
    ordering = ["-created_at"]


@admin.register(ContributionShare)
class ContributionShareAdmin(admin.ModelAdmin):
    """The regency's share of the class III contribution, effective-dated (the dashboard's budget effect)."""

    list_display = ("care_class", "regency_amount", "effective_from", "note")
    ordering = ("care_class", "-effective_from")
