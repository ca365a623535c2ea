"""The landing page: what the movement is, or what the signed-in user can do."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from regencies.selectors import user_places


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    context: dict = {}
    if request.user.is_authenticated:
        context.update(user_places(user=request.user))
    return render(request, "home.html", context)
