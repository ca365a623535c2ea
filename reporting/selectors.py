"""Reads that cross the domains: the regency's overview counts and the places a user can go."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum

from accounts.models import User
from assessments import selectors as assessment_selectors
from assessments.models import Assessment
from assessments.models import Status as AssessmentStatus
from core.pagination import count_capped
from core.time import regency_today
from donations.models import (
    COVERING_STATUSES,
    Anomaly,
    AnomalyStatus,
    Audience,
    BankStatement,
    Campaign,
    CampaignStatus,
    DonorProfile,
    Handover,
    HandoverStatus,
    PaymentRoute,
    Pledge,
    PledgeStatus,
    StatementStatus,
)
from donations.selectors import campaign_is_open
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


# --- the home page: each role's work first -----------------------------------------------------
#
# One section per regency and role, one per BPJS branch, one for the user's own pledges and the
# open public campaigns. Every count is a fixed number of indexed queries per section (the queue
# counts are capped, as the queue page's own count is: "1.000+"), whatever the number of rows.

HOME_CAMPAIGNS = 6


@dataclass(frozen=True)
class WorkCount:
    """A number of things to do, exact up to `core.pagination.COUNT_CAP` (then `exact` False)."""

    value: int
    exact: bool = True


@dataclass
class RoleWork:
    """One role's work in one regency: `role` names the template part that shows it."""

    role: str
    label: str
    counts: dict[str, WorkCount] = field(default_factory=dict)
    campaigns: list[Campaign] = field(default_factory=list)


@dataclass
class RegencyWork:
    regency: Regency
    roles: list[RoleWork] = field(default_factory=list)


@dataclass
class BranchWork:
    branch: BpjsBranch
    counts: dict[str, WorkCount] = field(default_factory=dict)
    awaiting: list[ArrearsImport] = field(default_factory=list)
    latest_applied: ArrearsImport | None = None


@dataclass
class HomeWork:
    regencies: list[RegencyWork] = field(default_factory=list)
    branches: list[BranchWork] = field(default_factory=list)
    pledges: dict[str, WorkCount] | None = None
    public_campaigns: list[Campaign] = field(default_factory=list)
    other_regencies: list[Regency] = field(default_factory=list)
    is_donor: bool = False
    is_operator: bool = False


def _capped(qs: QuerySet[Any]) -> WorkCount:
    counted = count_capped(qs)
    return WorkCount(counted.value, counted.exact)


def _queue_count(*, regency: Regency, user: User, status: str, mine: bool = False) -> WorkCount:
    """What the assessment queue lists under that filter: its own query, counted as it counts."""
    qs = assessment_selectors.queue(
        regency=regency, user=user, filters=assessment_selectors.QueueFilters(status=status, mine=mine),
        today=regency_today(regency), districts=[],
    )
    return _capped(qs)


def _pledge_counts(qs: QuerySet[Pledge]) -> dict[str, WorkCount]:
    """A donor's pledges by what they need next (one aggregate)."""
    s = PledgeStatus
    row = qs.aggregate(
        to_confirm=Count("id", filter=Q(status=s.RESERVED)),
        to_pay=Count("id", filter=Q(status=s.PLEDGED)),
        paid=Count("id", filter=Q(status=s.PAID)),
        verified=Count("id", filter=Q(status=s.VERIFIED)),
        total=Count("id", filter=Q(status__in=COVERING_STATUSES)),
    )
    return {key: WorkCount(value) for key, value in row.items()}


def _open_campaigns(qs: QuerySet[Campaign], today_of: Any) -> list[Campaign]:
    """Active campaigns within their dates (the date test in Python over at most a few rows)."""
    rows = list(qs.filter(status=CampaignStatus.ACTIVE).select_related("regency").order_by("-created_at", "-id")
                [:HOME_CAMPAIGNS * 2])
    return [c for c in rows if campaign_is_open(c, today_of(c.regency))][:HOME_CAMPAIGNS]


def _assessor_work(regency: Regency, user: User) -> dict[str, WorkCount]:
    return {
        "todo": _queue_count(regency=regency, user=user, status="todo"),
        "todo_mine": _queue_count(regency=regency, user=user, status="todo", mine=True),
        "drafts_mine": _queue_count(regency=regency, user=user, status="draft", mine=True),
    }


def _decision_work(regency: Regency, user: User) -> dict[str, WorkCount]:
    own = (Assessment.objects.for_regency(regency)
           .filter(status=AssessmentStatus.SUBMITTED, submitted_by=user).count())
    return {"submitted": _queue_count(regency=regency, user=user, status="submitted"),
            "submitted_own": WorkCount(own)}


def _admin_work(regency: Regency, user: User) -> dict[str, WorkCount]:
    counts = _decision_work(regency, user)
    counts["campaigns_active"] = WorkCount(
        Campaign.objects.for_regency(regency).filter(status=CampaignStatus.ACTIVE).count())
    counts["anomalies_open"] = WorkCount(
        Anomaly.objects.for_regency(regency).filter(status=AnomalyStatus.OPEN).count())
    return counts


def _treasurer_work(regency: Regency) -> dict[str, WorkCount]:
    statements = BankStatement.objects.for_regency(regency).aggregate(
        in_progress=Count("id", filter=Q(status__in=[StatementStatus.QUEUED, StatementStatus.PROCESSING])),
        rejected=Count("id", filter=Q(status=StatementStatus.REJECTED)),
        total=Count("id"),
    )
    to_hand_over = (
        Pledge.objects.for_regency(regency)
        .filter(campaign__payment_route=PaymentRoute.COLLECTED, handover__isnull=True,
                status__in=[PledgeStatus.PAID, PledgeStatus.VERIFIED, PledgeStatus.DISPUTED])
        .count()
    )
    drafts = Handover.objects.for_regency(regency).filter(status=HandoverStatus.DRAFT).count()
    return {
        **{f"statements_{key}": WorkCount(value) for key, value in statements.items()},
        "paid_not_handed_over": WorkCount(to_hand_over),
        "handovers_draft": WorkCount(drafts),
    }


def _branch_work(branches: list[BpjsBranch]) -> list[BranchWork]:
    """Per branch: imports running, awaiting confirmation, failed or rejected, and the newest
    applied list (two queries for all the branches)."""
    if not branches:
        return []
    s = ImportStatus
    ids = [b.pk for b in branches]
    rows = {
        row["branch_id"]: row
        for row in ArrearsImport.objects.filter(branch_id__in=ids).values("branch_id").annotate(
            running=Count("id", filter=Q(status__in=[s.QUEUED, s.PARSING, s.APPLYING])),
            awaiting=Count("id", filter=Q(status=s.AWAITING_CONFIRMATION)),
            applied=Count("id", filter=Q(status=s.APPLIED)),
            total=Count("id"),
        ).order_by()
    }
    awaiting: dict[int, list[ArrearsImport]] = {}
    latest: dict[int, ArrearsImport] = {}
    # The imports waiting for a decision (few: each blocks its file) and each branch's newest
    # applied list, through the (branch, status, as_of) index.
    wanted = (
        ArrearsImport.objects.filter(branch_id__in=ids, status__in=[s.AWAITING_CONFIRMATION, s.APPLIED])
        .order_by("branch_id", "status", "-as_of", "-id")
        .distinct("branch_id", "status")
    )
    for imp in ArrearsImport.objects.filter(
        Q(pk__in=wanted.values("pk")) | Q(branch_id__in=ids, status=s.AWAITING_CONFIRMATION)
    ).order_by("created_at", "id"):
        if imp.status == s.AWAITING_CONFIRMATION:
            awaiting.setdefault(imp.branch_id, []).append(imp)
        else:
            latest[imp.branch_id] = imp
    work = []
    for branch in branches:
        row = rows.get(branch.pk, {})
        work.append(BranchWork(
            branch=branch,
            counts={key: WorkCount(row.get(key, 0)) for key in ("running", "awaiting", "applied", "total")},
            awaiting=awaiting.get(branch.pk, []),
            latest_applied=latest.get(branch.pk),
        ))
    return work


ROLE_ORDER = [Role.ASSESSOR, Role.SUPERVISOR, Role.TREASURER, Role.PEMDA_STAFF, Role.REGENCY_ADMIN]


def home_work(*, user: User) -> HomeWork:
    """What the signed-in user's home page puts first: per regency and role the work waiting
    (with counts), per BPJS branch its imports, the user's own pledges and the open public
    campaigns. A fixed number of queries for a given set of roles, whatever the data's size."""
    places = user_places(user=user)
    work = HomeWork(is_donor=places["is_donor"], is_operator=bool(user.is_staff and user.is_superuser))
    today_cache: dict[int, dt.date] = {}

    def today_of(regency: Regency) -> dt.date:
        if regency.pk not in today_cache:
            today_cache[regency.pk] = regency_today(regency)
        return today_cache[regency.pk]

    for place in places["places"]:
        regency = place.regency
        if not place.roles:
            if not place.via_branches:
                work.other_regencies.append(regency)  # the national operator's
            continue  # reached through a branch: in the branch's section
        section = RegencyWork(regency=regency)
        for role in sorted(set(place.roles), key=lambda r: ROLE_ORDER.index(Role(r))):
            item = RoleWork(role=role, label=str(Role(role).label))
            if role == Role.ASSESSOR:
                item.counts = _assessor_work(regency, user)
            elif role == Role.SUPERVISOR:
                item.counts = {**_decision_work(regency, user),
                               "todo": _queue_count(regency=regency, user=user, status="todo")}
            elif role == Role.TREASURER:
                item.counts = _treasurer_work(regency)
            elif role == Role.PEMDA_STAFF:
                item.counts = _pledge_counts(Pledge.objects.for_regency(regency).filter(donor=user))
                item.campaigns = _open_campaigns(
                    Campaign.objects.for_regency(regency).filter(audience=Audience.INTERNAL), today_of)
            elif role == Role.REGENCY_ADMIN:
                item.counts = _admin_work(regency, user)
            section.roles.append(item)
        work.regencies.append(section)
    work.branches = _branch_work(places["branches"])
    if work.is_donor or not (work.regencies or work.branches or work.is_operator):
        work.pledges = _pledge_counts(Pledge.all_regencies.filter(donor=user))
        work.public_campaigns = _open_campaigns(
            Campaign.all_regencies.filter(audience=Audience.PUBLIC), today_of)
    return work
