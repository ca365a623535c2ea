"""Reads of participants and arrears imports: the one place pages and the API ask.

Every tenant query starts from `Model.objects.for_regency(regency)`. Imports are
branch-scoped (one file covers several regencies), so they are read by branch.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, DateField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.errors import get_or_404, int_or_404, uuid_or_404
from core.pagination import KeysetOrder, KeysetPage, count_capped, keyset_page, page_reads
from core.time import regency_today
from participants.hooks import eligibility_expression, eligibility_filter
from participants.imports.messages import localise
from participants.models import (
    ARREARS_SEGMENTS,
    BILLED_MONTHS,
    ArrearsImport,
    ArrearsRecord,
    BpjsStatus,
    ClearingHistory,
    ImportRowError,
    Participant,
    ParticipantStatus,
    Relationship,
    virtual_account_numbers,
)
from regencies.models import BpjsBranch, Regency

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# --- eligibility --------------------------------------------------------------

ELIGIBILITY_CHOICES: list[tuple[str, StrOrPromise]] = [
    ("unassessed", _("Belum dinilai")),
    ("pending", _("Sedang dinilai")),
    ("eligible", _("Layak dibantu")),
    ("ineligible", _("Tidak layak")),
    ("expired", _("Penilaian kedaluwarsa")),
]
ELIGIBILITY_VALUES = frozenset(value for value, _label in ELIGIBILITY_CHOICES)


def participant_annotate_eligibility(
    queryset: QuerySet[Participant], *, regency: Regency, today: dt.date | None = None
) -> QuerySet[Participant]:
    """Annotate `eligibility` (one of ELIGIBILITY_CHOICES) on participants of `regency`.

    The single place eligibility is derived: a database annotation over the
    participant's assessments and their validity (filterable, one query a page).
    """
    day = today or regency_today(regency)
    return queryset.annotate(eligibility=eligibility_expression(day, regency=regency))


# --- participant search and filters -------------------------------------------

# Months-in-arrears bands: key -> (label, lowest, highest or None).
ARREARS_BANDS: dict[str, tuple[StrOrPromise, int, int | None]] = {
    "1-3": (_("1–3 bulan"), 1, 3),
    "4-6": (_("4–6 bulan"), 4, 6),
    "7-12": (_("7–12 bulan"), 7, 12),
    "13-24": (_("13–24 bulan"), 13, 24),
    "25+": (_("lebih dari 24 bulan"), 25, None),
}

# Sort key -> keyset order: keys in one direction, ending with the unique `id`, so that pages are
# stable and each read walks an index of the same columns (migration 0008). "Last paid" orders
# through `last_paid_key`, where a participant who never paid counts as paid longest ago.
# The orders by months and amount read the participant's `Standing` (`with_standing`), whose
# indexes hold them, to the participant id there.
_MONTHS = ("standing__months_in_arrears", "standing__arrears_amount", "standing__participant_id")
_AMOUNT = ("standing__arrears_amount", "standing__participant_id")
SORT_ORDERS: dict[str, KeysetOrder] = {
    "months": KeysetOrder("months", _MONTHS, descending=True),
    "months_asc": KeysetOrder("months_asc", _MONTHS),
    "amount": KeysetOrder("amount", _AMOUNT, descending=True),
    "amount_asc": KeysetOrder("amount_asc", _AMOUNT),
    "name": KeysetOrder("name", ("name", "id")),
    "name_desc": KeysetOrder("name_desc", ("name", "id"), descending=True),
    "last_paid": KeysetOrder("last_paid", ("last_paid_key", "id")),
    "last_paid_desc": KeysetOrder("last_paid_desc", ("last_paid_key", "id"), descending=True),
}
_SORT_LABELS: dict[str, Any] = {
    "months": _("Bulan tunggakan terbanyak"),
    "months_asc": _("Bulan tunggakan tersedikit"),
    "amount": _("Tunggakan terbesar"),
    "amount_asc": _("Tunggakan terkecil"),
    "name": _("Nama (A–Z)"),
    "name_desc": _("Nama (Z–A)"),
    "last_paid": _("Terakhir bayar paling lama"),
    "last_paid_desc": _("Terakhir bayar paling baru"),
}
# Sort key -> (label, ordering), for the filter form and the exports.
SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    key: (_SORT_LABELS[key], tuple(order.order_by())) for key, order in SORT_ORDERS.items()
}
# Stands for "never paid" in `last_paid_key` (before any real date).
NEVER_PAID = dt.date(1, 1, 1)
DEFAULT_SORT = "months"

_DIGITS = re.compile(r"^\d+$")
_WORD_SPLIT = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[\s.\-]+")


def _search_filter(q: str) -> Q | None:
    """A card number (13 digits, or fewer padded back to 13) or NIK (16) matches exactly;
    anything else is name words, each of which must occur in the name (case-insensitive)."""
    text = q.strip()
    if not text:
        return None
    compact = _SEPARATORS.sub("", text)
    if _DIGITS.match(compact):
        text = compact
        if len(text) == 16:
            return Q(nik=text)
        if len(text) <= 13:
            return Q(card_number=text.zfill(13))
        return Q(pk__in=[])  # 14-15 or >16 digits: neither a card number nor a NIK
    condition = Q()
    for word in _WORD_SPLIT.split(text):
        if word:
            condition &= Q(name__icontains=word)
    return condition


def with_standing(queryset: QuerySet[Participant], *, regency: Regency | int) -> QuerySet[Participant]:
    """`queryset` joined (INNER: every participant has one) to the participants' `Standing`, so
    that a filter or an order by status, months or amount can walk its indexes; loaded with
    the rows, so a page's cursor reads its keys without a query."""
    return queryset.filter(standing__regency=regency).select_related("standing")


def participant_list(
    *,
    regency: Regency,
    q: str = "",
    district_id: int | None = None,
    village_id: int | None = None,
    status: str = "",
    eligibility: str = "",
    band: str = "",
    sort: str = DEFAULT_SORT,
) -> QuerySet[Participant]:
    """Participants of `regency`, searched, filtered, sorted; with district, village,
    family and `eligibility` loaded (one query for a page, whatever its size)."""
    qs = with_standing(Participant.objects.for_regency(regency), regency=regency).select_related(
        "district", "village", "family")
    day = regency_today(regency)
    qs = participant_annotate_eligibility(qs, regency=regency, today=day).annotate(
        last_paid_key=Coalesce("last_paid_date", Value(NEVER_PAID), output_field=DateField())
    )
    condition = _search_filter(q or "")
    if condition is not None:
        qs = qs.filter(condition)
    if district_id:
        qs = qs.filter(district_id=district_id)
    if village_id:
        qs = qs.filter(village_id=village_id)
    if status:
        qs = qs.filter(standing__status=status)
    if eligibility:
        # As joins on the assessments (an index each), not the per-row CASE of the annotation.
        by_join = eligibility_filter(eligibility, day, regency=regency)
        # `eligibility` is the annotation of participant_annotate_eligibility; the plugin knows only fields.
        qs = qs.filter(by_join) if by_join is not None else qs.filter(eligibility=eligibility)  # type: ignore[misc]
    if band:
        _label, low, high = ARREARS_BANDS[band]
        qs = qs.filter(standing__months_in_arrears__gte=low)
        if high is not None:
            qs = qs.filter(standing__months_in_arrears__lte=high)
    return qs.order_by(*sort_keys(sort).order_by())


def sort_keys(sort: str) -> KeysetOrder:
    """The keyset order of a sort key (the default for an unknown one)."""
    return SORT_ORDERS.get(sort, SORT_ORDERS[DEFAULT_SORT])


PARTICIPANTS_PER_PAGE = 50
# What a row of the list shows (participants.tables) and its sort keys: the page reads these
# columns only, and no family (150 model instances a page instead of 200, a third of the fields).
_PAGE_FIELDS = (
    "regency_id", "public_id", "card_number", "nik", "name", "care_class", "months_in_arrears",
    "arrears_amount", "last_paid_date", "status", "district__name", "village__name",
)


# What a page's cursor reads of the participant's standing (its primary key comes with it).
_STANDING_FIELDS = ("standing__months_in_arrears", "standing__arrears_amount")


def participant_page(
    *,
    regency: Regency,
    cursor: str | None = None,
    page_number: int | None = None,
    size: int = PARTICIPANTS_PER_PAGE,
    **filters: Any,
) -> KeysetPage[Participant]:
    """One page of `participant_list(regency, **filters)` at `cursor`, with its count (exact up to
    1,000). Two queries whatever the regency's size: the page (an index walk from the cursor)
    and the capped count."""
    qs = participant_list(regency=regency, **filters).select_related(None).select_related(
        "district", "village", "standing").only(*_PAGE_FIELDS, *_STANDING_FIELDS)
    with page_reads():
        page = keyset_page(qs, order=sort_keys(filters.get("sort") or DEFAULT_SORT), cursor=cursor,
                           size=size, page_number=page_number)
        counted = count_capped(qs)
    page.count, page.count_exact = counted.value, counted.exact
    return page


def participant_get(*, regency: Regency, public_id: str | uuid.UUID) -> Participant:
    """One participant of `regency` by its public id; 404 for another regency or a malformed id."""
    key = uuid_or_404(public_id, what="participant")
    qs = participant_annotate_eligibility(
        Participant.objects.for_regency(regency).select_related("district", "village", "family"),
        regency=regency,
    )
    return get_or_404(qs, what="participant", public_id=key)


# --- one participant's family and history ---------------------------------------


@dataclass(frozen=True)
class FamilySummary:
    number: str
    members: list[Participant]
    in_arrears: int
    virtual_accounts: dict[str, str]

    @property
    def size(self) -> int:
        return len(self.members)


def _in_arrears(participant: Participant) -> bool:
    return participant.status != ParticipantStatus.CLEARED and (
        participant.months_in_arrears > 0 or participant.arrears_amount > 0
    )


def participant_family(*, participant: Participant) -> FamilySummary:
    """The participant's family (KK): members, how many are in arrears, and the family VA."""
    if participant.family_id is None:
        members = [participant]
        number = ""
    else:
        members = list(
            Participant.objects.for_regency(participant.regency_id)
            .filter(family_id=participant.family_id)
            .order_by("card_number")
        )
        number = participant.family.number if participant.family is not None else ""
    head = next((m for m in members if m.relationship == Relationship.HEAD), None) or participant
    return FamilySummary(
        number=number,
        members=members,
        in_arrears=sum(1 for m in members if _in_arrears(m)),
        virtual_accounts=virtual_account_numbers(head.card_number),
    )


def billable_arrears(participant: Participant, monthly_tariff: int | None) -> int:
    """What a donor may be asked for on this participant's arrears: the listed amount, at most
    24 months at the class's `monthly_tariff` (the listed amount when the tariff is unknown)."""
    amount = max(int(participant.arrears_amount or 0), 0)
    if monthly_tariff is None:
        return amount
    return min(amount, BILLED_MONTHS * int(monthly_tariff))


@dataclass(frozen=True)
class Bill:
    """The participant's arrears as billed: capped at 24 months (shown to staff)."""

    arrears_amount: int
    billable: int
    monthly_tariff: int | None
    months_in_arrears: int

    @property
    def capped(self) -> bool:
        """More than 24 months listed, or an amount above 24 months at the class tariff."""
        return self.months_in_arrears > BILLED_MONTHS or self.billable < self.arrears_amount

    @property
    def max_months(self) -> int:
        return BILLED_MONTHS


def participant_bill(*, participant: Participant, on: dt.date | None = None) -> Bill:
    """The capped bill, at the tariff of the participant's class in force on `on` (default: the
    list's date, else today). The tariff comes from the app that registered it (hooks)."""
    from participants.hooks import monthly_tariffs

    day = on or participant.as_of or timezone.localdate()
    tariff = monthly_tariffs(day).get(int(participant.care_class))
    return Bill(
        arrears_amount=int(participant.arrears_amount or 0),
        billable=billable_arrears(participant, tariff),
        monthly_tariff=tariff,
        months_in_arrears=int(participant.months_in_arrears or 0),
    )


def participant_history(*, participant: Participant) -> list[ArrearsRecord]:
    """The participant's lines across imports, oldest first."""
    return list(
        ArrearsRecord.objects.for_regency(participant.regency_id)
        .filter(participant=participant)
        .select_related("arrears_import")
        .order_by("as_of", "arrears_import_id")
    )


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    months: int
    amount: int
    as_of: dt.date


@dataclass(frozen=True)
class HistoryChart:
    """Geometry of a small inline SVG: months in arrears over the imports' as-of dates."""

    width: int
    height: int
    points: list[ChartPoint]
    max_months: int
    polyline: str
    baseline_y: float


def history_chart(records: list[ArrearsRecord], *, width: int = 320, height: int = 120) -> HistoryChart | None:
    """Scale the history onto an SVG canvas; None with fewer than one record."""
    if not records:
        return None
    pad_x, pad_top, pad_bottom = 12.0, 12.0, 20.0
    max_months = max(max(r.months_in_arrears for r in records), 1)
    first, last = records[0].as_of, records[-1].as_of
    span = max((last - first).days, 0)
    inner_w = width - 2 * pad_x
    inner_h = height - pad_top - pad_bottom
    points: list[ChartPoint] = []
    for index, record in enumerate(records):
        if span:
            fraction = (record.as_of - first).days / span
        else:
            fraction = 0.5 if len(records) == 1 else index / (len(records) - 1)
        x = round(pad_x + fraction * inner_w, 1)
        y = round(pad_top + inner_h * (1 - record.months_in_arrears / max_months), 1)
        points.append(ChartPoint(x=x, y=y, months=record.months_in_arrears,
                                 amount=record.arrears_amount, as_of=record.as_of))
    return HistoryChart(
        width=width,
        height=height,
        points=points,
        max_months=max_months,
        polyline=" ".join(f"{p.x},{p.y}" for p in points),
        baseline_y=round(pad_top + inner_h, 1),
    )


# --- imports ------------------------------------------------------------------


# Newest first, for keyset pages of a branch's (or a user's) imports.
IMPORT_ORDER = KeysetOrder("imports", ("created_at", "id"), descending=True)


def import_list_for_branch(*, branch: BpjsBranch) -> QuerySet[ArrearsImport]:
    """The branch's imports, newest first."""
    return (
        ArrearsImport.objects.filter(branch=branch)
        .select_related("uploaded_by", "branch")
        .order_by("-created_at", "-id")
    )


def import_list_for_user(*, user: User | AnonymousUser) -> QuerySet[ArrearsImport]:
    """Imports of the branches the user acts for (every branch for the national operator)."""
    qs = ArrearsImport.objects.select_related("uploaded_by", "branch").order_by("-created_at", "-id")
    if not user.is_authenticated:
        return qs.none()
    if user.is_staff and user.is_superuser:
        return qs
    return qs.filter(
        branch__memberships__user=user,
        branch__memberships__is_active=True,
        branch__memberships__role="bpjs_admin",
    ).distinct()


def import_get_for_branch(*, branch: BpjsBranch, import_id: int | str) -> ArrearsImport:
    """One import of `branch`; 404 otherwise (also for an id that is not a number)."""
    return get_or_404(import_list_for_branch(branch=branch), what="import", pk=int_or_404(import_id, what="import"))


def import_get_for_user(*, user: User | AnonymousUser, import_id: int | str) -> ArrearsImport:
    """One import of a branch the user acts for; 404 otherwise (also for an id that is not a number)."""
    return get_or_404(import_list_for_user(user=user), what="import", pk=int_or_404(import_id, what="import"))


@dataclass(frozen=True)
class RegencyCount:
    code: str
    name: str
    count: int


def import_regency_counts(*, arrears_import: ArrearsImport) -> list[RegencyCount]:
    """The import's rows per regency, with regency names (one query)."""
    counts = arrears_import.regency_counts or {}
    names = dict(Regency.objects.filter(code__in=list(counts)).values_list("code", "name"))
    return sorted(
        (RegencyCount(code=code, name=names.get(code, code), count=int(n)) for code, n in counts.items()),
        key=lambda item: (-item.count, item.name),
    )


def import_preview_regencies(*, arrears_import: ArrearsImport) -> list[RegencyCount]:
    """Who a full list waiting for confirmation would clear, per regency, with names."""
    counts = (arrears_import.preview or {}).get("would_clear_by_regency") or {}
    names = dict(Regency.objects.filter(code__in=list(counts)).values_list("code", "name"))
    return sorted(
        (RegencyCount(code=code, name=names.get(code, code), count=int(n)) for code, n in counts.items()),
        key=lambda item: (-item.count, item.name),
    )


@dataclass(frozen=True)
class ErrorLine:
    row: int
    column: str
    message: str
    value: str


def import_errors_first(*, arrears_import: ArrearsImport, limit: int = 50) -> list[ErrorLine]:
    """The first errors for the page: from the full report table, else the import's summary."""
    lines = [
        ErrorLine(row=row, column=column, message=localise(message), value=value)
        for row, column, message, value in ImportRowError.objects.filter(arrears_import=arrears_import)
        .order_by("row", "id")
        .values_list("row", "column", "message", "value")[:limit]
    ]
    if lines:
        return lines
    return [
        ErrorLine(
            row=int(item.get("row") or 0),
            column=str(item.get("column") or ""),
            message=localise(str(item.get("message") or "")),
            value=str(item.get("value") or ""),
        )
        for item in (arrears_import.errors or [])[:limit]
        if isinstance(item, dict)
    ]


def import_error_total(*, arrears_import: ArrearsImport) -> int:
    """How many errors the full report has."""
    if arrears_import.error_count:
        return arrears_import.error_count
    stored = ImportRowError.objects.filter(arrears_import=arrears_import).count()
    return stored or len(arrears_import.errors or [])


def import_errors_queryset(*, arrears_import: ArrearsImport) -> QuerySet[ImportRowError]:
    return ImportRowError.objects.filter(arrears_import=arrears_import).order_by("row", "id")


def import_errors_rows(*, arrears_import: ArrearsImport) -> Iterator[tuple[int, str, str, str]]:
    """Every error of the import as (row, column, message, value), streamed from the database;
    the message in the active language."""
    for row, column, message, value in _import_errors_stored(arrears_import=arrears_import):
        yield row, column, localise(message), value


def _import_errors_stored(*, arrears_import: ArrearsImport) -> Iterator[tuple[int, str, str, str]]:
    qs = import_errors_queryset(arrears_import=arrears_import).values_list("row", "column", "message", "value")
    if qs.exists():
        yield from qs.iterator(chunk_size=2000)
        return
    report = getattr(arrears_import, "error_report", None)
    if report:
        yield from _rows_from_report_file(report)
        return
    for item in arrears_import.errors or []:
        if isinstance(item, dict):
            yield (int(item.get("row") or 0), str(item.get("column") or ""),
                   str(item.get("message") or ""), str(item.get("value") or ""))


def _rows_from_report_file(report: FieldFile) -> Iterator[tuple[int, str, str, str]]:
    """Rows of a stored CSV error report (row, column, message, value; a header line is skipped)."""
    with report.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        for cells in csv.reader(text):
            if len(cells) < 3 or not cells[0].strip().isdigit():
                continue
            value = cells[3] if len(cells) > 3 else ""
            yield (int(cells[0]), cells[1], cells[2], value)


def family_size_subquery() -> Coalesce:
    """Members of the participant's family, as a subquery (1 when there is no family)."""
    members = (
        # Scoped by the outer row's own regency: a family never spans regencies.
        Participant.all_regencies.filter(regency_id=OuterRef("regency_id"), family_id=OuterRef("family_id"))
        .order_by()
        .values("family_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(members), Value(1))


# --- what the lists say: the primitives of the reported figures ------------------------------


def in_arrears_q() -> Q:
    """A participant in arrears: on the branch's newest list (not cleared) and listed there as
    not active (the import sets `status` from the newest list's `status_peserta`)."""
    return Q(status=ParticipantStatus.INACTIVE)


def record_in_arrears_q() -> Q:
    """The same on one list's line (an ArrearsRecord): listed as not active."""
    return Q(bpjs_status=BpjsStatus.INACTIVE)


def left_otherwise_q() -> Q:
    """By the newest list's values: arrears written off by the state's programme, or moved out
    of PBPU/BP (to PBI). Such a participant is never counted as active again by paying."""
    return Q(written_off=True) | ~Q(segment__in=ARREARS_SEGMENTS)


def reactivated_q(*, regency: Regency) -> Q:
    """Active again by BPJS's lists: no longer in arrears (listed as active on the newest list,
    or absent from the newest full list) after a list that showed the participant in arrears;
    not written off or moved to PBI. An uncorrelated `pk IN` (one hashed subplan).

    "After a list that showed the participant in arrears": some record of this regency
    `record_in_arrears_q`, as the import keeps it (`ClearingHistory.once_in_arrears`, one row per
    participant and regency) rather than every month of the history: the figure's cost follows
    the regency's participants, not the months kept. Its reader makes sure the rows match the
    applied imports first (`participants.imports.apply.clearing_history_matches_imports`, else
    `rebuild_clearing_history`), as screening does: `reporting.figures`."""
    once_in_arrears = (
        ClearingHistory.objects.for_regency(regency).filter(once_in_arrears=True).values("participant_id")
    )
    return ~in_arrears_q() & Q(pk__in=once_in_arrears) & ~left_otherwise_q()
