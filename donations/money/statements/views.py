"""Bank statement pages of a regency (treasurer, regency admin): upload and list; one statement's
report (counts, row errors, the lines a person must look at), refreshed while it runs. Thin."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import DomainError
from donations.money.statements import selectors, services
from donations.money.statements.services import FINISHED
from regencies.permissions import require_perm
from regencies.roles import Perm


class StatementUploadForm(forms.Form):
    campaign = forms.ChoiceField(label=gettext_lazy("Kampanye"))
    file = forms.FileField(label=gettext_lazy("Berkas mutasi (CSV atau XLSX)"))

    def __init__(self, *args, campaigns, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["campaign"]).choices = [(c.slug, c.title) for c in campaigns]


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_MONEY)
def statement_list(request, regency_slug: str):
    regency = request.regency
    campaigns = list(selectors.collected_campaigns(regency=regency))
    form = StatementUploadForm(request.POST or None, request.FILES or None, campaigns=campaigns)
    if request.method == "POST" and form.is_valid():
        campaign = next(c for c in campaigns if c.slug == form.cleaned_data["campaign"])
        try:
            statement = services.statement_upload(regency=regency, campaign=campaign, actor=request.user,
                                                  file=form.cleaned_data["file"])
        except DomainError as exc:
            form.add_error("file", str(exc.detail))
        else:
            messages.success(request, _("Mutasi diunggah dan sedang dicocokkan."))
            return redirect("statement_detail", regency_slug=regency.slug, statement_id=statement.pk)
    return render(request, "donations/money/statements.html", {
        "regency": regency, "form": form, "campaigns": campaigns,
        "statements": selectors.statement_list(regency=regency)[:100],
    })


@require_GET
@require_perm(Perm.MANAGE_MONEY)
def statement_detail(request, regency_slug: str, statement_id: int):
    statement = selectors.statement_get_for_user(user=request.user, statement_id=statement_id,
                                                 regency=request.regency)
    finished = statement.status in FINISHED
    context = {
        "regency": request.regency, "statement": statement, "finished": finished,
        "lines": selectors.statement_open_lines(statement=statement) if finished else None,
        "errors": statement.errors[:500], "error_total": len(statement.errors),
    }
    if request.headers.get("HX-Request"):
        return render(request, "donations/money/_statement_report.html", context)
    return render(request, "donations/money/statement_detail.html", context)
