"""allauth adapter: who may sign up, and where each user lands after login."""

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse


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
