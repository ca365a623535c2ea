"""Reads that cross the domains: the regency's overview counts and the places a user can go."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q, Sum

from accounts.models import User
from donations.models import DonorProfile
from participants.models import ArrearsImport, ImportStatus, Participant, ParticipantStatus
from participants.selectors import in_arrears_q
from regencies.models import BpjsBranch, District, Membership, Regency
from regencies.roles import Role

TIMEZONE_ABBREVIATIONS = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def regency_overview(*, regency: Regency, people: bool = True) -> dict[str, Any]:
    """The counts that exist for a regency, in a fixed number of aggregate queries (4; 2 with
    `people=False`, for the dashboard, which reads those figures from the regency's summary).

    Never walks rows in Python: each figure is one SQL aggregate (`reporting.figures` defines them).
    """
    counts: dict[str, Any] = {}
    if people:
        arrears = in_arrears_q()
        counts = Participant.objects.for_regency(regency).aggregate(
            participants=Count("id"),
            in_arrears=Count("id", filter=arrears),
            families_in_arrears=Count("family_id", filter=arrears, distinct=True),
            arrears_total=Sum("arrears_amount", filter=arrears, default=0),
            cleared=Count("id", filter=Q(status=ParticipantStatus.CLEARED)),
            active=Count("id", filter=Q(status=ParticipantStatus.ACTIVE)),
        )
        latest = ArrearsImport.objects.filter(
            status=ImportStatus.APPLIED, branch__regencies=regency
        ).aggregate(as_of=Max("as_of"), finished_at=Max("finished_at"))
        counts["latest_import_as_of"] = latest["as_of"]
        counts["latest_import_finished_at"] = latest["finished_at"]
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

    coverage = None
    if regency.population and regency.jkn_participants:
        coverage = (Decimal(regency.jkn_participants) * 100 / Decimal(regency.population)).quantize(
            Decimal("0.01")
        )
    return {
        **counts,
        **places,
        "members_by_role": [
            {"role": role, "label": role.label, "count": counts_by_role.get(role.value, 0)}
            for role in Role
        ],
        "members_total": sum(counts_by_role.values()),
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


def user_places(*, user: User) -> dict[str, Any]:
    """Everything the landing page offers a signed-in user, in a fixed number of queries (4)."""
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
