"""Dashboard reads: the regency, branch and national dashboards.

The participant-scale figures come from the summary tables (`reporting.summaries`, refreshed by
the jobs that change them); the pledge figures from the tallies the database keeps with each
pledge statement (`donations.models.PledgeTally`, `CoverTally`), a few rows per campaign. The
definitions are `reporting.figures`. A fixed number of queries whatever the number of
participants, pledges, imports, districts or campaigns; no personal data (Pemda staff see this).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.time import regency_today
from donations.models import COVERING_STATUSES, Campaign, PledgeStatus, PledgeTally
from donations.selectors import covered_participants
from regencies.models import BpjsBranch, ContributionShare, Regency
from reporting import figures, summaries
from reporting.models import RegencySummary, TrendPoint

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


def _summary(regency: Regency, today: dt.date) -> RegencySummary:
    """The regency's summary for `today`: read (one query), or refreshed first when it is
    missing or was computed for another day (eligibility lapses with the date; the nightly job
    normally has done it)."""
    summary = summaries.summary_get(regency=regency)
    if summary is None or summary.computed_on != today:
        summary = summaries.summary_refresh(regency=regency, today=today, all_months=summary is None)
    return summary


def _campaign_rows(regency: Regency, covered: dict[int | None, int]) -> list[dict[str, Any]]:
    """Per campaign: participants covered (`covered`, from `covered_participants`), rupiah pledged
    and verified (two queries: the campaigns, and the tallies the database keeps per campaign and
    status)."""
    tallies: dict[int, dict[str, int]] = {}
    by_status = PledgeTally.objects.for_regency(regency).values_list("campaign_id", "status", "pledges", "rupiah")
    for campaign_id, status, pledges, rupiah in by_status:
        figures_of = tallies.setdefault(campaign_id, {"rupiah_pledged": 0, "rupiah_verified": 0, "verified": 0})
        if status in COVERING_STATUSES:
            figures_of["rupiah_pledged"] += rupiah
        if status == PledgeStatus.VERIFIED:
            figures_of["rupiah_verified"] += rupiah
            figures_of["verified"] += pledges
    rows: list[dict[str, Any]] = [
        dict(row) for row in Campaign.objects.for_regency(regency)
        .values("id", "slug", "title", "status", "target_participants", "target_amount").order_by("-id")
    ]
    for row in rows:
        row["participants"] = covered.get(row["id"], 0)
        row.update(tallies.get(row["id"], {"rupiah_pledged": 0, "rupiah_verified": 0, "verified": 0}))
    return rows


_SUMMARY_FIELDS = (
    "participants", "in_arrears", "families_in_arrears", "arrears_total", "cleared", "reactivated",
    "reactivated_by_donors", "reactivated_class3_by_donors", "families_reactivated", "written_off",
    "moved_to_pbi", "screened", "eligible",
)


def _district_rows(regency: Regency, covered: dict[int | None, int]) -> list[dict[str, Any]]:
    """Per district (summary rows, one query) with the participants pledges cover (`covered`,
    by the district of the pledge)."""
    return [
        {"name": row.name or _("(tanpa kecamatan)"), "in_arrears": row.in_arrears, "eligible": row.eligible,
         "covered": covered.get(row.district_id, 0), "reactivated": row.reactivated,
         "arrears_total": row.arrears_total}
        for row in summaries.district_rows(regency=regency)
    ]


def regency_dashboard(*, regency: Regency, today: dt.date | None = None) -> dict[str, Any]:
    """Everything the regency dashboard shows: the summary, its districts and trend (3 indexed
    reads), the pledge tallies (3), the pool (1), the campaigns (1), the share in force (1)."""
    today = today or regency_today(regency)
    summary = _summary(regency, today)
    people = {key: getattr(summary, key) for key in _SUMMARY_FIELDS}
    pledges = figures.pledge_figures(regency=regency)
    share = regency_share_in_force(on=today)
    covered = covered_participants(regency=regency)
    districts = _district_rows(regency, covered["district"])
    trend = summaries.trend_rows(regency=regency)
    campaigns = _campaign_rows(regency, covered["campaign"])
    for row in campaigns:
        row["percent"] = (
            min(100, round(row["participants"] * 100 / row["target_participants"]))
            if row["target_participants"] else None
        )
    coverage = _pct(regency.jkn_participants, regency.population)
    # Active rate: JKN participants not in arrears on the newest list.
    active = (regency.jkn_participants - people["in_arrears"]) if regency.jkn_participants else None
    active_rate = _pct(max(active, 0), regency.jkn_participants) if active is not None else None
    to_target = None
    if regency.jkn_participants and active is not None:
        needed = int((Decimal(regency.jkn_participants) * regency.active_rate_target / 100).to_integral_value(
            rounding="ROUND_CEILING"))
        to_target = max(0, needed - active)
    budget = people["reactivated_class3_by_donors"] * share if share is not None else None
    return {
        "today": today,
        **people,
        **pledges,
        "waiting": figures.waiting(regency=regency, today=today),
        "labels": figures.LABELS,
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
        "chart": trend_chart(trend),
        "campaigns": campaigns,
        "last_import_as_of": summary.last_list_as_of,
        "last_import_finished_at": summary.last_list_applied_at,
        "refreshed_at": summary.refreshed_at,
    }


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    as_of: dt.date
    in_arrears: int


@dataclass(frozen=True)
class TrendChart:
    """A small server-rendered SVG line: participants in arrears per list month (two points or
    more; with fewer the table says it all)."""

    width: int
    height: int
    points: list[ChartPoint]
    polyline: str
    baseline_y: float
    max_value: int


def trend_chart(trend: list[TrendPoint], *, width: int = 640, height: int = 160) -> TrendChart | None:
    """Scale the trend onto an SVG canvas; None with fewer than two points."""
    if len(trend) < 2:
        return None
    pad_x, pad_top, pad_bottom = 16.0, 14.0, 22.0
    top = max(max(point.in_arrears for point in trend), 1)
    inner_w, inner_h = width - 2 * pad_x, height - pad_top - pad_bottom
    points = [
        ChartPoint(
            x=round(pad_x + inner_w * index / (len(trend) - 1), 1),
            y=round(pad_top + inner_h * (1 - point.in_arrears / top), 1),
            as_of=point.as_of, in_arrears=point.in_arrears,
        )
        for index, point in enumerate(trend)
    ]
    return TrendChart(width=width, height=height, points=points,
                      polyline=" ".join(f"{p.x},{p.y}" for p in points),
                      baseline_y=round(pad_top + inner_h, 1), max_value=top)


@dataclass
class RegencyRow:
    """One regency on the branch or national dashboard."""

    regency: Regency
    in_arrears: int
    arrears_total: int
    eligible: int
    covered: int
    verified: int
    reactivated: int
    last_import_as_of: dt.date | None

    @property
    def slug(self) -> str:
        return self.regency.slug

    def __str__(self) -> str:
        return str(self.regency)


def regencies_summary(*, regencies: QuerySet[Regency]) -> list[RegencyRow]:
    """Per regency: the summary's figures and the live pledge figures (three queries for any
    number of regencies). A regency without a summary yet (before its first list or nightly
    run) is refreshed first, once."""
    listed = list(regencies.order_by("name"))
    rows = summaries.summaries_for(regencies=regencies)
    for regency in listed:
        if regency.pk not in rows:
            rows[regency.pk] = summaries.summary_refresh(regency=regency, all_months=True)
    pledges = figures.pledges_by_regency(regency_ids=[r.pk for r in listed])
    result = []
    for regency in listed:
        s = rows.get(regency.pk)
        p = pledges.get(regency.pk, {"covered": 0, "verified": 0})
        result.append(RegencyRow(
            regency=regency,
            in_arrears=s.in_arrears if s else 0,
            arrears_total=s.arrears_total if s else 0,
            eligible=s.eligible if s else 0,
            covered=p["covered"],
            verified=p["verified"],
            reactivated=s.reactivated if s else 0,
            last_import_as_of=s.last_list_as_of if s else None,
        ))
    return result


def branch_dashboard(*, branch: BpjsBranch) -> dict[str, Any]:
    rows = regencies_summary(regencies=branch.regencies.all())
    return {"branch": branch, "rows": rows, "totals": _totals(rows)}


def national_dashboard() -> dict[str, Any]:
    rows = regencies_summary(regencies=Regency.objects.all())
    return {"rows": rows, "totals": _totals(rows)}


def _totals(rows: list[RegencyRow]) -> dict[str, int]:
    keys = ("in_arrears", "arrears_total", "eligible", "covered", "verified", "reactivated")
    return {k: sum(getattr(r, k) or 0 for r in rows) for k in keys}
