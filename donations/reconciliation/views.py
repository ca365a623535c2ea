"""The regency's reconciliation page `/r/<regency_slug>/reconciliation/` and its actions.
Thin: selectors read, services write. Only members with `Perm.RECONCILE` (regency admins)."""

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
from core.exports import Column, export_response
from core.time import regency_today
from donations.models import (
    AnomalyStatus,
    Outcome,
    PledgeStatus,
    ReconciliationTrigger,
    ReleaseReason,
)
from donations.reconciliation import selectors, services
from donations.selectors import pledge_counts
from participants.pseudonym import pseudonym
from regencies.permissions import require_perm
from regencies.roles import Perm


def _reason_label(code: str) -> str:
    if code in ReleaseReason.values:
        return str(ReleaseReason(code).label)
    if code == "still_in_arrears_after_grace":
        return str(_("Masih menunggak setelah masa tenggang"))
    return code


def _outcome_rows(page):
    return [{"o": o, "pseudonym": pseudonym(o.pledge.participant), "reason": _reason_label(o.reason)}
            for o in page]


class SettingsForm(forms.Form):
    """The settings' inputs as posted, to show the service's errors next to them (it checks the ranges)."""

    grace_days = forms.CharField(label=gettext_lazy("Masa tenggang setelah pembayaran (hari)"), required=False)
    reminder_days = forms.CharField(label=gettext_lazy("Ingatkan donatur bila belum membayar setelah (hari)"),
                                    required=False)
    payment_window_days = forms.CharField(
        label=gettext_lazy("Batas pembayaran setelah janji dikonfirmasi (hari)"), required=False)
    reservations_per_day = forms.CharField(
        label=gettext_lazy("Pemesanan tanpa konfirmasi per donatur per hari"), required=False)


class AnomalyForm(forms.Form):
    """An anomaly's resolution note as posted; `anomaly_id` says in which row its errors show."""

    anomaly_id: int | None = None
    note = forms.CharField(label=gettext_lazy("Catatan penyelesaian"), required=False)


@require_GET
@require_perm(Perm.RECONCILE)
def reconciliation(request, regency_slug: str):
    return _page(request)


def _page(request, *, settings_form: SettingsForm | None = None, anomaly_form: AnomalyForm | None = None,
          status: int = 200):
    """The reconciliation page; a form passed in is bound and shows its errors next to its inputs."""
    regency = request.regency
    chosen = request.GET.get("outcome") or ""
    anomaly_status = request.GET.get("anomalies") or AnomalyStatus.OPEN
    page = Paginator(selectors.outcomes(regency=regency, outcome=chosen or None), 50).get_page(
        request.GET.get("page"))
    return render(request, "donations/reconciliation.html", {
        "regency": regency,
        "totals": selectors.totals(regency=regency),
        # Verified and disputed NOW (a disputed pledge may be verified by a later list): the
        # same numbers as the dashboard's. `totals` counts decisions, for the released ones.
        "pledges": pledge_counts(regency=regency),
        "per_import": selectors.counts_per_import(regency=regency),
        "runs": selectors.runs(regency=regency),
        "anomalies": selectors.anomalies(regency=regency, status=anomaly_status)[:100],
        "anomaly_status": anomaly_status,
        "open_count": selectors.open_anomaly_count(regency=regency),
        "page": page,
        "rows": _outcome_rows(page.object_list),
        "outcomes": Outcome.choices,
        "chosen": chosen,
        "settings": selectors.settings_get(regency=regency),
        "settings_form": settings_form or SettingsForm(auto_id="%s"),
        "anomaly_form": anomaly_form or AnomalyForm(),
        "newest_import": services.newest_import(regency.pk),
    }, status=status)


@require_POST
@require_perm(Perm.RECONCILE)
def reconciliation_run(request, regency_slug: str):
    regency = request.regency
    try:
        result = services.reconcile_regency(regency=regency, trigger=ReconciliationTrigger.MANUAL,
                                            actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.detail))
        return redirect("reconciliation", regency_slug=regency.slug)
    if result["import"] is None:
        messages.info(request, _("Belum ada impor tunggakan yang diterapkan untuk wilayah ini."))
    else:
        messages.success(request, _(
            "Rekonsiliasi selesai: %(v)s terverifikasi, %(d)s dipersoalkan, %(r)s dilepas, %(u)s tidak berubah."
        ) % {"v": result["verified"], "d": result["disputed"],
             "r": result["released_cleared_by_other"] + result["released_left_segment"]
             + result["released_written_off"],
             "u": result["unchanged"]})
    return redirect("reconciliation", regency_slug=regency.slug)


def _anomaly(request, anomaly_id: int):
    anomaly = selectors.anomaly_get(regency=request.regency, anomaly_id=anomaly_id)
    if anomaly is None:
        raise Http404("anomaly")
    return anomaly


@require_POST
@require_perm(Perm.RECONCILE)
def anomaly_resolve(request, regency_slug: str, anomaly_id: int):
    anomaly = _anomaly(request, anomaly_id)
    try:
        services.anomaly_resolve(anomaly=anomaly, actor=request.user, note=request.POST.get("note", ""))
    except DomainError as exc:
        form = AnomalyForm(request.POST, auto_id=f"%s-{anomaly.pk}")
        form.anomaly_id = anomaly.pk
        form.is_valid()
        form.add_error("note", str(exc.detail))
        return _page(request, anomaly_form=form, status=exc.status_code)
    else:
        messages.success(request, _("Anomali ditandai selesai."))
    return redirect("reconciliation", regency_slug=request.regency.slug)


@require_POST
@require_perm(Perm.RECONCILE)
def anomaly_contact(request, regency_slug: str, anomaly_id: int):
    anomaly = _anomaly(request, anomaly_id)
    try:
        contact = services.anomaly_contact_donor(anomaly=anomaly, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.detail))
        return redirect("reconciliation", regency_slug=request.regency.slug)
    return render(request, "donations/reconciliation_contact.html", {
        "regency": request.regency, "anomaly": anomaly, "contact": contact,
        "pseudonym": pseudonym(anomaly.pledge.participant),
    })


@require_GET
@require_perm(Perm.RECONCILE)
def reconciliation_export(request, regency_slug: str):
    regency = request.regency
    columns = (
        Column(_("Waktu"), lambda o: o.created_at, width=18),
        Column(_("ID janji"), lambda o: str(o.pledge.public_id), width=38),
        Column(_("Kampanye"), lambda o: o.pledge.campaign.title, width=30),
        Column(_("Nomor kartu JKN"), lambda o: o.pledge.participant.card_number),
        Column(_("Nama peserta"), lambda o: o.pledge.participant.name, width=28),
        Column(_("Donatur"), lambda o: o.pledge.donor.email if o.pledge.donor else _("Dana bersama"), width=28),
        Column(_("Hasil"), lambda o: Outcome(o.outcome).label, width=30),
        Column(_("Dari status"), lambda o: PledgeStatus(o.from_status).label),
        Column(_("Ke status"), lambda o: PledgeStatus(o.to_status).label),
        Column(_("Alasan"), lambda o: _reason_label(o.reason), width=40),
        Column(_("Impor (data per)"), lambda o: o.arrears_import.as_of if o.arrears_import else None),
        Column(_("Tunggakan menurut impor (Rp)"), lambda o: o.evidence_arrears),
        Column(_("Jumlah janji (Rp)"), lambda o: o.pledge.amount),
    )
    chosen = request.GET.get("outcome") or None
    stamp = regency_today(regency).isoformat()
    return export_response(
        kind="reconciliation", rows=selectors.outcomes(regency=regency, outcome=chosen).iterator(chunk_size=2000),
        columns=columns, filename=f"rekonsiliasi-{regency.slug}-{stamp}", actor=request.user, regency=regency,
        filters={"outcome": chosen}, sheet=_("Rekonsiliasi"),
    )


@require_POST
@require_perm(Perm.RECONCILE)
def reconciliation_settings(request, regency_slug: str):
    regency = request.regency
    values = {}
    for key in ("grace_days", "reminder_days", "payment_window_days", "reservations_per_day"):
        if key not in request.POST and key in ("payment_window_days", "reservations_per_day"):
            continue  # not sent: kept as it is
        raw = (request.POST.get(key) or "").strip()
        values[key] = int(raw) if raw.isdigit() else -1
    try:
        services.settings_update(regency=regency, actor=request.user, **values)
    except DomainError as exc:
        form = SettingsForm(request.POST, auto_id="%s")
        form.is_valid()
        field_errors = exc.extra.get("errors") or {}
        for key, text in field_errors.items():
            form.add_error(key if key in form.fields else None, str(text))
        if not field_errors:
            form.add_error(None, str(exc.detail))
        return _page(request, settings_form=form, status=exc.status_code)
    else:
        messages.success(request, _("Pengaturan rekonsiliasi disimpan."))
    return redirect("reconciliation", regency_slug=regency.slug)
