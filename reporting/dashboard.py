"""Dashboard reads: aggregate selectors for the regency, branch and national dashboards.

Every figure is an SQL aggregate; the number of queries is fixed whatever the
number of participants, pledges, imports, districts or campaigns. Nothing here
returns personal data: only counts and rupiah sums (Pemda staff see this page).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.models import Assessment, Screening, Status
from core.time import regency_today
from donations.models import COVERING_STATUSES, Campaign, Pledge, PledgeStatus
from participants.models import (
    ARREARS_SEGMENTS,
    ArrearsImport,
    ArrearsRecord,
    Family,
    ImportStatus,
    Participant,
    ParticipantStatus,
)
from regencies.models import BpjsBranch, ContributionShare, Regency

# UHC Awards 2026 levels: (name, minimum coverage %, minimum active rate %), best last.
UHC_LEVELS: tuple[tuple[str, Decimal, Decimal], ...] = (
    ("Pratama", Decimal(98), Decimal(80)),
    ("Madya", Decimal(98), Decimal(85)),
    ("Utama", Decimal(99), Decimal(95)),
)

CLASS_III = 3


def _pct(part: int | None, whole: int | None) -> Decimal | None:
    if part is None or not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


def regency_share_in_force(*, on: dt.date, care_class: int = CLASS_III) -> int | None:
    """The regency's monthly share per active participant of `care_class` on `on` (one query)."""
    return (
        ContributionShare.objects.filter(care_class=care_class, effective_from__lte=on)
        .order_by("-effective_from").values_list("regency_amount", flat=True).first()
    )


@dataclass(frozen=True)
class UhcLevel:
    name: str
    coverage_min: Decimal
    active_min: Decimal
    reached: bool


def uhc_levels(*, coverage: Decimal | None, active_rate: Decimal | None) -> list[UhcLevel]:
    """Each UHC level with whether it is reached (None figures never reach a level)."""
    return [
        UhcLevel(name, cov, act, coverage is not None and active_rate is not None
                 and coverage >= cov and active_rate >= act)
        for name, cov, act in UHC_LEVELS
    ]


def _flags(regency: Regency, today: dt.date) -> tuple[Q, Q, Q]:
    """Conditions on a Participant row: eligible, covered by a pledge, verified.

    Each is `pk IN (uncorrelated subquery)`, which PostgreSQL runs once as a hashed
    subplan (a correlated EXISTS inside an aggregate FILTER runs once per row: ~20x
    slower at 50k participants). `eligible` is exactly the first branch of
    `assessments.selectors.eligibility_expression` — an approved assessment still
    valid on `today` — which wins over every other branch, so the counts agree
    (tests/reporting/test_dashboard.py checks it against the expression).
    """
    pledges = Pledge.objects.for_regency(regency)
    eligible = Assessment.objects.for_regency(regency).filter(status=Status.APPROVED, valid_until__gte=today)
    return (
        Q(pk__in=eligible.values("participant_id")),
        Q(pk__in=pledges.filter(status__in=COVERING_STATUSES).values("participant_id")),
        Q(pk__in=pledges.filter(status=PledgeStatus.VERIFIED).values("participant_id")),
    )


def _left_otherwise() -> tuple[Q, Q, Q]:
    """Conditions on a Participant row (the newest list's values): arrears written off by the
    state's programme (`pemutihan`), moved to PBI (a segment other than PBPU/BP), and either.
    Such a participant is counted as such, never as reactivated by donors."""
    written_off = Q(written_off=True)
    moved_to_pbi = ~Q(segment__in=ARREARS_SEGMENTS)
    return written_off, moved_to_pbi, written_off | moved_to_pbi


def _participant_figures(regency: Regency, today: dt.date) -> dict:
    """Participants: in arrears, families, arrears, eligible, covered, verified, written off,
    moved to PBI (one query). `verified_*` leave out the written off and those moved to PBI."""
    eligible, covered, verified = _flags(regency, today)
    written_off, moved_to_pbi, left_otherwise = _left_otherwise()
    by_donors = verified & ~left_otherwise
    inactive = Q(status=ParticipantStatus.INACTIVE)
    return Participant.objects.for_regency(regency).aggregate(
        participants=Count("id"),
        in_arrears=Count("id", filter=inactive),
        families_in_arrears=Count("family_id", filter=inactive, distinct=True),
        arrears_total=Sum("arrears_amount", filter=inactive, default=0),
        cleared=Count("id", filter=Q(status=ParticipantStatus.CLEARED)),
        eligible=Count("id", filter=eligible),
        covered=Count("id", filter=covered),
        verified_participants=Count("id", filter=by_donors),
        verified_class3=Count("id", filter=by_donors & Q(care_class=CLASS_III)),
        written_off=Count("id", filter=written_off),
        moved_to_pbi=Count("id", filter=moved_to_pbi),
    )


def _families_reactivated(regency: Regency) -> int:
    """Families whose every member on the list is verified by our pledges, none of them written
    off or moved to PBI (one query)."""
    verified_member = Exists(
        Pledge.objects.for_regency(regency).filter(
            participant_id=OuterRef("pk"), status=PledgeStatus.VERIFIED
        )
    )
    _written_off, _moved, left_otherwise = _left_otherwise()
    members = Participant.objects.for_regency(regency).filter(family_id=OuterRef("pk"))
    return (
        Family.objects.for_regency(regency)
        .filter(Exists(members))
        .exclude(Exists(members.filter(~verified_member | left_otherwise)))
        .count()
    )


def _screened(regency: Regency) -> int:
    """Participants with a screening result (the assessment queue), one query."""
    return Screening.objects.for_regency(regency).count()


def _pledge_figures(regency: Regency) -> dict:
    """Pledges by status, and rupiah pledged/paid/verified (one query)."""
    s = PledgeStatus
    paid_like = (s.PAID, s.VERIFIED, s.DISPUTED)
    return Pledge.objects.for_regency(regency).aggregate(
        pledged=Count("id", filter=Q(status__in=(s.RESERVED, s.PLEDGED))),
        paid=Count("id", filter=Q(status=s.PAID)),
        verified=Count("id", filter=Q(status=s.VERIFIED)),
        released=Count("id", filter=Q(status=s.RELEASED)),
        disputed=Count("id", filter=Q(status=s.DISPUTED)),
        rupiah_pledged=Sum("amount", filter=Q(status__in=COVERING_STATUSES), default=0),
        rupiah_paid=Sum("amount", filter=Q(status__in=paid_like), default=0),
        rupiah_verified=Sum("amount", filter=Q(status=s.VERIFIED), default=0),
    )


def _district_rows(regency: Regency, today: dt.date) -> list[dict]:
    """Per district: in arrears, eligible, covered by a pledge, verified, arrears (one query)."""
    eligible, covered, verified = _flags(regency, today)
    _written_off, _moved, left_otherwise = _left_otherwise()
    inactive = Q(status=ParticipantStatus.INACTIVE)
    return list(
        Participant.objects.for_regency(regency)
        .values("district_id", "district__name")
        .annotate(
            in_arrears=Count("id", filter=inactive),
            eligible=Count("id", filter=eligible),
            covered=Count("id", filter=covered),
            verified=Count("id", filter=verified & ~left_otherwise),
            arrears_total=Sum("arrears_amount", filter=inactive, default=0),
        )
        .order_by(F("district__name").asc(nulls_last=True))
    )


def _trend(regency: Regency) -> list[dict]:
    """Per applied import (as_of): participants on the list, total arrears, verified so far (one query)."""
    verified_by = (
        Pledge.objects.for_regency(regency)
        .filter(status=PledgeStatus.VERIFIED, verified_at__date__lte=OuterRef("as_of"))
        .order_by().values("regency_id").annotate(n=Count("id")).values("n")
    )
    rows = (
        ArrearsRecord.objects.for_regency(regency)
        .values("as_of")
        .annotate(
            in_arrears=Count("id"),
            arrears_total=Sum("arrears_amount", default=0),
            verified=Coalesce(Subquery(verified_by, output_field=IntegerField()), Value(0)),
        )
        .order_by("as_of")
    )
    return list(rows)


def _campaign_rows(regency: Regency) -> list[dict]:
    """Per campaign: participants covered, rupiah pledged and verified (one query)."""
    # The pledges joined with the regency too: they are indexed by (regency, campaign, status).
    covering = Q(rp__status__in=COVERING_STATUSES)
    return list(
        Campaign.objects.for_regency(regency)
        .annotate(rp=FilteredRelation("pledges", condition=Q(pledges__regency=regency)))
        .values("id", "slug", "title", "status", "target_participants", "target_amount")
        .annotate(
            participants=Count("rp__participant_id", filter=covering, distinct=True),
            rupiah_pledged=Sum("rp__amount", filter=covering, default=0),
            rupiah_verified=Sum("rp__amount", filter=Q(rp__status=PledgeStatus.VERIFIED), default=0),
            verified=Count("rp", filter=Q(rp__status=PledgeStatus.VERIFIED)),
        )
        .order_by("-id")
    )


def _last_import(regency: Regency) -> dict:
    return ArrearsImport.objects.filter(status=ImportStatus.APPLIED, branch__regencies=regency).aggregate(
        as_of=Max("as_of"), finished_at=Max("finished_at")
    )


def regency_dashboard(*, regency: Regency, today: dt.date | None = None) -> dict:
    """Everything the regency dashboard shows, in a fixed number of queries (9)."""
    today = today or regency_today(regency)
    people = _participant_figures(regency, today)
    pledges = _pledge_figures(regency)
    families_reactivated = _families_reactivated(regency)
    screened = _screened(regency)
    share = regency_share_in_force(on=today)
    districts = _district_rows(regency, today)
    for row in districts:
        row["name"] = row["district__name"] or _("(tanpa kecamatan)")
    trend = _trend(regency)
    campaigns = _campaign_rows(regency)
    for row in campaigns:
        row["percent"] = (
            min(100, round(row["participants"] * 100 / row["target_participants"]))
            if row["target_participants"] else None
        )
    last = _last_import(regency)

    coverage = _pct(regency.jkn_participants, regency.population)
    # Active rate: JKN participants not on the arrears list (the list is every inactive PBPU/BP).
    active = (regency.jkn_participants - people["in_arrears"]) if regency.jkn_participants else None
    active_rate = _pct(max(active, 0), regency.jkn_participants) if active is not None else None
    to_target = None
    if regency.jkn_participants and active is not None:
        needed = int((Decimal(regency.jkn_participants) * regency.active_rate_target / 100).to_integral_value(
            rounding="ROUND_CEILING"))
        to_target = max(0, needed - active)
    budget = people["verified_class3"] * share if share is not None else None
    return {
        "today": today,
        **people,
        **pledges,
        "families_reactivated": families_reactivated,
        "screened": screened,
        "share": share,
        "budget_monthly": budget,
        "budget_yearly": budget * 12 if budget is not None else None,
        "coverage": coverage,
        "active_rate": active_rate,
        "active_rate_target": regency.active_rate_target,
        "to_target": to_target,
        "population": regency.population,
        "jkn_participants": regency.jkn_participants,
        "uhc": uhc_levels(coverage=coverage, active_rate=active_rate),
        "districts": districts,
        "trend": trend,
        "campaigns": campaigns,
        "last_import_as_of": last["as_of"],
        "last_import_finished_at": last["finished_at"],
    }


def trend_chart_data(trend: list[dict]) -> dict:
    """The trend as plain lists for the chart script (json_script): labels and three series."""
    return {
        "labels": [row["as_of"].isoformat() for row in trend],
        "in_arrears": [row["in_arrears"] for row in trend],
        "arrears_total": [row["arrears_total"] for row in trend],
        "verified": [row["verified"] for row in trend],
    }


def regencies_summary(*, regencies: QuerySet[Regency], today: dt.date | None = None) -> list[dict]:
    """Per regency: in arrears, eligible, covered, verified, last import (one query for any number).

    Cross-regency by design (branch and national dashboards): uses `all_regencies`.
    """
    today = today or timezone.localdate()

    def count(qs) -> Coalesce:
        sub = qs.filter(regency_id=OuterRef("pk")).order_by().values("regency_id").annotate(n=Count("id"))
        return Coalesce(Subquery(sub.values("n"), output_field=IntegerField()), Value(0))

    eligible = Participant.all_regencies.filter(pk__in=Assessment.all_regencies.filter(
        status=Status.APPROVED, valid_until__gte=today).values("participant_id"))
    covered = Participant.all_regencies.filter(pk__in=Pledge.all_regencies.filter(
        status__in=COVERING_STATUSES).values("participant_id"))
    # Written off or moved to PBI: not reactivated by donors.
    verified = Participant.all_regencies.filter(pk__in=Pledge.all_regencies.filter(
        status=PledgeStatus.VERIFIED).values("participant_id")).exclude(_left_otherwise()[2])
    arrears = Participant.all_regencies.filter(regency_id=OuterRef("pk"), status=ParticipantStatus.INACTIVE)
    arrears_sum = arrears.order_by().values("regency_id").annotate(s=Sum("arrears_amount")).values("s")
    last_import = (
        ArrearsImport.objects.filter(status=ImportStatus.APPLIED, branch__regencies=OuterRef("pk"))
        .order_by("-as_of").values("as_of")[:1]
    )
    return list(
        regencies.annotate(
            in_arrears=count(Participant.all_regencies.filter(status=ParticipantStatus.INACTIVE)),
            arrears_total=Coalesce(Subquery(arrears_sum), Value(0)),
            eligible=count(eligible),
            covered=count(covered),
            verified=count(verified),
            last_import_as_of=Subquery(last_import),
        ).order_by("name")
    )


def branch_dashboard(*, branch: BpjsBranch) -> dict:
    rows = regencies_summary(regencies=branch.regencies.all())
    return {"branch": branch, "rows": rows, "totals": _totals(rows)}


def national_dashboard() -> dict:
    rows = regencies_summary(regencies=Regency.objects.all())
    return {"rows": rows, "totals": _totals(rows)}


def _totals(rows: list) -> dict:
    keys = ("in_arrears", "arrears_total", "eligible", "covered", "verified")
    return {k: sum(getattr(r, k) or 0 for r in rows) for k in keys}
