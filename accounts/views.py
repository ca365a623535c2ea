"""The account's API tokens page. (The landing page is `reporting.views.home`.)"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts import tokens

# --- API tokens (the account page) -------------------------------------------------------------


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Nama token"), max_length=100, required=True,
                           help_text=gettext_lazy("Untuk apa token ini, mis. \"skrip impor kantor cabang\"."))


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's API tokens: list, create (the secret shown once, on this response only)."""
    form = TokenCreateForm(request.POST or None)
    created_secret = None
    created_token = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            created_token, created_secret = tokens.token_create(user=request.user,
                                                                name=form.cleaned_data["name"])
            form = TokenCreateForm()
        else:
            status = 400
    response = render(request, "account/api_tokens.html", {
        "form": form,
        "tokens": tokens.tokens_for_user(user=request.user),
        "created_secret": created_secret,
        "created_token": created_token,
        "token_days": tokens.token_lifetime().days,
    }, status=status)
    # The secret is on this page once: never cached, never shown again.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """GET: ask for confirmation; POST: revoke. Another user's token is a 404."""
    token = get_object_or_404(tokens.tokens_for_user(user=request.user), pk=token_id)
    if request.method == "POST":
        tokens.token_revoke(token=token, actor=request.user, reason="user")
        messages.success(request, _("Token \"%(name)s\" dicabut; aplikasi yang memakainya tidak bisa masuk lagi.")
                         % {"name": token.name or token.prefix})
        return redirect("api_tokens")
    return render(request, "account/api_token_revoke.html", {"token": token})
