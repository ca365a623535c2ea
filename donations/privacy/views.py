"""Pages of the data-subject rights: a participant's (regency admin) and a donor's own."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from donations.privacy import donors, subject
from participants.privacy_models import (
    Anonymisation,
    CorrectableField,
    CorrectionRequest,
    CorrectionStatus,
)
from participants.selectors import participant_get
from regencies.permissions import require_perm
from regencies.roles import Perm

CONFIRM_WORD = "ANONIMKAN"


class CorrectionForm(forms.Form):
    field = forms.ChoiceField(label=gettext_lazy("Data yang diminta dikoreksi"), choices=CorrectableField.choices)
    requested_value = forms.CharField(
        label=gettext_lazy("Isi yang benar / uraian permintaan"), max_length=1000, widget=forms.Textarea(
            attrs={"rows": 3}),
    )


class ResolveForm(forms.Form):
    correction_id: int | None = None  # the correction a bound form was posted for
    status = forms.ChoiceField(label=gettext_lazy("Hasil"), choices=[
        (CorrectionStatus.DONE, CorrectionStatus.DONE.label),
        (CorrectionStatus.REJECTED, CorrectionStatus.REJECTED.label),
    ], error_messages={"required": gettext_lazy("Pilih hasilnya: selesai atau ditolak."),
                       "invalid_choice": gettext_lazy("Pilih hasilnya: selesai atau ditolak.")})
    note = forms.CharField(label=gettext_lazy("Catatan"), max_length=1000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class AnonymiseForm(forms.Form):
    confirm = forms.CharField(
        label=gettext_lazy("Ketik ANONIMKAN untuk mengonfirmasi"), max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    note = forms.CharField(label=gettext_lazy("Dasar permintaan (mis. nomor surat)"), max_length=300,
                           required=False)

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != CONFIRM_WORD:
            raise forms.ValidationError(_("Ketik ANONIMKAN (huruf besar) untuk mengonfirmasi."))
        return value


class DeleteAccountForm(forms.Form):
    password = forms.CharField(label=gettext_lazy("Kata sandi Anda"), widget=forms.PasswordInput(
        attrs={"autocomplete": "current-password"}))


def _json_download(data: dict, filename: str) -> HttpResponse:
    response = HttpResponse(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- a participant (regency admin) -----------------------------------------------------------


def _page(request, participant, *, correction_form=None, anonymise_form=None, resolve_form=None, status=200):
    """The participant's privacy page; a form passed in is bound and shows its errors (`resolve_form`
    in the row of the correction it was posted for)."""
    regency = request.regency
    corrections = list(CorrectionRequest.objects.for_regency(regency).filter(participant=participant)
                       .select_related("requested_by", "resolved_by"))
    response = render(request, "participants/privacy/page.html", {
        "regency": regency, "p": participant, "corrections": corrections,
        "correction_form": correction_form or CorrectionForm(),
        "resolve_form": resolve_form or ResolveForm(),
        "anonymise_form": anonymise_form or AnonymiseForm(),
        "anonymisation": Anonymisation.objects.for_regency(regency).filter(participant=participant).first(),
        "confirm_word": CONFIRM_WORD,
    }, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@require_perm(Perm.MANAGE_PERSONAL_DATA)
def participant_privacy(request, regency_slug: str, public_id):
    participant = participant_get(regency=request.regency, public_id=public_id)
    return _page(request, participant)


@require_GET
@require_perm(Perm.MANAGE_PERSONAL_DATA)
def participant_privacy_export(request, regency_slug: str, public_id):
    participant = participant_get(regency=request.regency, public_id=public_id)
    data = subject.participant_data_export(regency=request.regency, participant=participant, actor=request.user)
    return _json_download(data, f"data-peserta-{participant.public_id}.json")


@require_POST
@require_perm(Perm.MANAGE_PERSONAL_DATA)
def participant_correction_create(request, regency_slug: str, public_id):
    participant = participant_get(regency=request.regency, public_id=public_id)
    form = CorrectionForm(request.POST)
    if form.is_valid():
        try:
            subject.correction_request_create(regency=request.regency, participant=participant, actor=request.user,
                                              **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            messages.success(request, _("Permintaan koreksi dicatat."))
            return redirect("participant_privacy", regency_slug=request.regency.slug,
                            public_id=participant.public_id)
    return _page(request, participant, correction_form=form, status=400)


@require_POST
@require_perm(Perm.MANAGE_PERSONAL_DATA)
def participant_correction_resolve(request, regency_slug: str, public_id, correction_id: int):
    participant = participant_get(regency=request.regency, public_id=public_id)
    correction = subject.correction_request_get(regency=request.regency, participant=participant,
                                                correction_id=correction_id)
    # The ids the row's inputs have on the page ("status-<id>"), so the errors land next to them.
    form = ResolveForm(request.POST, auto_id=f"%s-{correction.pk}")
    form.correction_id = correction.pk
    if form.is_valid():
        try:
            subject.correction_request_resolve(regency=request.regency, correction=correction, actor=request.user,
                                               **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.detail)
            return _page(request, participant, resolve_form=form, status=exc.status_code)
        messages.success(request, _("Permintaan koreksi diselesaikan."))
        return redirect("participant_privacy", regency_slug=request.regency.slug, public_id=participant.public_id)
    return _page(request, participant, resolve_form=form, status=400)


@require_POST
@require_perm(Perm.MANAGE_PERSONAL_DATA)
def participant_anonymise(request, regency_slug: str, public_id):
    participant = participant_get(regency=request.regency, public_id=public_id)
    form = AnonymiseForm(request.POST)
    if not form.is_valid():
        return _page(request, participant, anonymise_form=form, status=400)
    try:
        subject.participant_anonymise(regency=request.regency, participant=participant, actor=request.user,
                                      note=form.cleaned_data["note"])
    except DomainError as exc:
        form.add_error(None, exc.detail)
        return _page(request, participant, anonymise_form=form, status=exc.status_code)
    messages.success(request, _("Data pribadi peserta telah dianonimkan."))
    return redirect("participant_privacy", regency_slug=request.regency.slug, public_id=participant.public_id)


# --- a donor's own data ----------------------------------------------------------------------


@login_required
@require_GET
def donor_data_download(request):
    data = donors.donor_data_export(user=request.user)
    return _json_download(data, "data-saya.json")


@login_required
@require_http_methods(["GET", "POST"])
def donor_account_delete(request):
    form = DeleteAccountForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                donors.donor_account_delete(user=request.user, password=form.cleaned_data["password"])
            except DomainError as exc:
                form.add_error("password" if exc.code == "wrong_password" else None, exc.detail)
            else:
                logout(request)
                messages.success(request, _("Akun Anda telah dihapus. Janji dan pembayaran Anda tetap tercatat "
                                            "tanpa data pribadi Anda."))
                return redirect("/")
        status = 400
    response = render(request, "donations/privacy/delete.html", {"form": form}, status=status)
    response["Cache-Control"] = "no-store"
    return response
