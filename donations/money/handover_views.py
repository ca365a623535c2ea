"""The treasurer's pages: the money hub `/r/<regency_slug>/money/` (every campaign's ledger, the
hand-overs to BPJS), one hand-over batch, and one campaign's ledger with refunds. Thin: the
selectors and services are in donations.money.handovers. Only `Perm.MANAGE_MONEY`."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from core.formatting import format_rupiah
from donations import selectors
from donations.models import HandoverStatus, Pledge
from donations.money import handovers
from donations.money.handover_api import handover_download
from donations.money.ledger import LedgerBalance, ledger_balance
from regencies.permissions import require_perm
from regencies.roles import Perm


class TransferredForm(forms.Form):
    reference = forms.CharField(label=gettext_lazy("Nomor referensi transfer dari bank"), max_length=64)
    transferred_at = forms.DateField(label=gettext_lazy("Tanggal transfer"),
                                     widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    confirm = forms.BooleanField(label=gettext_lazy(
        "Saya sudah mentransfer total batch ini ke rekening BPJS Kesehatan dan memeriksa nomor referensinya."))


class RefundForm(forms.Form):
    amount = forms.IntegerField(label=gettext_lazy("Jumlah dikembalikan (Rp)"), min_value=1, max_value=10**12)
    note = forms.CharField(label=gettext_lazy("Ke mana dan mengapa (mis. kelebihan bayar, ke rekening donatur)"),
                           max_length=200)
    pledge = forms.CharField(label=gettext_lazy("Kode pembayaran janji (kosongkan untuk uang tanpa janji)"),
                             max_length=12, required=False)


@require_GET
@require_perm(Perm.MANAGE_MONEY)
def money_home(request, regency_slug: str):
    regency = request.regency
    balances = handovers.ledger_balances(regency=regency)
    rows = []
    for campaign in selectors.campaign_list_for_regency(regency=regency):
        balance = balances.get(campaign.pk, LedgerBalance(0, 0, 0))
        if not campaign.is_collected and not balance.waiting:
            continue  # paid straight into the family VAs: nothing waits here
        ready = handovers.handover_candidates(campaign=campaign)
        rows.append({"campaign": campaign, "balance": balance, "ready_families": len(ready),
                     "ready_total": sum(line.amount for line in ready)})
    page = Paginator(handovers.handover_list(regency=regency), 25).get_page(request.GET.get("page"))
    return render(request, "donations/money/home.html", {"regency": regency, "rows": rows, "page": page})


@require_POST
@require_perm(Perm.MANAGE_MONEY)
def handover_create(request, regency_slug: str):
    regency = request.regency
    try:
        campaign = selectors.campaign_get_for_regency(regency=regency, slug=request.POST.get("campaign", ""))
    except Http404:
        messages.error(request, _("Pilih kampanye yang akan diserahkan."))
        return redirect("money_home", regency_slug=regency.slug)
    try:
        handover = handovers.handover_create(regency=regency, campaign=campaign, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.detail))
        return redirect("money_home", regency_slug=regency.slug)
    messages.success(request, _("Penyerahan %(n)s dibuat: %(f)s keluarga, %(t)s. Unduh berkasnya, transfer, lalu "
                                "tandai sudah ditransfer.")
                     % {"n": handover.number, "f": handover.families, "t": format_rupiah(handover.total)})
    return redirect("handover_detail", regency_slug=regency.slug, handover_id=handover.pk)


def _detail(request, handover, form):
    return render(request, "donations/money/handover.html", {
        "regency": request.regency, "handover": handover,
        "lines": handovers.handover_lines(handover=handover), "form": form,
        "is_draft": handover.status == HandoverStatus.DRAFT,
    }, status=400 if form.is_bound else 200)


@require_GET
@require_perm(Perm.MANAGE_MONEY)
def handover_detail(request, regency_slug: str, handover_id: int):
    handover = handovers.handover_get(regency=request.regency, handover_id=handover_id)
    return _detail(request, handover, TransferredForm())


@require_GET
@require_perm(Perm.MANAGE_MONEY)
def handover_export(request, regency_slug: str, handover_id: int):
    handover = handovers.handover_get(regency=request.regency, handover_id=handover_id)
    return handover_download(handover, actor=request.user)


@require_POST
@require_perm(Perm.MANAGE_MONEY)
def handover_transferred(request, regency_slug: str, handover_id: int):
    handover = handovers.handover_get(regency=request.regency, handover_id=handover_id)
    form = TransferredForm(request.POST)
    if not form.is_valid():
        return _detail(request, handover, form)
    try:
        handovers.handover_mark_transferred(handover=handover, actor=request.user,
                                            reference=form.cleaned_data["reference"],
                                            transferred_at=form.cleaned_data["transferred_at"])
    except DomainError as exc:
        for key, message in (exc.extra.get("errors") or {"__all__": exc.detail}).items():
            form.add_error(key if key in form.fields else None, str(message))
        return _detail(request, handover, form)
    messages.success(request, _("Penyerahan %(n)s ditandai sudah ditransfer; buku kas diperbarui.")
                     % {"n": handover.number})
    return redirect("handover_detail", regency_slug=request.regency.slug, handover_id=handover.pk)


def _ledger_page(request, campaign, form, status=200):
    page = Paginator(handovers.campaign_ledger_rows(campaign=campaign), 50).get_page(request.GET.get("page"))
    return render(request, "donations/money/ledger.html", {
        "regency": request.regency, "campaign": campaign, "balance": ledger_balance(campaign=campaign),
        "unassigned": handovers.ledger_refundable(campaign=campaign), "page": page, "form": form,
        "handovers": handovers.handover_list(regency=request.regency, campaign=campaign)[:10],
    }, status=status)


@require_GET
@require_perm(Perm.MANAGE_MONEY)
def money_ledger(request, regency_slug: str, campaign_slug: str):
    campaign = selectors.campaign_get_for_regency(regency=request.regency, slug=campaign_slug)
    return _ledger_page(request, campaign, RefundForm())


@require_POST
@require_perm(Perm.MANAGE_MONEY)
def money_refund(request, regency_slug: str, campaign_slug: str):
    regency = request.regency
    campaign = selectors.campaign_get_for_regency(regency=regency, slug=campaign_slug)
    form = RefundForm(request.POST)
    if not form.is_valid():
        return _ledger_page(request, campaign, form, status=400)
    pledge = None
    code = form.cleaned_data["pledge"].strip().upper()
    if code:
        pledge = Pledge.objects.for_regency(regency).filter(campaign=campaign, payment_code=code).first()
        if pledge is None:
            form.add_error("pledge", _("Tidak ada janji dengan kode pembayaran ini di kampanye ini."))
            return _ledger_page(request, campaign, form, status=400)
    try:
        handovers.ledger_refund(regency=regency, campaign=campaign, actor=request.user, pledge=pledge,
                                amount=form.cleaned_data["amount"], note=form.cleaned_data["note"])
    except DomainError as exc:
        form.add_error(None, str(exc.detail))
        return _ledger_page(request, campaign, form, status=400)
    messages.success(request, _("Pengembalian %(a)s dicatat di buku kas.")
                     % {"a": format_rupiah(form.cleaned_data["amount"])})
    return redirect("money_ledger", regency_slug=regency.slug, campaign_slug=campaign.slug)

