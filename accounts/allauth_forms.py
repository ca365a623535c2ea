"""allauth's password forms, saying when the two passwords differ.

allauth compares the two passwords only once the first has passed the validators, so a
common password typed differently twice was reported only as "too common"; the person then
fixed the password and met a second error. These forms report both at once.
"""

from __future__ import annotations

from typing import Any

from allauth.account import forms as allauth_forms
from django.utils.translation import gettext as _


class PasswordsDifferMixin:
    """Adds "the two passwords differ" to password2 whenever the typed values differ."""

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        form: Any = self  # a forms.Form: data, _errors, add_prefix and add_error are its own
        first = form.data.get(form.add_prefix("password1")) or ""
        second = form.data.get(form.add_prefix("password2")) or ""
        if first and second and first != second and "password2" not in form._errors:
            form.add_error("password2", _("Kedua kata sandi tidak sama."))
        return cleaned


class SignupForm(PasswordsDifferMixin, allauth_forms.SignupForm):
    pass


class ChangePasswordForm(PasswordsDifferMixin, allauth_forms.ChangePasswordForm):
    pass


class SetPasswordForm(PasswordsDifferMixin, allauth_forms.SetPasswordForm):
    pass


class ResetPasswordKeyForm(PasswordsDifferMixin, allauth_forms.ResetPasswordKeyForm):
    pass
