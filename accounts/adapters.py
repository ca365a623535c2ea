"""allauth adapter: who may sign up, where each user lands after login, how e-mails read."""

from types import SimpleNamespace

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.core.internal import ratelimit
from django import forms
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.translation import gettext as _

from accounts.signals import user_self_signed_up
from core.clientip import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request):
        # Every allauth rate limit (login, failed logins, sign-up, password reset) counts per
        # this address: the same one DRF's throttles use (trusted proxies: DJANGO_NUM_PROXIES).
        return client_ip(request)

    def clean_email(self, email: str) -> str:
        # Sign-up per account: allauth limits sign-ups per address only; an e-mail address
        # (new, or already registered, which sends "you already have an account") can be
        # submitted only a few times an hour, so nobody floods someone's inbox from many clients.
        email = super().clean_email(email)
        request = getattr(self, "request", None) or context.request
        if (request is not None and request.method == "POST"
                and request.resolver_match is not None
                and request.resolver_match.url_name == "account_signup"):
            # allauth cleans the address more than once per sign-up: count it once.
            counted = getattr(request, "_signup_email_allowed", None)
            if counted is None:
                counted = request._signup_email_allowed = bool(ratelimit.consume(
                    request, app="allauth.account", action="signup_email", key=email.lower()))
            if not counted:
                raise forms.ValidationError(
                    _("Terlalu sering mendaftar dengan alamat e-mail ini. Coba lagi nanti.")
                )
        return email

    def get_login_redirect_url(self, request):
        return reverse("home")

    def save_user(self, request, user, form, commit=True):
        # Self sign-up is for community donors (the donations app gives them a profile on this
        # signal); staff arrive by invitation.
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            user_self_signed_up.send(sender=type(self), user=user)
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
