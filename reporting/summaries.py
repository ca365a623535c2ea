"""Keep the summary tables (`reporting.models`) current, and read them.

A refresh is set-based: a handful of statements per regency whatever its size (the figures'
aggregates, one upsert, the district rows replaced, the trend points of the month). It runs
inside the transaction of the job that changed the figures:

- an applied import (`participants.services.arrears_import_applied`): every regency of the
  branch, and the trend point of the list's month;
- a screening run (`assessments.screening.screening_done`): the regency's queue size;
- a reconciliation run that changed pledges (`donations.reconciliation.services.reconciliation_done`):
  that regency's figures that depend on pledges, by what the run verified (`donor_figures_added`:
  it changes pledges only, and the other figures read every participant);
- an approval (`assessments.services.assessment_approved`): through the outbox after the commit
  (an approval is a person's click; the refresh does not belong in it);
- nightly (eligibility lapses with the date) and `manage.py refresh_summaries`: everything.

Refreshes of one regency are serialised by a transaction-level advisory lock, always the last
lock their transaction takes (they only read otherwise): no deadlock with the jobs' own locks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from core.time import regency_today
from donations.models import Pledge, PledgeStatus, ReconciliationOutcome
from participants.models import (
    ArrearsImport,
    ArrearsRecord,
    CareClass,
    ClearingHistory,
    ImportMode,
    ImportStatus,
    Participant,
)
from participants.selectors import in_arrears_q, left_otherwise_q, record_in_arrears_q
from regencies.models import Regency
from reporting import figures
from reporting.models import DistrictSummary, RegencySummary, TrendPoint

_LOCK_SUMMARY = 73010  # pg_advisory_xact_lock(int, int) namespace: one refresh per regency at a time


def _lock(regency_id: int) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_SUMMARY, regency_id])


def _applied_imports(regency: Regency) -> QuerySet[ArrearsImport]:
    return ArrearsImport.objects.filter(status=ImportStatus.APPLIED, branch__regencies=regency)


def _last_list(regency: Regency) -> dict[str, Any]:
    return _applied_imports(regency).aggregate(as_of=Max("as_of"), applied_at=Max("finished_at"))


def summary_refresh(*, regency: Regency, today: dt.date | None = None,
                    trend_months: list[dt.date] | None = None, all_months: bool = False) -> RegencySummary:
    """Recompute the regency's summary row and district rows; the trend points of `trend_months`
    (first days of months), or of every month with `all_months`. Own transaction (nested in the
    caller's when there is one)."""
    day = today or regency_today(regency)
    with transaction.atomic():
        # Before the summary's lock, the last one its transaction takes: a rebuild of the clearing
        # history (records the apply did not write) writes its rows.
        figures.once_in_arrears_current(regency=regency)
        _lock(regency.pk)
        values = figures.list_figures(regency=regency, today=day)
        last = _last_list(regency)
        summary, _created = RegencySummary.all_regencies.update_or_create(
            regency=regency,
            defaults={
                **values,
                "computed_on": day,
                "refreshed_at": timezone.now(),
                "families_reactivated": figures.families_reactivated(regency=regency),
                "screened": figures.screened(regency=regency),
                "last_list_as_of": last["as_of"],
                "last_list_applied_at": last["applied_at"],
            },
        )
        rows = figures.district_figures(regency=regency, today=day)
        DistrictSummary.all_regencies.filter(regency=regency).delete()
        DistrictSummary.all_regencies.bulk_create([
            DistrictSummary(
                regency=regency, district_id=row["district_id"], name=row["district__name"] or "",
                in_arrears=row["in_arrears"], eligible=row["eligible"], reactivated=row["reactivated"],
                arrears_total=row["arrears_total"],
            )
            for row in rows
        ])
        if all_months or trend_months:
            _trend_refresh(regency, months=None if all_months else trend_months)
    return summary


def _trend_refresh(regency: Regency, *, months: list[dt.date] | None) -> None:
    """The trend points of `months` (None: every month): per month the newest full, current
    (not outdated) applied list of the branch; its lines of the regency counted (two queries
    and a write)."""
    lists = (
        _applied_imports(regency)
        .filter(mode=ImportMode.FULL, is_outdated=False)
        .annotate(month=TruncMonth("as_of"))
    )
    if months is not None:
        lists = lists.filter(month__in=months)
    newest = list(
        lists.order_by("month", "-as_of", "-id").distinct("month").values("id", "month", "as_of")
    )
    stale = TrendPoint.all_regencies.filter(regency=regency)
    if months is not None:
        stale = stale.filter(list_month__in=months)
    ids = [row["id"] for row in newest]
    arrears = record_in_arrears_q()
    counts = {
        row["arrears_import_id"]: row
        for row in ArrearsRecord.objects.for_regency(regency)
        # The list dates too: the history is partitioned by list month, so only those are read.
        .filter(arrears_import_id__in=ids, as_of__in=sorted({row["as_of"] for row in newest}))
        .values("arrears_import_id")
        .annotate(
            listed=Count("id"),
            in_arrears=Count("id", filter=arrears),
            arrears_total=Sum("arrears_amount", filter=arrears, default=0),
        )
        .order_by()
    }
    stale.delete()
    TrendPoint.all_regencies.bulk_create([
        TrendPoint(
            regency=regency, list_month=row["month"], arrears_import_id=row["id"], as_of=row["as_of"],
            listed=counts.get(row["id"], {}).get("listed", 0),
            in_arrears=counts.get(row["id"], {}).get("in_arrears", 0),
            arrears_total=counts.get(row["id"], {}).get("arrears_total", 0),
        )
        for row in newest
    ])


def summaries_refresh_all(*, regency_codes: list[str] | None = None) -> dict[str, int]:
    """Every regency's summary, districts and trend (the nightly job, `refresh_summaries`): one
    transaction per regency. Returns {regency code: in arrears}."""
    regencies = Regency.objects.order_by("code")
    if regency_codes:
        regencies = regencies.filter(code__in=regency_codes)
    done = {}
    for regency in regencies:
        summary = summary_refresh(regency=regency, all_months=True)
        done[regency.code] = summary.in_arrears
    return done


# --- receivers (connected in ReportingConfig.ready) -------------------------------------------


def on_import_applied(sender: Any, import_id: int, **kwargs: Any) -> None:
    """Inside the apply transaction: every regency of the branch, and the list's month."""
    applied = ArrearsImport.objects.filter(pk=import_id).select_related("branch").first()
    if applied is None:
        return
    month = applied.as_of.replace(day=1)
    for regency in applied.branch.regencies.order_by("code"):
        summary_refresh(regency=regency, trend_months=[month])


def donor_figures_added(*, regency: Regency, run_id: int) -> dict[str, int]:
    """What reconciliation run `run_id` adds to the donor figures (`reactivated_by_donors` and its
    class III part, as `figures.list_figures` counts them): the participants it verified a pledge
    of (its outcome rows say which) who are reactivated and had no verified pledge before it.

    A verified pledge stays verified (no transition leaves it) and only reconciliation verifies,
    so the summary's count, exact after the import's refresh, stays exact with each run's
    additions. The work follows the run's verifications, not every pledge the regency ever had
    verified (recounting them all took 2.56 of month 12's 4.83 s of reconciliation in the year
    benchmark, bench/README.md, session 17). One query."""
    verified_by_run = ReconciliationOutcome.objects.for_regency(regency).filter(
        run_id=run_id, to_status=PledgeStatus.VERIFIED)
    verified_before = (
        Pledge.objects.for_regency(regency)
        .filter(participant_id=OuterRef("pk"), status=PledgeStatus.VERIFIED)
        .exclude(pk__in=verified_by_run.values("pledge_id"))
    )
    once_in_arrears = ClearingHistory.objects.for_regency(regency).filter(
        once_in_arrears=True, participant_id=OuterRef("pk"))
    return Participant.objects.for_regency(regency).filter(
        ~in_arrears_q(), ~left_otherwise_q(), Exists(once_in_arrears),
        pk__in=verified_by_run.values("pledge__participant_id"),
    ).exclude(Exists(verified_before)).aggregate(
        reactivated_by_donors=Count("id"),
        reactivated_class3_by_donors=Count("id", filter=Q(care_class=CareClass.III)),
    )


def _refresh_part(regency_id: int, figures_of: Callable[[Regency], dict[str, Any]], *,
                  first: Callable[[Regency], None] | None = None) -> None:
    """Update the figures `figures_of` computes, under the summary's lock (after `first`, which
    may take locks of its own); a regency without a summary yet gets its first, whole one."""
    regency = Regency.objects.filter(pk=regency_id).first()
    if regency is None:
        return
    if first is not None:
        first(regency)
    with transaction.atomic():
        _lock(regency.pk)
        updated = RegencySummary.objects.for_regency(regency).update(
            **figures_of(regency), refreshed_at=timezone.now()
        )
    if not updated:
        summary_refresh(regency=regency)


def on_regency_changed(sender: Any, regency_id: int, run_id: int, **kwargs: Any) -> None:
    """Inside a reconciliation transaction: a run changes pledges, nothing else, so only the
    figures that depend on pledges, by what the run verified (`donor_figures_added`). The
    clearing rows it reads are made current before the summary's lock, the last lock the
    transaction takes."""

    def added(regency: Regency) -> dict[str, Any]:
        counts = donor_figures_added(regency=regency, run_id=run_id)
        return {name: F(name) + n for name, n in counts.items()}

    _refresh_part(regency_id, added, first=lambda regency: figures.once_in_arrears_current(regency=regency))


def on_screening_done(sender: Any, regency_id: int, **kwargs: Any) -> None:
    """Inside a screening transaction: only the queue's size changed (one UPDATE with its count)."""
    _refresh_part(regency_id, lambda regency: {"screened": figures.screened(regency=regency)})


def on_assessment_approved(sender: Any, regency_id: int, **kwargs: Any) -> None:
    """An approval changes `eligible`: refresh after the commit, through the outbox."""
    from core.outbox import enqueue_on_commit
    from reporting.tasks import summary_refresh_task

    enqueue_on_commit(summary_refresh_task, regency_id)


# --- reads ---------------------------------------------------------------------------------------


def summary_get(*, regency: Regency) -> RegencySummary | None:
    """The regency's summary row (one indexed read); None before its first refresh."""
    return RegencySummary.objects.for_regency(regency).first()


def district_rows(*, regency: Regency) -> list[DistrictSummary]:
    return list(DistrictSummary.objects.for_regency(regency).order_by("name", "id"))


def trend_rows(*, regency: Regency) -> list[TrendPoint]:
    return list(TrendPoint.objects.for_regency(regency).order_by("list_month"))


def summaries_for(*, regencies: QuerySet[Regency]) -> dict[int, RegencySummary]:
    """Summary rows of these regencies by regency id (one query)."""
    rows = RegencySummary.all_regencies.filter(regency_id__in=regencies.values("pk"))
    return {s.regency_id: s for s in rows}
