"""Regency pages: settings, members and invitations. Thin: selectors read, services write.

The regency dashboard (`regency_home`) is a cross-domain read: `reporting.views`."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.forms import InvitationAcceptForm
from core.errors import DomainError
from regencies import selectors, services
from regencies.forms import InvitationForm, RegencySettingsForm
from regencies.models import Invitation, Membership
from regencies.permissions import RegencyHttpRequest, require_perm
from regencies.roles import Perm


@require_perm(Perm.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def regency_settings(request: RegencyHttpRequest, regency_slug: str) -> HttpResponse:
    regency = request.regency
    initial = {f: getattr(regency, f) for f in services.SETTINGS_FIELDS}
    form = RegencySettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.regency_settings_update(regency=regency, actor=request.user, values=form.cleaned_data)
            except DjangoValidationError as exc:
                for field_name, errors in exc.message_dict.items():
                    form.add_error(field_name if field_name in form.fields else None, errors)
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                messages.success(request, _("Pengaturan kabupaten/kota disimpan."))
                return redirect("regency_settings", regency_slug=regency.slug)
        status = 400
    return render(request, "regencies/settings.html", {"regency": regency, "form": form}, status=status)


@require_perm(Perm.INVITE_MEMBERS)
@require_http_methods(["GET", "POST"])
def member_list(request: RegencyHttpRequest, regency_slug: str) -> HttpResponse:
    regency = request.regency
    form = InvitationForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "invite")
        try:
            if action == "revoke":
                invitation = get_object_or_404(
                    Invitation.objects.for_regency(regency), pk=_int(request.POST.get("invitation"))
                )
                services.invitation_revoke(regency=regency, actor=request.user, invitation=invitation)
                messages.success(request, _("Undangan untuk %(email)s dibatalkan.") % {"email": invitation.email})
                return redirect("member_list", regency_slug=regency.slug)
            if action == "deactivate":
                membership = get_object_or_404(
                    Membership.objects.for_regency(regency), pk=_int(request.POST.get("membership"))
                )
                services.membership_deactivate(regency=regency, actor=request.user, membership=membership)
                messages.success(request, _("Peran %(role)s untuk %(email)s dicabut.") % {
                    "role": membership.get_role_display(), "email": membership.user.email})
                return redirect("member_list", regency_slug=regency.slug)
            form = InvitationForm(request.POST)
            if form.is_valid():
                invitation = services.invitation_create(
                    regency=regency, actor=request.user,
                    email=form.cleaned_data["email"], role=form.cleaned_data["role"],
                    base_url=request.build_absolute_uri("/"),
                )
                messages.success(request, _("Undangan terkirim ke %(email)s.") % {"email": invitation.email})
                return redirect("member_list", regency_slug=regency.slug)
            status = 400
        except DomainError as exc:
            if action == "invite":
                form.add_error(None, exc.detail)
                status = exc.status_code
            else:
                messages.error(request, exc.detail)
                return redirect("member_list", regency_slug=regency.slug)
    return render(request, "regencies/members.html", {
        "regency": regency,
        "members": selectors.member_list(regency=regency),
        "invitations": selectors.invitation_pending_list(regency=regency),
        "form": form,
        "invitation_valid_days": settings.INVITATION_VALID_DAYS,
    }, status=status)


@require_perm(Perm.INVITE_MEMBERS)
@require_http_methods(["GET", "POST"])
def member_mfa_reset(request: RegencyHttpRequest, regency_slug: str, membership_id: int) -> HttpResponse:
    """Reset a member's two-step verification (lost phone): a confirmation page, then the reset."""
    regency = request.regency
    membership = get_object_or_404(
        Membership.objects.for_regency(regency).select_related("user"), pk=membership_id, is_active=True
    )
    if request.method == "POST":
        try:
            services.member_mfa_reset(regency=regency, actor=request.user, membership=membership)
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, _(
                "Autentikasi dua langkah %(email)s diatur ulang; ia akan diminta mendaftarkannya lagi "
                "saat masuk berikutnya."
            ) % {"email": membership.user.email})
        return redirect("member_list", regency_slug=regency.slug)
    return render(request, "regencies/member_mfa_reset.html", {"regency": regency, "membership": membership})


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_by_token(token=token)
    if invitation is None:
        return render(request, "invitations/invalid.html", {
            "message": _("Tautan undangan ini tidak dikenal. Periksa kembali tautan di e-mail Anda, "
                         "atau mintalah undangan baru kepada admin kabupaten/kota."),
        }, status=404)
    problem = services.invitation_problem(invitation)
    if problem:
        return render(request, "invitations/invalid.html", {"message": problem}, status=410)

    existing = get_user_model().objects.filter(email__iexact=invitation.email).exists()
    signed_in_as_invitee = (
        request.user.is_authenticated and request.user.email.lower() == invitation.email.lower()
    )
    form = None if existing else InvitationAcceptForm(email=invitation.email)
    error = None
    if request.method == "POST":
        try:
            if existing:
                user = services.invitation_accept(token=token, acting_user=request.user)
            else:
                form = InvitationAcceptForm(request.POST, email=invitation.email)
                if not form.is_valid():
                    return _accept_page(request, invitation, form, existing, signed_in_as_invitee, status=400)
                user = services.invitation_accept(
                    token=token, password=form.cleaned_data["password1"],
                    full_name=form.cleaned_data["full_name"],
                )
        except services.InvitationInvalid as exc:
            return render(request, "invitations/invalid.html", {"message": exc.detail}, status=410)
        except DomainError as exc:
            error = exc.detail
            if form is not None:
                form.add_error(None, exc.detail)
            return _accept_page(request, invitation, form, existing, signed_in_as_invitee,
                                status=exc.status_code, error=error)
        if not (request.user.is_authenticated and request.user.pk == user.pk):
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Selamat datang di %(regency)s.") % {"regency": invitation.regency.name})
        return redirect(reverse("regency_home", kwargs={"regency_slug": invitation.regency.slug}))
    return _accept_page(request, invitation, form, existing, signed_in_as_invitee)


def _accept_page(request, invitation, form, existing, signed_in_as_invitee, status=200, error=None):
    return render(request, "invitations/accept.html", {
        "invitation": invitation,
        "regency": invitation.regency,
        "form": form,
        "existing": existing,
        "signed_in_as_invitee": signed_in_as_invitee,
        "error": error,
        "login_url": f"{reverse('account_login')}?next={request.path}",
    }, status=status)
