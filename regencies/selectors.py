"""Reads for regency pages: members, invitations, roles."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from regencies.models import Invitation, Membership, Regency


def member_list(*, regency: Regency) -> QuerySet[Membership]:
    """The regency's memberships; `has_mfa`: the user's login asks for a second factor."""
    from allauth.mfa.models import Authenticator
    from django.db.models import Exists, OuterRef

    from accounts.mfa import PRIMARY_TYPES

    return (
        Membership.objects.for_regency(regency)
        .select_related("user")
        .annotate(has_mfa=Exists(
            Authenticator.objects.filter(user_id=OuterRef("user_id"), type__in=PRIMARY_TYPES)
        ))
        .order_by("-is_active", "user__email", "role")
    )


def invitation_pending_list(*, regency: Regency) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_regency(regency)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("invited_by")
        .order_by("-created_at")
    )


def invitation_by_token(*, token: str) -> Invitation | None:
    """The invitation a link names, in whatever regency (the token is the secret), or None."""
    if not token or len(token) > 64:
        return None
    return Invitation.all_regencies.select_related("regency").filter(token=token).first()


def user_holds_role(user: User) -> bool:
    """True when `user` holds an active regency or branch role (then MFA is required)."""
    from regencies.models import BranchMembership

    return (
        Membership.all_regencies.filter(user_id=user.pk, is_active=True).exists()
        or BranchMembership.objects.filter(user_id=user.pk, is_active=True).exists()
    )
