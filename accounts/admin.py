"""Users in the admin: e-mail is the login, there is no username."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.forms import EmailUserChangeForm, EmailUserCreationForm
from accounts.models import User

# The admin logs in through allauth (its MFA step and rate limits), never its own form:
# /admin/login/ sends visitors to the allauth login with `next`; a signed-in non-staff user gets 403.
admin.site.login = secure_admin_login(admin.site.login)


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
