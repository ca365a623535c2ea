"""Signals the accounts app sends; the apps above it connect to them in their AppConfig.ready."""

import django.dispatch

# Sent with `user` once a self sign-up has saved its user (staff arrive by invitation, which
# does not send it): self sign-up is for community donors, so donations gives them a profile.
user_self_signed_up = django.dispatch.Signal()
