"""Reads of the assessments app: eligibility, the queue, assessments, PBI referrals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from assessments import questionnaire
from assessments.flags import with_reasons
from assessments.models import (
    DECIDED_STATUSES,
    OPEN_STATUSES,
    Assessment,
    Eligibility,
    Evidence,
    Flag,
    ReasonCode,
    Recommendation,
    Route,
    Screening,
    ScreeningSettings,
    Status,
)

# The public reads of the 2026 routes (donations imports them from here).
from assessments.routes import not_for_donors as not_for_donors
from assessments.routes import programme_in_force as programme_in_force
from assessments.routes import rehab_instalment as rehab_instalment
from assessments.routes import rehab_plan_for as rehab_plan_for
from assessments.routes import rehab_remaining as rehab_remaining
from assessments.routes import route_text as route_text
from assessments.routes import writeoff_route_for as writeoff_route_for
from core.audit import audit_history
from core.errors import get_or_404
from core.pagination import KeysetOrder, KeysetPage, count_capped, keyset_page, page_reads
from core.time import regency_today
from regencies.models import Membership, Regency
from regencies.permissions import regency_access_for
from regencies.roles import ROLE_PERMISSIONS, Perm

if TYPE_CHECKING:
    from participants.models import Participant


def _today(regency: Regency | None) -> dt.date:
    from django.utils import timezone

    return regency_today(regency) if regency else timezone.localdate()


def _assessments(regency: Regency | None) -> QuerySet[Assessment]:
    # Correlated on the participant of the outer (already regency-scoped) query;
    # with the regency known the subquery is scoped too.
    return Assessment.objects.for_regency(regency) if regency is not None else Assessment.all_regencies.all()


def _eligibility(today: dt.date, *, regency: Regency | None, ref: str) -> Case:
    assessments = _assessments(regency).filter(participant_id=OuterRef(ref))
    return Case(
        When(Exists(assessments.filter(status=Status.APPROVED, valid_until__gte=today)),
             then=Value(Eligibility.ELIGIBLE)),
        When(Exists(assessments.filter(status__in=OPEN_STATUSES)), then=Value(Eligibility.PENDING)),
        When(Exists(assessments.filter(status=Status.REJECTED, valid_until__gte=today)),
             then=Value(Eligibility.INELIGIBLE)),
        When(Exists(assessments.filter(status__in=DECIDED_STATUSES)), then=Value(Eligibility.EXPIRED)),
        default=Value(Eligibility.UNASSESSED),
        output_field=CharField(),
    )


def eligibility_expression(today: dt.date, *, regency: Regency | None = None) -> Case:
    """An expression giving a Participant row's eligibility in the same query:

    `eligible` (an approved assessment still valid) > `pending` (a draft or a
    submission) > `ineligible` (a rejection still valid) > `expired` (every
    decision lapsed: back in the queue) > `unassessed`.

    Use: `Participant.objects.for_regency(r).annotate(eligibility=eligibility_expression(today, regency=r))`.
    """
    return _eligibility(today, regency=regency, ref="pk")


def _eligibility_q(value: str, today: dt.date, *, regency: Regency | None, ref: str) -> Q | None:
    """Rows whose `_eligibility` is `value`, as EXISTS / NOT EXISTS conditions: PostgreSQL turns
    them into (anti-)joins on the assessments instead of evaluating the CASE on every row."""
    assessments = _assessments(regency).filter(participant_id=OuterRef(ref))
    approved = Exists(assessments.filter(status=Status.APPROVED, valid_until__gte=today))
    open_ = Exists(assessments.filter(status__in=OPEN_STATUSES))
    rejected = Exists(assessments.filter(status=Status.REJECTED, valid_until__gte=today))
    decided = Exists(assessments.filter(status__in=DECIDED_STATUSES))
    if value == Eligibility.ELIGIBLE:
        return Q(approved)
    if value == Eligibility.PENDING:
        return ~Q(approved) & Q(open_)
    if value == Eligibility.INELIGIBLE:
        return ~Q(approved) & ~Q(open_) & Q(rejected)
    if value == Eligibility.EXPIRED:
        return ~Q(approved) & ~Q(open_) & ~Q(rejected) & Q(decided)
    if value == Eligibility.UNASSESSED:
        return ~Q(Exists(assessments.filter(status__in=[*OPEN_STATUSES, *DECIDED_STATUSES])))
    return None


def eligibility_filter(value: str, today: dt.date, *, regency: Regency | None = None) -> Q | None:
    """Participant rows whose `eligibility_expression` is `value` (None for an unknown value):
    the same rule, for filters (registered in participants.hooks)."""
    return _eligibility_q(value, today, regency=regency, ref="pk")


def participant_eligibility(*, participant: Participant, today: dt.date | None = None) -> str:
    from participants.models import Participant

    regency = participant.regency
    today = today or _today(regency)
    return (
        Participant.objects.for_regency(regency).filter(pk=participant.pk)
        .annotate(e=eligibility_expression(today, regency=regency))
        .values_list("e", flat=True).get()
    )


def screening_settings_get(*, regency: Regency) -> ScreeningSettings:
    return ScreeningSettings.objects.for_regency(regency).first() or ScreeningSettings(regency=regency)


# --- queue ----------------------------------------------------------------------

QUEUE_STATUSES = {
    "todo": _("Perlu dinilai"),
    "draft": _("Draf"),
    "submitted": _("Menunggu keputusan"),
    "eligible": _("Layak"),
    "ineligible": _("Tidak layak"),
    "all": _("Semua"),
}


@dataclass(frozen=True)
class QueueFilters:
    status: str = "todo"
    district: int | None = None
    recommendation: str = ""
    flag: str = ""
    mine: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> QueueFilters:
        status = params.get("status") or "todo"
        if status not in QUEUE_STATUSES:
            status = "todo"
        district = params.get("district") or ""
        recommendation = params.get("recommendation") or ""
        flag = params.get("flag") or ""
        return cls(
            status=status,
            district=int(district) if district.isdigit() else None,
            recommendation=recommendation if recommendation in Recommendation.values else "",
            flag=flag if flag in Flag.values else "",
            mine=params.get("mine") in {"1", "on", "true"},
        )


def assessor_districts(*, regency: Regency, user: User) -> list[int]:
    return list(
        Membership.objects.for_regency(regency)
        .filter(user=user, is_active=True, districts__isnull=False)
        .values_list("districts", flat=True).distinct()
    )


def queue(*, regency: Regency, user: Any, filters: QueueFilters | None = None,
          today: dt.date | None = None, districts: list[int] | None = None) -> QuerySet[Screening]:
    """Queue entries with their participant, in the queue's order (`queue_order`).

    `todo` (the default) is who still needs an assessment: no open assessment and
    no decision still valid (so expired ones come back). The user's own districts
    come first, then priority (months in arrears, family size, flags).

    The rows carry no per-row state: `queue_state` adds the open assessment, the
    eligibility and the last validity to the rows of a page, and `queue_page` reads the
    columns a card shows.
    """
    filters = filters or QueueFilters()
    today = today or _today(regency)
    qs = Screening.objects.for_regency(regency)
    # Filters as EXISTS / NOT EXISTS on the assessments (joins).
    if filters.status == "todo":
        # unassessed or expired: no valid approval, nothing open, no valid rejection
        qs = qs.filter(_todo_q(today, regency=regency))
    elif filters.status in {"draft", "submitted"}:
        qs = qs.filter(Exists(_open_assessments(regency).filter(status=filters.status)))
    elif filters.status in {"eligible", "ineligible"}:
        qs = qs.filter(_eligibility_q(filters.status, today, regency=regency, ref="participant_id"))
    if filters.district:
        qs = qs.filter(participant__district_id=filters.district)
    if filters.recommendation:
        qs = qs.filter(recommendation=filters.recommendation)
    if filters.flag:
        qs = qs.filter(flags__contains=[{"code": filters.flag}])
    if filters.mine:
        qs = qs.filter(Q(assigned_to=user) | Exists(_open_assessments(regency).filter(assigned_to=user)))
    if districts is None:
        districts = assessor_districts(regency=regency, user=user)
    # The participant breaks ties lowest id first: its negation, so every key reads descending.
    qs = qs.annotate(participant_tiebreak=ExpressionWrapper(-F("participant_id"), output_field=BigIntegerField()))
    if districts:
        qs = qs.annotate(
            is_mine=Case(When(participant__district_id__in=districts, then=Value(1)),
                         default=Value(0), output_field=IntegerField())
        )
    return qs.order_by(*queue_order(districts).order_by())


def _open_assessments(regency: Regency) -> QuerySet[Assessment]:
    """The open assessments of the outer query's participant."""
    return Assessment.objects.for_regency(regency).filter(
        participant_id=OuterRef("participant_id"), status__in=OPEN_STATUSES
    )


def queue_state(entries: list[Screening], *, regency: Regency, today: dt.date) -> None:
    """Give each entry (of one page) its participant's assessment state, from one query over
    those participants' assessments, by the rules of `eligibility_expression`:

    - `open_id`, `open_status`, `open_assigned_to`: the newest open assessment (or None);
    - `eligibility`: eligible > pending > ineligible > expired > unassessed;
    - `last_valid_until`: the latest validity of its decisions (None without one).

    Eight correlated subqueries a row in the page's statement cost more to build, compile
    and run than this one read of the (few) assessments of 50 participants."""
    by_participant: dict[int, list[tuple[int, str, int | None, dt.date | None]]] = {}
    if entries:
        rows = (
            Assessment.objects.for_regency(regency)
            .filter(participant_id__in=[e.participant_id for e in entries],
                    status__in=[*OPEN_STATUSES, *DECIDED_STATUSES])
            .order_by("-created_at", "-id")
            .values_list("participant_id", "pk", "status", "assigned_to_id", "valid_until")
        )
        for participant_id, pk, status, assigned_to_id, valid_until in rows:
            by_participant.setdefault(participant_id, []).append((pk, status, assigned_to_id, valid_until))
    for entry in entries:
        newest_open: tuple[int | None, str | None, int | None] = (None, None, None)
        approved = rejected = decided = False
        valid_untils = []
        for assessment_id, status, assignee_id, valid_until in by_participant.get(entry.participant_id, ()):
            if status in OPEN_STATUSES:
                if newest_open[0] is None:  # newest first
                    newest_open = (assessment_id, status, assignee_id)
                continue
            decided = True
            if valid_until is not None:
                valid_untils.append(valid_until)
                approved = approved or (status == Status.APPROVED and valid_until >= today)
                rejected = rejected or (status == Status.REJECTED and valid_until >= today)
        if approved:
            eligibility = Eligibility.ELIGIBLE
        elif newest_open[0] is not None:
            eligibility = Eligibility.PENDING
        elif rejected:
            eligibility = Eligibility.INELIGIBLE
        elif decided:
            eligibility = Eligibility.EXPIRED
        else:
            eligibility = Eligibility.UNASSESSED
        open_id, open_status, open_assigned_to = newest_open
        vars(entry).update(open_id=open_id, open_status=open_status, open_assigned_to=open_assigned_to,
                           eligibility=eligibility.value, last_valid_until=max(valid_untils, default=None))


def _todo_q(today: dt.date, *, regency: Regency | None) -> Q:
    """Screenings whose participant needs an assessment: `unassessed` or `expired`."""
    # One NOT EXISTS (one anti-join to plan, not three): no assessment that is open or a
    # decision still valid.
    blocking = _assessments(regency).filter(participant_id=OuterRef("participant_id")).filter(
        Q(status__in=OPEN_STATUSES) | Q(status__in=DECIDED_STATUSES, valid_until__gte=today)
    )
    return ~Q(Exists(blocking))


# The queue's order: priority (its rank, `Screening.queue_rank`), months in arrears, family size,
# then the participant, lowest id first (unique: one screening per participant); all descending
# (the id negated), so that a keyset page starts from its cursor through the (regency, rank)
# index. An assessor with districts sees theirs first.
QUEUE_KEYS = ("queue_rank", "participant__months_in_arrears", "family_size", "participant_tiebreak")
QUEUE_PER_PAGE = 50
# What a queue card shows (with the keys of the order): a page reads these columns alone.
QUEUE_CARD_FIELDS = (
    "participant_id", "flags", "recommendation", "priority_base", "queue_rank", "family_size", "queued_on",
    "assigned_to_id",
    "participant__public_id", "participant__name", "participant__nik", "participant__months_in_arrears",
    "participant__arrears_amount", "assigned_to__full_name", "assigned_to__email",
)


def queue_order(districts: list[int]) -> KeysetOrder:
    """The keyset order of the queue of an assessor of `districts` (those first, when any)."""
    if districts:
        return KeysetOrder("queue_mine", ("is_mine", *QUEUE_KEYS), descending=True)
    return KeysetOrder("queue", QUEUE_KEYS, descending=True)


def queue_page(*, regency: Regency, user: Any, filters: QueueFilters | None = None,
               today: dt.date | None = None, cursor: str | None = None,
               page_number: int | None = None, size: int = QUEUE_PER_PAGE) -> KeysetPage[Screening]:
    """One page of the queue at `cursor`, with its count (exact up to 1,000) and each row's
    state (`queue_state`). Three queries, whatever the regency's size."""
    districts = assessor_districts(regency=regency, user=user)
    today = today or _today(regency)
    qs = queue(regency=regency, user=user, filters=filters, today=today, districts=districts)
    # The columns a card shows; the names of the district and village as columns, not model instances.
    rows = (
        qs.select_related("participant", "assigned_to").only(*QUEUE_CARD_FIELDS)
        .annotate(district_name=F("participant__district__name"), village_name=F("participant__village__name"))
    )
    with page_reads():
        page = keyset_page(rows, order=queue_order(districts), cursor=cursor, size=size,
                           page_number=page_number)
        counted = count_capped(qs)
        queue_state(page.object_list, regency=regency, today=today)
    page.count, page.count_exact = counted.value, counted.exact
    return page


def days_waiting(entry: Screening, today: dt.date) -> int:
    """Since it entered the queue, or since its last decision lapsed."""
    since = entry.queued_on
    lapsed = getattr(entry, "last_valid_until", None)
    if lapsed and lapsed < today:
        since = max(since, lapsed + dt.timedelta(days=1))
    return max((today - since).days, 0)


def assessors_of(*, regency: Regency) -> list:
    from django.contrib.auth import get_user_model

    roles = [role for role, perms in ROLE_PERMISSIONS.items() if Perm.ASSESS in perms]
    user_ids = Membership.objects.for_regency(regency).filter(
        is_active=True, role__in=roles
    ).values("user_id")
    return list(get_user_model().objects.filter(pk__in=user_ids).order_by("email"))


# --- assessments ------------------------------------------------------------------


def _assessment_base(qs: QuerySet[Assessment]) -> QuerySet[Assessment]:
    return qs.select_related(
        "regency", "writeoff_programme", "participant", "participant__district", "participant__village",
        "created_by", "assigned_to", "submitted_by", "decided_by", "consent_recorded_by",
    )


def assessment_list(*, regency: Regency, status: str | None = None) -> QuerySet[Assessment]:
    qs = _assessment_base(Assessment.objects.for_regency(regency))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def assessment_get(*, regency: Regency, assessment_id: int) -> Assessment:
    """An assessment of this regency, or 404."""
    return get_or_404(_assessment_base(Assessment.objects.for_regency(regency)), what="assessment", pk=assessment_id)


def assessment_get_for_user(*, user: User, assessment_id: int, perm: Perm = Perm.ASSESS) -> Assessment:
    """An assessment addressed by id alone, looked up through the user's regencies: 404
    when it belongs to a regency where the user lacks `perm` (or does not exist)."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("assessment")
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if perm in perms]
    regency_ids = Membership.all_regencies.filter(user=user, is_active=True, role__in=roles).values(
        "regency_id"
    )
    return get_or_404(_assessment_base(Assessment.all_regencies.filter(regency_id__in=regency_ids)),
                      what="assessment", pk=assessment_id)


def can(user: User | AnonymousUser, regency: Regency, perm: Perm) -> bool:
    access = regency_access_for(user=user, regency=regency)
    return bool(access and access.can(perm))


def assessment_history(*, assessment: Assessment) -> list[dict]:
    events = audit_history(object_type=assessment._meta.label_lower, object_id=assessment.pk)
    return [
        {
            "verb": event.verb,
            "actor": event.actor.email if event.actor else None,
            "actor_name": event.actor.get_full_name() if event.actor else "",
            "at": event.created_at,
            "before": event.before or {},
            "after": event.after or {},
        }
        for event in events
    ]


def assessment_screening(*, assessment: Assessment) -> dict:
    """The screening as it is now (or as it was when the assessment started)."""
    current = Screening.objects.for_regency(assessment.regency_id).filter(
        participant_id=assessment.participant_id
    ).select_related("participant").first()
    if current is not None:
        return {"flags": with_reasons(current.flags), "recommendation": current.recommendation,
                "priority": current.priority, "family_size": current.family_size}
    snap = assessment.screening_snapshot or {}
    return {"flags": with_reasons(snap.get("flags")), "recommendation": snap.get("recommendation"),
            "priority": snap.get("priority"), "family_size": None}


def assessment_route(*, assessment: Assessment) -> dict:
    """The route stored on the assessment, as the assessor and supervisor read it: the
    recommendation text (the write-off programme named, the REHAB instalments), and what the
    newest list says about the write-off and REHAB."""
    participant = assessment.participant
    plan = rehab_plan_for(participant)
    programme = assessment.writeoff_programme if assessment.writeoff_programme_id else None
    return {
        "route": assessment.route,
        "label": assessment.get_route_display() if assessment.route else "",
        "text": route_text(route=assessment.route, programme=programme, plan=plan),
        "programme": programme,
        "rehab_plan": plan,
        "not_for_donors": assessment.route in (Route.WRITEOFF, Route.REHAB),
        "list_written_off": participant.written_off is True,
        "in_rehab": participant.in_rehab is True,
        "rehab_instalments_left": participant.rehab_instalments_left,
        "rehab_instalment": rehab_instalment(participant),
    }


def assessment_evidence(*, assessment: Assessment) -> list[Evidence]:
    return list(
        Evidence.objects.for_regency(assessment.regency_id).filter(assessment=assessment)
        .select_related("uploaded_by")
    )


def evidence_get(*, regency: Regency, assessment_id: int, evidence_id: int) -> Evidence:
    return get_or_404(Evidence.objects.for_regency(regency), what="evidence",
                      pk=evidence_id, assessment_id=assessment_id)


def answer_rows(*, assessment: Assessment) -> list[dict]:
    """Questions of the assessment's own version with its answers, for display."""
    rows = []
    for q in questionnaire.questions(assessment.questionnaire_version):
        value = (assessment.answers or {}).get(q.key)
        rows.append({"question": q, "value": value, "display": questionnaire.display_answer(q, value)})
    return rows


# --- PBI referrals ----------------------------------------------------------------


# The DTSEN decile as an integer for ordering and keyset cursors; a referral without a numeric
# decile (decided `refer_pbi`, or routed to the write-off) sorts after every decile.
NO_DECILE = 99


class _DecileKey(Func):
    template = (
        "CASE WHEN jsonb_typeof(%(expressions)s -> 'dtsen_decile') = 'number' "
        "THEN ROUND((%(expressions)s ->> 'dtsen_decile')::numeric)::integer ELSE " + str(NO_DECILE) + " END"
    )
    output_field = IntegerField()


# Decile, then name, then the assessment: a keyset order (all ascending, ending with the id).
PBI_ORDER = KeysetOrder("pbi", ("decile_key", "participant__name", "id"))
PBI_PER_PAGE = 50


def pbi_referrals(*, regency: Regency) -> QuerySet[Assessment]:
    """The latest assessment of each participant that was decided `refer_pbi`, records a
    DTSEN decile 1-5, or is routed to the write-off (its programme named): the list for the
    Social Affairs office, lowest decile first (`decile_key`), then by name."""
    latest = (
        Assessment.objects.for_regency(regency)
        .exclude(status=Status.DRAFT)
        .order_by("participant_id", "-created_at", "-id")
        .distinct("participant_id")
        .values("pk")
    )
    return (
        _assessment_base(Assessment.objects.for_regency(regency))
        .filter(pk__in=Subquery(latest))
        .filter(
            Q(status=Status.REJECTED, reason_code=ReasonCode.REFER_PBI)
            | Q(answers__dtsen_decile__gte=1, answers__dtsen_decile__lte=5)
            | Q(route=Route.WRITEOFF)
        )
        .select_related("participant__family", "writeoff_programme")
        .annotate(decile_key=_DecileKey(F("answers")))
        .order_by(*PBI_ORDER.order_by())
    )


def pbi_page(*, regency: Regency, cursor: str | None = None, page_number: int | None = None,
             size: int = PBI_PER_PAGE) -> KeysetPage[Assessment]:
    """One keyset page of the referrals with their count (exact up to 1,000): two queries."""
    qs = pbi_referrals(regency=regency)
    with page_reads():
        page = keyset_page(qs, order=PBI_ORDER, cursor=cursor, size=size, page_number=page_number)
        counted = count_capped(qs)
    page.count, page.count_exact = counted.value, counted.exact
    return page


def eligible_participant_ids(*, regency: Regency, today: dt.date) -> QuerySet[Assessment, Any]:
    """Ids of participants with an approved assessment still valid on `today`: exactly the
    `eligible` branch of `eligibility_expression` (which wins over every other branch), as one
    uncorrelated subquery for counts (`pk__in=`)."""
    return (
        Assessment.objects.for_regency(regency)
        .filter(status=Status.APPROVED, valid_until__gte=today)
        .values("participant_id")
    )
