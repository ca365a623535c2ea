"""Users in the admin: e-mail is the login, there is no username."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.forms import EmailUserChangeForm, EmailUserCreationForm
from accounts.models import ApiToken, User
from core.admin import ReadOnlyAdmin

# The admin logs in through allauth (its MFA step and rate limits), never its own form:
# /admin/login/ sends visitors to the allauth login with `next`; a signed-in non-staff user gets 403.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]  # allauth's documented replacement


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    list_display = ["email", "full_name", "is_active", "is_staff", "last_login", "date_joined"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "full_name"]
    ordering = ["email"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Data pribadi"), {"fields": ("full_name",)}),
        (_("Hak akses"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Tanggal penting"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {
            "classes": ("wide",),
            "fields": ("email", "full_name", "usable_password", "password1", "password2"),
        }),
    )


_TOKEN_COLUMNS = ("prefix", "user", "name", "created_at", "expires_at", "last_used_at", "revoked_at",
                  "revoked_reason")


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """API tokens for the national operator: who has which, and a revoke action (audited).
    The secret is never stored, so never shown; tokens are made by their owners only."""

    list_display = _TOKEN_COLUMNS
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "revoked_reason"]
    search_fields = ["user__email", "name", "prefix"]
    list_select_related = ["user"]
    readonly_fields = _TOKEN_COLUMNS
    fields = _TOKEN_COLUMNS
    actions = ["revoke"]

    @admin.action(description=_("Cabut token yang dipilih"), permissions=["view"])
    def revoke(self, request, queryset):
        from accounts.tokens import token_revoke

        live = queryset.filter(revoked_at__isnull=True)
        count = 0
        for token in live:
            token_revoke(token=token, actor=request.user, reason="admin")
            count += 1
        self.message_user(request, _("%(n)s token dicabut.") % {"n": count})
