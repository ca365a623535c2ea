"""Writes for regencies: invitations and memberships."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import audit_record
from core.errors import Conflict, DomainError, PermissionDenied
from core.formatting import format_date
from regencies.models import Invitation, Membership, Regency
from regencies.permissions import regency_access_for
from regencies.roles import INVITABLE_ROLES, Perm, Role

logger = logging.getLogger(__name__)


class InvitationInvalid(DomainError):
    """The invitation link can no longer be used (expired, revoked, already used)."""

    status_code = 410
    default_code = "invitation_invalid"


class InvitationLoginRequired(DomainError):
    """The invited e-mail already has an account: its owner must be logged in to accept."""

    status_code = 403
    default_code = "invitation_login_required"


def _require_perm(*, actor: User, regency: Regency, perm: Perm) -> None:
    access = regency_access_for(user=actor, regency=regency)
    if access is None or not access.can(perm):
        raise PermissionDenied(_("Anda tidak berhak mengelola anggota kabupaten/kota ini."))


def invitation_state(invitation: Invitation, *, now: dt.datetime | None = None) -> str:
    """`pending`, `accepted`, `revoked` or `expired`."""
    now = now or timezone.now()
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    return "pending"


def invitation_problem(invitation: Invitation) -> str | None:
    """A clear sentence saying why the invitation cannot be used, or None when it can."""
    state = invitation_state(invitation)
    if state == "accepted":
        return _("Undangan ini sudah dipakai. Silakan masuk dengan akun Anda.")
    if state == "revoked":
        return _("Undangan ini sudah dibatalkan oleh admin. Mintalah undangan baru bila perlu.")
    if state == "expired":
        return _(
            "Undangan ini sudah kedaluwarsa pada %(date)s. Mintalah admin kabupaten/kota "
            "mengirim undangan baru."
        ) % {"date": format_date(timezone.localtime(invitation.expires_at))}
    return None


def invitation_link(*, invitation: Invitation, base_url: str = "") -> str:
    return f"{base_url.rstrip('/')}/invitations/{invitation.token}/"


def invitation_create(
    *, regency: Regency, actor: User, email: str, role: str, base_url: str = ""
) -> Invitation:
    """Invite `email` to `regency` with `role`; e-mails the link after commit.

    Only a member holding Perm.INVITE_MEMBERS there may invite. A pending invitation
    for the same e-mail and role is revoked and replaced by the new one.
    """
    _require_perm(actor=actor, regency=regency, perm=Perm.INVITE_MEMBERS)
    email = (email or "").strip().lower()
    if not email:
        raise DomainError(_("Alamat e-mail wajib diisi."), code="email_required")
    if role not in {r.value for r in INVITABLE_ROLES}:
        raise DomainError(_("Peran tidak dikenal."), code="invalid_role")
    if Membership.objects.for_regency(regency).filter(
        user__email__iexact=email, role=role, is_active=True
    ).exists():
        raise Conflict(
            _("%(email)s sudah menjadi %(role)s di %(regency)s.")
            % {"email": email, "role": Role(role).label, "regency": regency.name},
            code="already_member",
        )
    now = timezone.now()
    with transaction.atomic():
        replaced = list(
            Invitation.objects.for_regency(regency)
            .select_for_update()
            .filter(email__iexact=email, role=role, accepted_at__isnull=True, revoked_at__isnull=True)
        )
        for old in replaced:
            old.revoked_at = now
            old.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor, verb="invitation.replaced", obj=old, regency=regency,
                before={"state": "pending"}, after={"state": "revoked"},
            )
        invitation = Invitation.objects.create(
            regency=regency,
            email=email,
            role=role,
            invited_by=actor,
            expires_at=now + dt.timedelta(days=settings.INVITATION_VALID_DAYS),
        )
        audit_record(
            actor=actor, verb="invitation.created", obj=invitation, regency=regency,
            after={"email": email, "role": role, "expires_at": invitation.expires_at.isoformat()},
        )
        invitation_id = invitation.pk
        _enqueue_invitation_email(invitation_id, base_url)
    return invitation


def _enqueue_invitation_email(invitation_id: int, base_url: str) -> None:
    """Inside the inviting transaction: the e-mail goes to the outbox (core.outbox), sent after
    the commit, or by the relay once the broker is back; never lost."""
    from core.outbox import enqueue_on_commit

    enqueue_on_commit("regencies.tasks.send_invitation_email", invitation_id, base_url)


def invitation_revoke(*, regency: Regency, actor: User, invitation: Invitation) -> Invitation:
    _require_perm(actor=actor, regency=regency, perm=Perm.INVITE_MEMBERS)
    with transaction.atomic():
        locked = Invitation.objects.for_regency(regency).select_for_update().get(pk=invitation.pk)
        state = invitation_state(locked)
        if state != "pending":
            raise InvitationInvalid(_("Undangan ini tidak lagi menunggu; tidak ada yang dibatalkan."))
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, verb="invitation.revoked", obj=locked, regency=regency,
            before={"state": state}, after={"state": "revoked"},
        )
    return locked


def invitation_accept(
    *, token: str, password: str | None = None, full_name: str = "",
    acting_user: User | AnonymousUser | None = None,
) -> User:
    """Accept an invitation: create the account (or use the existing one) and the membership.

    - unknown token -> DomainError(not_found); expired / revoked / used -> InvitationInvalid;
    - a new e-mail: `password` is required and checked by Django's validators; the e-mail
      counts as verified (the link proved it);
    - an e-mail that already has an account: the owner must be logged in (`acting_user`),
      their password is not touched; otherwise InvitationLoginRequired.
    """
    from allauth.account.models import EmailAddress

    with transaction.atomic():
        invitation = (
            Invitation.all_regencies.select_for_update()
            .select_related("regency")
            .filter(token=token or "")
            .first()
        )
        if invitation is None:
            raise DomainError(_("Tautan undangan tidak dikenal."), code="not_found")
        problem = invitation_problem(invitation)
        if problem:
            raise InvitationInvalid(problem)
        regency = invitation.regency
        user = User.objects.filter(email__iexact=invitation.email).first()
        created = False
        if user is not None:
            if acting_user is None or not acting_user.is_authenticated or acting_user.pk != user.pk:
                raise InvitationLoginRequired(
                    _("E-mail %(email)s sudah punya akun. Masuklah dengan akun itu lalu buka tautan "
                      "undangan ini lagi.") % {"email": invitation.email}
                )
            if full_name and not user.full_name:
                user.full_name = full_name
                user.save(update_fields=["full_name"])
        else:
            if not password:
                raise DomainError(_("Kata sandi wajib diisi."), code="password_required")
            candidate = User(email=invitation.email, full_name=full_name)
            try:
                validate_password(password, user=candidate)
            except ValidationError as exc:
                raise DomainError(" ".join(exc.messages), code="password_invalid") from exc
            user = User.objects.create_user(
                email=invitation.email, password=password, full_name=full_name.strip()
            )
            created = True
        EmailAddress.objects.update_or_create(
            user=user, email__iexact=invitation.email,
            defaults={"email": invitation.email, "verified": True, "primary": True},
        )
        membership, _created = Membership.all_regencies.get_or_create(
            regency=regency, user=user, role=invitation.role, defaults={"is_active": True}
        )
        if not membership.is_active:
            membership.is_active = True
            membership.save(update_fields=["is_active"])
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        audit_record(
            actor=user, verb="invitation.accepted", obj=invitation, regency=regency,
            before={"state": "pending"},
            after={"state": "accepted", "user_id": user.pk, "new_account": created},
        )
        audit_record(
            actor=user, verb="membership.created", obj=membership, regency=regency,
            after={"user_id": user.pk, "role": membership.role},
        )
    return user


def membership_deactivate(*, regency: Regency, actor: User, membership: Membership) -> Membership:
    """Take a role away (the row stays, for the history). An admin cannot remove their own admin role."""
    _require_perm(actor=actor, regency=regency, perm=Perm.INVITE_MEMBERS)
    with transaction.atomic():
        locked = Membership.objects.for_regency(regency).select_for_update().get(pk=membership.pk)
        if locked.user_id == actor.pk and locked.role == Role.REGENCY_ADMIN:
            raise DomainError(
                _("Anda tidak dapat mencabut peran admin Anda sendiri."), code="self_deactivate"
            )
        if not locked.is_active:
            return locked
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        audit_record(
            actor=actor, verb="membership.deactivated", obj=locked, regency=regency,
            before={"is_active": True, "role": locked.role}, after={"is_active": False},
        )
    return locked


SETTINGS_FIELDS = ("population", "jkn_participants", "active_rate_target", "minimum_wage", "retention_years")


def regency_settings_update(*, regency: Regency, actor: User, values: dict[str, Any]) -> Regency:
    """Set the regency's population, JKN participant total, active-rate target and UMK (audited)."""
    from regencies.permissions import regency_access_for as _access

    access = _access(user=actor, regency=regency)
    if access is None or not access.can(Perm.MANAGE_SETTINGS):
        raise PermissionDenied(_("Anda tidak berhak mengubah pengaturan kabupaten/kota ini."))
    with transaction.atomic():
        locked = Regency.objects.select_for_update().get(pk=regency.pk)
        before = {f: _jsonable(getattr(locked, f)) for f in SETTINGS_FIELDS}
        for f in SETTINGS_FIELDS:
            if f in values:
                setattr(locked, f, values[f])
        locked.full_clean()
        locked.save(update_fields=[f for f in SETTINGS_FIELDS if f in values])
        after = {f: _jsonable(getattr(locked, f)) for f in SETTINGS_FIELDS}
        if before != after:
            audit_record(actor=actor, verb="regency.settings_update", obj=locked, regency=locked,
                         before=before, after=after)
    return locked


def _jsonable(value: object) -> object:
    from decimal import Decimal

    return str(value) if isinstance(value, Decimal) else value


def member_mfa_reset(*, regency: Regency, actor: User, membership: Membership) -> list[str]:
    """A regency admin removes a member's MFA (lost phone): every authenticator of the user is
    deleted, so their next login asks them to enrol again. Audited.

    Only for a user whose roles are all in this regency: a user who also acts for another
    regency, a BPJS branch or nationally is reset by the national operator (Django admin).
    Returns the kinds of authenticators removed.
    """
    from allauth.mfa.models import Authenticator

    from accounts import mfa
    from regencies.models import BranchMembership

    _require_perm(actor=actor, regency=regency, perm=Perm.INVITE_MEMBERS)
    with transaction.atomic():
        locked = Membership.objects.for_regency(regency).select_related("user").get(pk=membership.pk)
        user = User.objects.select_for_update().get(pk=locked.user_id)
        if user.pk == actor.pk:
            raise DomainError(
                _("Atur autentikasi dua langkah Anda sendiri di halaman akun Anda."), code="self_mfa_reset"
            )
        elsewhere = (
            user.is_staff or user.is_superuser
            or Membership.all_regencies.filter(user=user, is_active=True).exclude(regency=regency).exists()
            or BranchMembership.objects.filter(user=user, is_active=True).exists()
        )
        if elsewhere:
            raise PermissionDenied(
                _("Pengguna ini juga berperan di luar kabupaten/kota ini; autentikasi dua langkahnya "
                  "hanya dapat diatur ulang oleh operator nasional."),
                code="mfa_reset_elsewhere",
            )
        kinds = sorted(Authenticator.objects.filter(user=user).values_list("type", flat=True))
        mfa.reset(user)
        audit_record(
            actor=actor, verb="member.mfa_reset", obj=user, regency=regency,
            before={"authenticators": kinds}, after={"authenticators": []},
        )
    return kinds
