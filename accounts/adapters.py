"""allauth adapter: who may sign up, where each user lands after login, how e-mails read."""

from types import SimpleNamespace

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.translation import gettext as _


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        return reverse("home")

    def save_user(self, request, user, form, commit=True):
        # Self sign-up is for community donors; staff arrive by invitation.
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            from donations.services import donor_profile_ensure

            donor_profile_ensure(user=user)
        return user

    def format_email_subject(self, subject: str) -> str:
        return f"[{_('Satu untuk Satu')}] {force_str(subject)}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # allauth's e-mails greet "from <site name>": use the product's name and the host
        # the visitor used, not the placeholder django.contrib.sites row.
        request = getattr(self, "request", None)
        host = request.get_host() if request is not None else ""
        context.setdefault("current_site", SimpleNamespace(name=_("Satu untuk Satu"), domain=host))
        super().send_mail(template_prefix, email, context)
