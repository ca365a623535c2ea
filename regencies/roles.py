"""Roles and what each may do: the one place pages and the API ask."""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    REGENCY_ADMIN = "regency_admin", _("Admin Pemda")
    PEMDA_STAFF = "pemda_staff", _("Staf Pemda (ASN)")
    ASSESSOR = "assessor", _("Asesor")
    SUPERVISOR = "supervisor", _("Supervisor asesmen")
    TREASURER = "treasurer", _("Bendahara")


class BranchRole(models.TextChoices):
    BPJS_ADMIN = "bpjs_admin", _("Admin BPJS Kesehatan cabang")


class Perm(StrEnum):
    """Things a member of a regency may do. Checked only through `regencies.permissions`."""

    VIEW_DASHBOARD = "view_dashboard"
    VIEW_PARTICIPANTS = "view_participants"
    REVEAL_NIK = "reveal_nik"
    INVITE_MEMBERS = "invite_members"
    MANAGE_SETTINGS = "manage_settings"
    ASSESS = "assess"
    DECIDE_ASSESSMENT = "decide_assessment"
    MANAGE_CAMPAIGNS = "manage_campaigns"
    PLEDGE_INTERNAL = "pledge_internal"
    RECONCILE = "reconcile"
    # Bank statements, hand-overs to BPJS, the ledger and the receipt register.
    MANAGE_MONEY = "manage_money"
    # A participant's rights under UU 27/2022 (export, correction, anonymisation): regency admin only.
    MANAGE_PERSONAL_DATA = "manage_personal_data"


ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.REGENCY_ADMIN: frozenset(Perm),
    Role.SUPERVISOR: frozenset(
        {Perm.VIEW_DASHBOARD, Perm.VIEW_PARTICIPANTS, Perm.REVEAL_NIK, Perm.ASSESS,
         Perm.DECIDE_ASSESSMENT, Perm.PLEDGE_INTERNAL}
    ),
    Role.ASSESSOR: frozenset(
        {Perm.VIEW_DASHBOARD, Perm.VIEW_PARTICIPANTS, Perm.REVEAL_NIK, Perm.ASSESS,
         Perm.PLEDGE_INTERNAL}
    ),
    Role.PEMDA_STAFF: frozenset({Perm.VIEW_DASHBOARD, Perm.PLEDGE_INTERNAL}),
    Role.TREASURER: frozenset({Perm.VIEW_DASHBOARD, Perm.PLEDGE_INTERNAL, Perm.MANAGE_MONEY}),
}

# Roles a regency admin may hand out by invitation.
INVITABLE_ROLES = (Role.PEMDA_STAFF, Role.ASSESSOR, Role.SUPERVISOR, Role.TREASURER, Role.REGENCY_ADMIN)
