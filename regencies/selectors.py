"""Reads for regency pages: overview counts, the places a user can go, members."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from regencies.models import BpjsBranch, District, Invitation, Membership, Regency
from regencies.roles import Role

TIMEZONE_ABBREVIATIONS = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def regency_overview(*, regency: Regency) -> dict:
    """The counts that exist for a regency, in a fixed number of aggregate queries (4).

    Never walks rows in Python: each figure is one SQL aggregate.
    """
    from participants.models import ArrearsImport, ImportStatus, Participant, ParticipantStatus

    inactive = Q(status=ParticipantStatus.INACTIVE)
    people = Participant.objects.for_regency(regency).aggregate(
        participants=Count("id"),
        in_arrears=Count("id", filter=inactive),
        families_in_arrears=Count("family_id", filter=inactive, distinct=True),
        arrears_total=Sum("arrears_amount", filter=inactive, default=0),
        cleared=Count("id", filter=Q(status=ParticipantStatus.CLEARED)),
        active=Count("id", filter=Q(status=ParticipantStatus.ACTIVE)),
    )
    places = District.objects.for_regency(regency).aggregate(
        districts=Count("id", distinct=True), villages=Count("villages", distinct=True)
    )
    role_rows = (
        Membership.objects.for_regency(regency)
        .filter(is_active=True)
        .values("role")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts_by_role = {row["role"]: row["n"] for row in role_rows}
    latest = ArrearsImport.objects.filter(
        status=ImportStatus.APPLIED, branch__regencies=regency
    ).aggregate(as_of=Max("as_of"), finished_at=Max("finished_at"))

    coverage = None
    if regency.population and regency.jkn_participants:
        coverage = (Decimal(regency.jkn_participants) * 100 / Decimal(regency.population)).quantize(
            Decimal("0.01")
        )
    return {
        **people,
        **places,
        "members_by_role": [
            {"role": role, "label": role.label, "count": counts_by_role.get(role.value, 0)}
            for role in Role
        ],
        "members_total": sum(counts_by_role.values()),
        "latest_import_as_of": latest["as_of"],
        "latest_import_finished_at": latest["finished_at"],
        "population": regency.population,
        "jkn_participants": regency.jkn_participants,
        "coverage_percent": coverage,
        "active_rate_target": regency.active_rate_target,
        "timezone": regency.timezone,
        "timezone_abbr": TIMEZONE_ABBREVIATIONS.get(regency.timezone, regency.timezone),
    }


@dataclass
class Place:
    """One regency a user can open, with what they are there."""

    regency: Regency
    roles: list[str] = field(default_factory=list)
    role_labels: list[str] = field(default_factory=list)
    via_branches: list[str] = field(default_factory=list)


def user_places(*, user) -> dict:
    """Everything the landing page offers a signed-in user, in a fixed number of queries (4)."""
    from donations.models import DonorProfile

    places: dict[int, Place] = {}
    if user.is_staff and user.is_superuser:
        for regency in Regency.objects.order_by("name"):
            places[regency.pk] = Place(regency=regency)
    memberships = (
        Membership.all_regencies.filter(user=user, is_active=True)
        .select_related("regency")
        .order_by("regency__name", "role")
    )
    for m in memberships:
        place = places.setdefault(m.regency_id, Place(regency=m.regency))
        place.roles.append(m.role)
        place.role_labels.append(str(Role(m.role).label))
    branches = list(
        BpjsBranch.objects.filter(memberships__user=user, memberships__is_active=True)
        .distinct()
        .prefetch_related("regencies")
        .order_by("name")
    )
    for branch in branches:
        for regency in branch.regencies.all():
            place = places.setdefault(regency.pk, Place(regency=regency))
            place.via_branches.append(branch.name)
    return {
        "places": sorted(places.values(), key=lambda p: p.regency.name),
        "branches": branches,
        "is_donor": DonorProfile.objects.filter(user=user).exists(),
    }


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


def user_holds_role(user) -> bool:
    """True when `user` holds an active regency or branch role (then MFA is required)."""
    from regencies.models import BranchMembership

    return (
        Membership.all_regencies.filter(user_id=user.pk, is_active=True).exists()
        or BranchMembership.objects.filter(user_id=user.pk, is_active=True).exists()
    )
