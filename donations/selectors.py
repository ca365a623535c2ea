"""Reads of campaigns, pledges, payments and the pooled fund: the one place pages and the API ask.

Campaigns are addressed by a slug that is unique across regencies (`/c/<slug>/`), so the
lookup by slug is the one intended cross-regency query (`Campaign.all_regencies`); what a
user may then see is decided by `campaign_access`.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.aggregates import BoolOr
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.lookups import Exact, IsNull
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from assessments.models import Assessment
from assessments.models import Status as AssessmentStatus
from assessments.routes import NOT_FOR_DONORS
from assessments.selectors import not_for_donors
from assessments.selectors import rehab_instalment as routed_rehab_instalment
from core.errors import DomainError, get_or_404, uuid_or_404
from core.pagination import KeysetOrder, KeysetPage, count_capped, keyset_page, page_reads
from core.time import regency_today
from donations.models import (
    ACTIVE_STATUSES,
    Audience,
    Campaign,
    CampaignStatus,
    CoverScope,
    CoverTally,
    DonorProfile,
    Gift,
    Payment,
    Pledge,
    PledgeStatus,
    PledgeTally,
    ReconciliationOutcome,
    Tariff,
)
from participants.models import (
    Participant,
    ParticipantStatus,
    Relationship,
    virtual_account_numbers,
)
from participants.selectors import (
    ARREARS_BANDS,
    family_size_subquery,
    with_standing,
)
from regencies.models import Membership, Regency
from regencies.permissions import regency_access_for
from regencies.roles import Perm
from regencies.versions import kept

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from core.models import AuditEvent

# Pledges that count as covering a participant's contribution (progress bars, families).
PROGRESS_STATUSES = (PledgeStatus.PLEDGED, PledgeStatus.PAID, PledgeStatus.VERIFIED, PledgeStatus.DISPUTED)


@dataclass(frozen=True)
class MoneySettings:
    payment_window_days: int = 14
    reservations_per_day: int = 5


def money_settings(regency_id: int) -> MoneySettings:
    """The regency's payment window and reservation limit (defaults without a settings row)."""
    from donations.models import ReconciliationSettings

    row = (ReconciliationSettings.objects.for_regency(regency_id)
           .values_list("payment_window_days", "reservations_per_day").first())
    return MoneySettings(*row) if row else MoneySettings()


# --- tariffs and the frozen amount ------------------------------------------------


def tariff_in_force(*, care_class: int, on: dt.date) -> int:
    """The participant's monthly contribution for `care_class` on day `on`."""
    amount = (
        Tariff.objects.filter(care_class=care_class, effective_from__lte=on)
        .order_by("-effective_from").values_list("amount", flat=True).first()
    )
    if amount is None:
        raise DomainError(
            _("Belum ada tarif iuran kelas %(c)s yang berlaku pada %(d)s; hubungi operator nasional.")
            % {"c": care_class, "d": on.isoformat()},
            code="no_tariff",
        )
    return int(amount)


DUE_DAY = 10  # a month's contribution is due by the 10th


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(first: dt.date, n: int) -> dt.date:
    years, month0 = divmod(first.month - 1 + n, 12)
    return dt.date(first.year + years, month0 + 1, 1)


def months_after(earlier: dt.date, later: dt.date) -> int:
    """Whole calendar months from `earlier`'s month to `later`'s (0 in the same month)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def billable_arrears(participant: Participant, monthly_tariff: int) -> int:
    """The arrears a donor may be asked for: as imported, at most 24 months at the class tariff
    (the lists' rule, `participants.selectors.billable_arrears`)."""
    from participants.selectors import billable_arrears as capped

    return int(capped(participant, monthly_tariff))


def rehab_instalment(participant: Participant) -> int:
    """One REHAB instalment of a participant already in REHAB: the assessment's figure when
    routes provides it, else the arrears divided by the instalments left (rounded up)."""
    left = int(participant.rehab_instalments_left or 0)
    value = routed_rehab_instalment(participant)
    if value:
        return int(value)
    if left <= 0:
        return 0
    return -(-int(participant.arrears_amount) // left)


@dataclass(frozen=True)
class Quote:
    """What a pledge for one participant costs when it is quoted.

    `arrears_amount` is what the donor is asked for the arrears: as imported, capped at 24 months
    at the class tariff (the bill BPJS sends), or, for a participant in REHAB, the remaining
    instalments (never above that cap either). `imported_arrears` is the list's figure."""

    arrears_amount: int
    months_in_arrears: int
    monthly_tariff: int
    months_ahead: int
    imported_arrears: int = 0
    rehab_instalments: int | None = None
    rehab_instalment: int = 0

    @property
    def current_month(self) -> int:
        return self.monthly_tariff

    @property
    def capped(self) -> bool:
        return self.rehab_instalments is None and self.arrears_amount < self.imported_arrears

    @property
    def total(self) -> int:
        # The billed arrears + the current month + months paid ahead.
        return self.arrears_amount + self.monthly_tariff * (1 + self.months_ahead)


def pledge_quote(*, participant: Participant, campaign: Campaign, today: dt.date) -> Quote:
    tariff = tariff_in_force(care_class=participant.care_class, on=today)
    imported = int(participant.arrears_amount)
    billed = billable_arrears(participant, tariff)
    left = int(participant.rehab_instalments_left or 0) if participant.in_rehab else 0
    if left > 0:
        instalment = rehab_instalment(participant)
        return Quote(arrears_amount=min(instalment * left, billed), months_in_arrears=int(participant.months_in_arrears),
                     monthly_tariff=tariff, months_ahead=int(campaign.months_ahead), imported_arrears=imported,
                     rehab_instalments=left, rehab_instalment=instalment)
    return Quote(arrears_amount=billed, months_in_arrears=int(participant.months_in_arrears), monthly_tariff=tariff,
                 months_ahead=int(campaign.months_ahead), imported_arrears=imported)


# --- the month moves on: re-quoting a pledge paid in a later month ------------------------------


@dataclass(frozen=True)
class RequotedMonth:
    month: dt.date  # the month's first day
    tariff: int

    @property
    def due_on(self) -> dt.date:
        return self.month.replace(day=DUE_DAY)

    def as_json(self) -> dict:
        return {"month": self.month.strftime("%Y-%m"), "tariff": self.tariff, "due_on": self.due_on.isoformat()}


@dataclass(frozen=True)
class Requote:
    """The months that became due since a pledge was quoted, and its amount before and after."""

    before: int
    after: int
    months: tuple[RequotedMonth, ...]
    on: dt.date  # the regency's date of the re-quote
    pending: bool = True  # not stored yet (shown before the donor confirms or pays)

    @property
    def added(self) -> int:
        return self.after - self.before

    @property
    def note(self) -> str:
        """"Jumlah diperbarui: +Rp35.000 iuran Desember 2026 (jatuh tempo 10 Desember)"."""
        from core.formatting import format_rupiah, month_names

        months = month_names()
        names = [f"{months[m.month.month - 1]} {m.month.year}" for m in self.months]
        dues = [f"{DUE_DAY} {months[m.month.month - 1]}" for m in self.months]
        text = _("Jumlah diperbarui: +%(added)s iuran %(months)s (jatuh tempo %(due)s)") % {
            "added": format_rupiah(self.added), "months": _join(names), "due": _join(dues)}
        if self.on > self.months[-1].due_on:
            # No late fee: a month paid after its 10th costs the same; it only was due earlier.
            text += str(_("; jatuh tempo sudah lewat, tanpa denda"))
        return str(text) + "."

    def as_json(self) -> dict:
        return {"from_amount": self.before, "to_amount": self.after, "added": self.added, "on": self.on.isoformat(),
                "pending": self.pending, "months": [m.as_json() for m in self.months], "note": self.note}


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + str(_(" dan ")) + items[-1]


REQUOTABLE_STATUSES = (PledgeStatus.RESERVED, PledgeStatus.PLEDGED)


def pledge_requote(*, pledge: Pledge, today: dt.date) -> Requote | None:
    """The re-quote a pledge needs on the regency's `today`, or None.

    A pledge's amount covers the contributions up to `covers_until` (the month it was quoted in,
    plus its months ahead). Confirmed or paid in a later month, the family would not become
    active without that month's contribution too: every month after `covers_until` up to today's
    is added at the tariff in force in that month (on its first day). Never for a pledge paid in
    full, nor one that is finished."""
    if pledge.status not in REQUOTABLE_STATUSES or pledge.covers_until is None:
        return None
    if pledge.paid_amount >= pledge.amount:
        return None
    current = month_start(today)
    count = months_after(pledge.covers_until, current)
    if count <= 0:
        return None
    care_class = pledge.participant.care_class
    months = tuple(
        RequotedMonth(month=m, tariff=tariff_in_force(care_class=care_class, on=m))
        for m in (add_months(month_start(pledge.covers_until), i) for i in range(1, count + 1))
    )
    return Requote(before=int(pledge.amount), after=int(pledge.amount) + sum(m.tariff for m in months),
                   months=months, on=today)


def pledge_requote_shown(*, pledge: Pledge, today: dt.date | None = None) -> Requote | None:
    """For the pledge page and the API (GET): a re-quote still to be stored is applied to the
    in-memory pledge (its `amount`, hence `outstanding`; never saved), so the donor sees the new
    amount and why before confirming or paying; else the newest stored re-quote (its audit
    event), so the reason stays visible after it was applied."""
    day = today or regency_today(pledge.campaign.regency)
    pending = pledge_requote(pledge=pledge, today=day)
    if pending is not None:
        pledge.amount = pending.after
        return pending
    if pledge.status not in (*REQUOTABLE_STATUSES, PledgeStatus.PAID, PledgeStatus.VERIFIED,
                             PledgeStatus.DISPUTED):
        return None
    from core.models import AuditEvent

    event = (AuditEvent.objects.filter(object_type="donations.pledge", object_id=str(pledge.pk),
                                       verb="pledge.requoted").order_by("-id").values("before", "after").first())
    if event is None:
        return None
    after = event["after"] or {}
    months = tuple(RequotedMonth(month=dt.date.fromisoformat(m["month"] + "-01"), tariff=int(m["tariff"]))
                   for m in after.get("months", []))
    if not months:
        return None
    return Requote(before=int((event["before"] or {}).get("amount", 0)), after=int(after.get("amount", 0)),
                   months=months, on=dt.date.fromisoformat(after["quoted_on"]), pending=False)


# --- campaigns and who may do what ----------------------------------------------------


@dataclass(frozen=True)
class CampaignAccess:
    visible: bool
    may_pledge: bool
    may_manage: bool
    member: bool
    reason: str = ""


def _email_verified(user: User | AnonymousUser) -> bool:
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, verified=True).exists()


def campaign_is_open(campaign: Campaign, today: dt.date) -> bool:
    return (
        campaign.status == CampaignStatus.ACTIVE
        and (campaign.starts_on is None or campaign.starts_on <= today)
        and (campaign.ends_on is None or today <= campaign.ends_on)
    )


def campaign_access(*, user: User | AnonymousUser, campaign: Campaign) -> CampaignAccess:
    """Public campaigns (active or closed) are readable by anyone; internal ones by members of
    the regency (any role); drafts by those who manage campaigns. Pledging needs an open
    campaign and: internal -> a member; public -> a signed-in user with a verified e-mail."""
    access = regency_access_for(user=user, regency=campaign.regency) if user.is_authenticated else None
    may_manage = bool(access and access.can(Perm.MANAGE_CAMPAIGNS))
    member = bool(access and access.roles)
    if campaign.status == CampaignStatus.DRAFT:
        visible = may_manage
    elif campaign.audience == Audience.PUBLIC:
        visible = True
    else:
        visible = member or may_manage
    if not visible:
        return CampaignAccess(visible=False, may_pledge=False, may_manage=False, member=member)
    reason = ""
    if not user.is_authenticated:
        reason = "login"
    elif not campaign_is_open(campaign, regency_today(campaign.regency)):
        reason = "closed"
    elif campaign.audience == Audience.INTERNAL and not member:
        reason = "not_member"
    elif campaign.audience == Audience.PUBLIC and not (member or _email_verified(user)):
        reason = "email_unverified"
    return CampaignAccess(visible=True, may_pledge=not reason, may_manage=may_manage, member=member,
                          reason=reason)


def campaign_get_by_slug(*, slug: str) -> Campaign:
    return get_or_404(Campaign.all_regencies.select_related("regency"), what="campaign", slug=slug)


def campaign_get_visible(*, user: User | AnonymousUser, slug: str) -> tuple[Campaign, CampaignAccess]:
    """The campaign with this slug if the user may see it; else 404 (as if it did not exist)."""
    campaign = campaign_get_by_slug(slug=slug)
    access = campaign_access(user=user, campaign=campaign)
    if not access.visible:
        raise Http404("campaign")
    return campaign, access


def campaign_get_for_regency(*, regency: Regency, slug: str) -> Campaign:
    return get_or_404(Campaign.objects.for_regency(regency).select_related("regency"), what="campaign", slug=slug)


def campaign_list_for_regency(*, regency: Regency) -> QuerySet[Campaign]:
    return Campaign.objects.for_regency(regency).select_related("regency").order_by("-created_at", "-id")


def campaigns_visible_to(*, user: User | AnonymousUser) -> QuerySet[Campaign]:
    """Public campaigns that are not drafts, internal ones of the user's regencies, drafts
    of regencies whose campaigns the user manages."""
    public = Q(audience=Audience.PUBLIC) & ~Q(status=CampaignStatus.DRAFT)
    condition = public
    if user.is_authenticated:
        memberships = Membership.all_regencies.filter(user=user, is_active=True)
        member_of = memberships.values("regency_id")
        managing = memberships.filter(role__in=_manager_roles()).values("regency_id")
        condition |= (Q(regency_id__in=member_of) & ~Q(status=CampaignStatus.DRAFT)) | Q(regency_id__in=managing)
        if user.is_staff and user.is_superuser:
            condition = Q()
    return Campaign.all_regencies.filter(condition).select_related("regency").order_by("-created_at", "-id")


def _manager_roles() -> list[str]:
    from regencies.roles import ROLE_PERMISSIONS

    return [role for role, perms in ROLE_PERMISSIONS.items() if Perm.MANAGE_CAMPAIGNS in perms]


# --- the pool of participants ------------------------------------------------------------


def _blocking_pledges(regency: Regency | int) -> Exists:
    """A participant with any of these pledges is not in the pool: an active one, a disputed
    one, or a verified one that no import newer than the verification has overtaken (or made
    while the participant has no import date). The participant's `as_of` is the outer row's
    (no join back to the participant: the pledge's participant is that row)."""
    pledges = Pledge.objects.for_regency(regency).filter(participant_id=OuterRef("pk"))
    return Exists(
        pledges.filter(
            Q(status__in=[*ACTIVE_STATUSES, PledgeStatus.DISPUTED])
            | Q(status=PledgeStatus.VERIFIED) & (Q(verified_at__date__gte=OuterRef("as_of"))
                                                 | Q(IsNull(OuterRef("as_of"), True)))
        )
    )


def _approved_for_donors(regency: Regency | int, day: dt.date) -> Exact:
    """Eligible (`eligibility_filter(ELIGIBLE)`: an approved assessment still valid on `day`) and
    not routed away from the donors (the assessment half of `not_for_donors`: no such approved
    assessment routes the participant to the write-off or to REHAB), as ONE correlated aggregate
    on the participant's approved assessments: `bool_or(routed)` is false only when there is at
    least one and none is routed (NULL without any). PostgreSQL cannot hash an aggregate
    subquery, so a page reads it for the rows it walks (an index probe each), where the two
    EXISTS of the separate filters made it hash or scan every approved assessment of the
    regency first (~16 ms at 100,000 participants to show 20 rows)."""
    approved = (
        Assessment.objects.for_regency(regency)
        .filter(participant_id=OuterRef("pk"), status=AssessmentStatus.APPROVED, valid_until__gte=day)
        .order_by().values("participant_id")
        .annotate(routed=BoolOr(Q(route__in=NOT_FOR_DONORS))).values("routed")
    )
    return Exact(Subquery(approved, output_field=BooleanField()), False)


def _listed_and_free(regency: Regency) -> QuerySet[Participant]:
    """The pool less its eligibility: in arrears on the list (status, months and amount through
    the standing, whose indexes the donor's orders walk), not written off by the list (the list
    half of `not_for_donors`), and with no pledge holding them."""
    return (
        with_standing(Participant.objects.for_regency(regency), regency=regency)
        .exclude(standing__status=ParticipantStatus.CLEARED)
        .filter(Q(standing__months_in_arrears__gt=0) | Q(standing__arrears_amount__gt=0))
        .exclude(written_off=True)
        .exclude(_blocking_pledges(regency))
    )


def available_participants(*, regency: Regency, today: dt.date | None = None) -> QuerySet[Participant]:
    """Eligible (assessment approved and still valid), in arrears, on the list, not routed to the
    write-off or REHAB (`not_for_donors`), and with no pledge holding them; with district,
    village and `family_size` loaded. `pool_candidates` reads the same rows through the
    assessments' own filters (the tests hold the two together)."""
    day = today or regency_today(regency)
    return (
        _listed_and_free(regency)
        .filter(_approved_for_donors(regency, day))
        .select_related("district", "village")
        .annotate(family_size=family_size_subquery())
    )


def _pool_by_approvals(*, regency: Regency, day: dt.date) -> QuerySet[Participant]:
    """The participants of `available_participants` (the tests hold the two equal), read from the
    other end for counting: the regency's approved assessments still valid on `day`, grouped by
    participant, none routed away from the donors; then `_listed_and_free` for each of them by
    their indexes. The work follows the approvals in force, not the participants:
    the browse form walks every participant in arrears to probe their assessments, and the
    regency's participants ever listed only grow (a year of lists: 32 -> 63 ms for a count of
    nobody)."""
    approved = (
        Assessment.objects.for_regency(regency)
        .filter(status=AssessmentStatus.APPROVED, valid_until__gte=day)
        .order_by().values("participant_id")
        .annotate(routed=BoolOr(Q(route__in=NOT_FOR_DONORS))).filter(routed=False)
        .values("participant_id")
    )
    return _listed_and_free(regency).filter(pk__in=approved)


def pool_count(*, regency: Regency, today: dt.date | None = None) -> int:
    """How many participants `available_participants` holds: counted from the approvals in force
    (`_pool_by_approvals`) with JIT off (compiling the pool's plan cost ~4.4 s of 4.8 s at 65,000
    participants), then kept until the regency's data changes (`regencies.versions`): the pages
    that show it (the dashboard, a campaign's participants) are read far more often than it
    changes."""
    day = today or regency_today(regency)

    def count() -> int:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
            return _pool_by_approvals(regency=regency, day=day).count()

    return kept(regency.pk, "pool_count", (day,), count)


def pool_candidates(*, regency: Regency, today: dt.date | None = None) -> QuerySet[Participant]:
    """The same pool as `available_participants`, for the write paths (a suggestion after a
    conflict, the check under the locks): "eligible" is exactly the first branch of
    `eligibility_expression` (an approved assessment still valid), written as one EXISTS,
    which is cheaper than the whole CASE when only that value matters."""
    from assessments.models import Assessment, Status

    day = today or regency_today(regency)
    approved = Assessment.objects.for_regency(regency).filter(
        participant_id=OuterRef("pk"), status=Status.APPROVED, valid_until__gte=day)
    return (
        Participant.objects.for_regency(regency)
        .exclude(status=ParticipantStatus.CLEARED)
        .filter(Q(months_in_arrears__gt=0) | Q(arrears_amount__gt=0))
        .filter(Exists(approved))
        .exclude(not_for_donors(regency=regency, today=day))
        .exclude(_blocking_pledges(regency))
    )


# Sort key -> (label, ordering); DONOR_ORDERS reads the same orders as keyset pages.
DONOR_SORTS: dict[str, tuple[StrOrPromise, tuple[str, ...]]] = {
    "months": (_("Bulan tunggakan terbanyak"), ("-months_in_arrears", "-arrears_amount", "id")),
    "amount_asc": (_("Tunggakan terkecil"), ("arrears_amount", "id")),
    "amount": (_("Tunggakan terbesar"), ("-arrears_amount", "id")),
    "family": (_("Keluarga terbesar"), ("-family_size", "-months_in_arrears", "id")),
}
DEFAULT_DONOR_SORT = "months"


@dataclass(frozen=True)
class DonorFilters:
    district: int | None = None
    care_class: int | None = None
    band: str = ""
    sort: str = DEFAULT_DONOR_SORT

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> DonorFilters:
        district = str(params.get("district") or "")
        care_class = str(params.get("care_class") or params.get("class") or "")
        band = str(params.get("band") or "")
        sort = str(params.get("sort") or DEFAULT_DONOR_SORT)
        return cls(
            district=int(district) if district.isdigit() else None,
            care_class=int(care_class) if care_class in {"1", "2", "3"} else None,
            band=band if band in ARREARS_BANDS else "",
            sort=sort if sort in DONOR_SORTS else DEFAULT_DONOR_SORT,
        )

    @property
    def narrowed(self) -> bool:
        """Whether a filter leaves part of the pool out (the sort order leaves nothing out)."""
        return self.district is not None or self.care_class is not None or bool(self.band)


# Sort key -> keyset order (keys in one direction, ending with the unique `id`).
# The descending orders break ties lowest id first through `id_tiebreak` (the id negated).
DONOR_ORDERS: dict[str, KeysetOrder] = {
    "months": KeysetOrder("d_months", ("standing__months_in_arrears", "standing__arrears_amount", "id_tiebreak"),
                          descending=True),
    "amount_asc": KeysetOrder("d_amount_asc", ("standing__arrears_amount", "standing__participant_id")),
    "amount": KeysetOrder("d_amount", ("standing__arrears_amount", "id_tiebreak"), descending=True),
    "family": KeysetOrder("d_family", ("family_size", "months_in_arrears", "id_tiebreak"), descending=True),
}
DONOR_PER_PAGE = 20
# The donor orders that an index of the participants' standing holds (standing_sort_months and
# standing_sort_amount, read forward or backward); "family" sorts on a computed size.
INDEX_WALK_SORTS = ("months", "amount_asc", "amount")


def campaign_participants_page(
    *, campaign: Campaign, filters: DonorFilters | None = None, cursor: str | None = None,
    page_number: int | None = None, size: int = DONOR_PER_PAGE,
) -> KeysetPage[Participant]:
    """One page of the campaign's pool at `cursor`, with its count: with no filter set, the
    pool's size (`pool_count`, the dashboard's "waiting" figure); with one, exact up to 1,000."""
    filters = filters or DonorFilters()
    qs = campaign_participants(campaign=campaign, filters=filters)
    order = DONOR_ORDERS[filters.sort]
    if not filters.narrowed and filters.sort in INDEX_WALK_SORTS and (page_number or 1) <= 1:
        # The whole pool in an indexed order from the cursor: a walk of a few dozen index entries
        # (plan cost ~1,000 where JIT starts at 100,000; no parallel plan), so no page_reads()
        # and its three statements; the size comes from the cache.
        page = keyset_page(qs, order=order, cursor=cursor, size=size)
        page.count, page.count_exact = pool_count(regency=campaign.regency), True
        return page
    with page_reads():
        page = keyset_page(qs, order=order, cursor=cursor, size=size, page_number=page_number)
        if filters.narrowed:
            counted = count_capped(qs)
            page.count, page.count_exact = counted.value, counted.exact
    if not filters.narrowed:
        page.count, page.count_exact = pool_count(regency=campaign.regency), True
    return page


def campaign_participants(*, campaign: Campaign, filters: DonorFilters | None = None) -> QuerySet[Participant]:
    """The campaign's pool (`available_participants`), filtered and in the donor's order."""
    filters = filters or DonorFilters()
    qs = available_participants(regency=campaign.regency).annotate(
        id_tiebreak=ExpressionWrapper(-F("id"), output_field=BigIntegerField())
    )
    if filters.district:
        qs = qs.filter(district_id=filters.district)
    if filters.care_class:
        qs = qs.filter(care_class=filters.care_class)
    if filters.band:
        _label, low, high = ARREARS_BANDS[filters.band]
        qs = qs.filter(standing__months_in_arrears__gte=low)
        if high is not None:
            qs = qs.filter(standing__months_in_arrears__lte=high)
    return qs.order_by(*DONOR_ORDERS[filters.sort].order_by())


def participant_get_in_pool(*, campaign: Campaign, public_id: object) -> Participant:
    """A participant of the campaign's regency by public id (in the pool or not); 404 otherwise."""
    key = uuid_or_404(public_id, what="participant")
    return get_or_404(Participant.objects.for_regency(campaign.regency_id), what="participant", public_id=key)


# --- progress and donors ------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    participants_covered: int
    target_participants: int | None
    families_reactivated: int
    families_touched: int
    amount_pledged: int
    amount_verified: int
    target_amount: int | None
    pool_received: int
    pool_allocated: int

    @staticmethod
    def _pct(value: int, target: int | None) -> int:
        if not target:
            return 0
        return max(0, min(100, round(100 * value / target)))

    @property
    def participants_pct(self) -> int:
        return self._pct(self.participants_covered, self.target_participants)

    @property
    def families_pct(self) -> int:
        return self._pct(self.families_reactivated, self.families_touched)

    @property
    def pledged_pct(self) -> int:
        return self._pct(self.amount_pledged, self.target_amount)

    @property
    def verified_pct(self) -> int:
        return self._pct(self.amount_verified, self.target_amount or self.amount_pledged)


def campaign_progress(*, campaign: Campaign) -> Progress:
    """Aggregates in the database: one query on the campaign's pledges (the families' figures
    included) and one on its gifts, whatever the size."""
    return _progress_of(campaign, _pledge_totals(campaign), _gift_totals(campaign))


def campaign_overview(*, campaign: Campaign) -> tuple[Progress, DonorList]:
    """The public campaign page's figures: `campaign_progress` and `campaign_donors` from the
    same two aggregates (the donors counted in them) and the names shown: three queries."""
    # The two aggregates are kept until the regency's pledges, gifts or campaigns change; the
    # donors' names are read each time (a donor who hides theirs is hidden at once).
    pledges, gifts = kept(campaign.regency_id, "campaign_totals", (campaign.pk,),
                          lambda: (_pledge_totals(campaign, donors=True), _gift_totals(campaign, donors=True)))
    return _progress_of(campaign, pledges, gifts), _donors_of(campaign, pledges, gifts)


def _covering_donors(campaign: Campaign) -> QuerySet[Pledge, Any]:
    return (Pledge.objects.for_regency(campaign.regency_id)
            .filter(campaign=campaign, status__in=PROGRESS_STATUSES, donor__isnull=False).values("donor_id"))


def _pledge_totals(campaign: Campaign, *, progress: bool = True, donors: bool = False) -> dict[str, Any]:
    """One aggregate over the campaign's pledges: the progress figures (the families' among
    them), and/or how many donors hold a covering pledge."""
    regency = campaign.regency_id
    figures: dict[str, Any] = {}
    if progress:
        figures.update(
            covered=Count("participant", distinct=True, filter=Q(status__in=PROGRESS_STATUSES)),
            pledged=Sum("amount", filter=Q(status__in=PROGRESS_STATUSES, is_pooled=False)),
            verified=Sum("amount", filter=Q(status=PledgeStatus.VERIFIED)),
            pooled=Sum("amount", filter=Q(status__in=PROGRESS_STATUSES, is_pooled=True)),
            **_family_figures(regency),
        )
    if donors:
        figures["donors"] = Count("donor", distinct=True, filter=Q(status__in=PROGRESS_STATUSES))
    return Pledge.objects.for_regency(regency).filter(campaign=campaign).aggregate(**figures)


def _gift_totals(campaign: Campaign, *, donors: bool = False) -> dict[str, Any]:
    """One aggregate over the campaign's received gifts: their sum and, with `donors`, those
    without a donor and the donors who gave but hold no covering pledge (counted there)."""
    figures: dict[str, Any] = {"received": Sum("amount")}
    if donors:
        figures.update(anonymous=Count("id", filter=Q(donor__isnull=True)),
                       donors=Count("donor", distinct=True, filter=~Q(donor_id__in=_covering_donors(campaign))))
    return (Gift.objects.for_regency(campaign.regency_id).filter(campaign=campaign, received=True)
            .aggregate(**figures))


def _progress_of(campaign: Campaign, pledges: dict[str, Any], gifts: dict[str, Any]) -> Progress:
    received = gifts["received"] or 0
    return Progress(
        participants_covered=pledges["covered"] or 0,
        target_participants=campaign.target_participants,
        families_reactivated=pledges["families_reactivated"],
        families_touched=pledges["families_touched"],
        amount_pledged=(pledges["pledged"] or 0) + received,
        amount_verified=pledges["verified"] or 0,
        target_amount=campaign.target_amount,
        pool_received=received,
        pool_allocated=pledges["pooled"] or 0,
    )


def _family_figures(regency: Regency | int) -> dict[str, Count]:
    """Aggregates over a campaign's pledges: the families with a covering pledge (touched), and
    those of them whose every member has a verified pledge, of any campaign (active again): no
    member is still waiting for one. A participant without a family counts in neither."""
    family = "participant__family_id"
    verified = Pledge.objects.for_regency(regency).filter(participant_id=OuterRef("pk"),
                                                          status=PledgeStatus.VERIFIED)
    waiting = Participant.objects.for_regency(regency).filter(family_id=OuterRef(family)).exclude(Exists(verified))
    covering = Q(status__in=PROGRESS_STATUSES)
    return {
        "families_touched": Count(family, distinct=True, filter=covering),
        "families_reactivated": Count(family, distinct=True, filter=covering & ~Q(Exists(waiting))),
    }


def families_reactivated(*, campaign: Campaign) -> tuple[int, int]:
    """(families whose every member has a verified pledge, with at least one of this campaign;
    families with a covering pledge of this campaign). Verification arrives with reconciliation."""
    regency = campaign.regency_id
    agg = Pledge.objects.for_regency(regency).filter(campaign=campaign).aggregate(**_family_figures(regency))
    return int(agg["families_reactivated"]), int(agg["families_touched"])


@dataclass(frozen=True)
class DonorList:
    names: list[str]
    anonymous: int

    @property
    def total(self) -> int:
        return len(self.names) + self.anonymous


def campaign_donors(*, campaign: Campaign) -> DonorList:
    """Who gave, anonymous by default: names only of donors who chose to show them. Three queries
    whatever the number of donors: how many hold a covering pledge, the gifts (without a donor;
    from donors who hold none), and the names shown."""
    return _donors_of(campaign, _pledge_totals(campaign, progress=False, donors=True),
                      _gift_totals(campaign, donors=True))


def _donors_of(campaign: Campaign, pledges: dict[str, Any], gifts: dict[str, Any]) -> DonorList:
    """Each giver once: a donor with a covering pledge, a donor of a received gift who holds
    none, and each received gift without a donor."""
    givers = pledges["donors"] + gifts["donors"] + gifts["anonymous"]
    gift_donors = (Gift.objects.for_regency(campaign.regency_id)
                   .filter(campaign=campaign, received=True, donor__isnull=False).values("donor_id"))
    shown = sorted(
        DonorProfile.objects.filter(Q(user_id__in=_covering_donors(campaign)) | Q(user_id__in=gift_donors),
                                    is_anonymous=False)
        .exclude(display_name="").values_list("display_name", flat=True),
        key=str.casefold,
    )
    return DonorList(names=shown, anonymous=givers - len(shown))


# --- pledges --------------------------------------------------------------------------------


def _pledges() -> QuerySet[Pledge]:
    # A pledge is reached by its donor (who is no member of the regency) through its public id:
    # the one intended cross-regency lookup; who may see it is checked right after.
    return Pledge.all_regencies.select_related(
        "campaign", "campaign__regency", "participant", "participant__district", "participant__village",
        "participant__family", "donor",
    )


def pledge_may_view(*, user: User | AnonymousUser, pledge: Pledge,
                    staff: tuple[Perm, ...] = (Perm.MANAGE_CAMPAIGNS,)) -> bool:
    """The pledge's donor, and the members of its regency who hold one of `staff`."""
    if not user.is_authenticated:
        return False
    if pledge.donor_id is not None and pledge.donor_id == user.pk:
        return True
    access = regency_access_for(user=user, regency=pledge.campaign.regency)
    return bool(access and any(access.can(perm) for perm in staff))


def pledge_may_act(*, user: User | AnonymousUser, pledge: Pledge) -> bool:
    """The donor acts on their pledge; the regency's campaign managers act on pooled pledges."""
    if not user.is_authenticated:
        return False
    if pledge.donor_id is not None:
        return pledge.donor_id == user.pk
    access = regency_access_for(user=user, regency=pledge.campaign.regency)
    return bool(access and access.can(Perm.MANAGE_CAMPAIGNS))


def pledge_get_for_user(*, user: User | AnonymousUser, pledge_id: object,
                        staff: tuple[Perm, ...] = (Perm.MANAGE_CAMPAIGNS,)) -> Pledge:
    """A pledge the user may see (their own; or any of a regency where they hold one of `staff`,
    by default: they manage its campaigns); else 404."""
    key = uuid_or_404(pledge_id, what="pledge")
    pledge = _pledges().filter(public_id=key).first()
    if pledge is None or not pledge_may_view(user=user, pledge=pledge, staff=staff):
        raise Http404("pledge")
    return pledge


def family_size_of(*, participant: Participant) -> int:
    if participant.family_id is None:
        return 1
    return Participant.objects.for_regency(participant.regency_id).filter(family_id=participant.family_id).count()


def pledge_payments(*, pledge: Pledge) -> list[Payment]:
    return list(Payment.objects.for_regency(pledge.regency_id).filter(pledge=pledge)
                .select_related("recorded_by").order_by("created_at", "id"))


def payment_get_for_pledge(*, pledge: Pledge, payment_id: int) -> Payment:
    return get_or_404(Payment.objects.for_regency(pledge.regency_id), what="payment", pledge=pledge, pk=payment_id)


@dataclass(frozen=True)
class HistoryEntry:
    verb: str
    actor: str | None
    at: dt.datetime
    before: dict
    after: dict

    @property
    def status(self) -> str:
        return str((self.after or {}).get("status", ""))


def _outcome_entry(o: ReconciliationOutcome) -> HistoryEntry:
    """A reconciliation decision (an append-only ReconciliationOutcome row: the trail of the
    changes a run makes) as a history entry, in the shape of an audit event."""
    return HistoryEntry(
        verb=f"pledge.{o.to_status}", actor=None, at=o.created_at, before={"status": o.from_status},
        after={"status": o.to_status, "outcome": o.outcome, "reason": o.reason,
               "arrears_import": o.arrears_import_id,
               "as_of": o.evidence_as_of.isoformat() if o.evidence_as_of else None, "run": o.run_id},
    )


def _pledge_events(pledge_ids: list[int]) -> QuerySet[AuditEvent]:
    """The pledges' audit events, without those a reconciliation run wrote before its outcome rows
    became the trail of its changes (each repeats an outcome row, which is read instead)."""
    from core.models import AuditEvent

    return (AuditEvent.objects.filter(object_type="donations.pledge", object_id__in=[str(i) for i in pledge_ids])
            .exclude(actor__isnull=True, after__has_key="run"))


def _merged(events: list[HistoryEntry], outcomes: list[HistoryEntry]) -> list[HistoryEntry]:
    """Each source in the order written (ids of an append-only table, whatever the clocks said),
    the two merged by time; at the same moment, the person's or job's event comes first."""
    return list(heapq.merge(events, outcomes, key=lambda entry: entry.at))


def _event_entry(event: AuditEvent, *, show_actor_email: bool = False) -> HistoryEntry:
    """One audit event of a pledge as a history entry; the actor's address only where asked for
    (the actor is read only then)."""
    actor = event.actor.email if (show_actor_email and event.actor) else None
    return HistoryEntry(verb=event.verb, actor=actor, at=event.created_at, before=event.before or {},
                        after=event.after or {})


def pledge_history(*, pledge: Pledge, show_actor_email: bool = False) -> list[HistoryEntry]:
    """Every state change of the pledge, oldest first: its audit events and its reconciliation
    outcomes."""
    events = [_event_entry(e, show_actor_email=show_actor_email)
              for e in _pledge_events([pledge.pk]).select_related("actor").order_by("id")]
    outcomes = [_outcome_entry(o) for o in
                ReconciliationOutcome.objects.for_regency(pledge.regency_id).filter(pledge=pledge).order_by("id")]
    return _merged(events, outcomes)


def pledge_histories(*, pledges: list[Pledge]) -> dict[int, list[HistoryEntry]]:
    """The histories of several pledges in two queries (the donor's page)."""
    events: dict[int, list[HistoryEntry]] = {p.pk: [] for p in pledges}
    outcomes: dict[int, list[HistoryEntry]] = {p.pk: [] for p in pledges}
    for e in _pledge_events(list(events)).order_by("id"):
        events[int(e.object_id)].append(_event_entry(e))
    # A donor's pledges may lie in several regencies: the rows are read with their regencies.
    for o in (ReconciliationOutcome.all_regencies
              .filter(pledge__in=list(outcomes), regency_id__in={p.regency_id for p in pledges}).order_by("id")):
        outcomes[o.pledge_id].append(_outcome_entry(o))
    return {pk: _merged(events[pk], outcomes[pk]) for pk in events}


TIMELINE = (PledgeStatus.RESERVED, PledgeStatus.PLEDGED, PledgeStatus.PAID, PledgeStatus.VERIFIED)


@dataclass
class TimelineStep:
    status: str
    label: str
    at: dt.datetime | None
    done: bool
    current: bool


def pledge_timeline(*, pledge: Pledge, history: list[HistoryEntry]) -> list[TimelineStep]:
    """reserved -> pledged -> paid -> verified, with the time each was reached (from the audit)."""
    reached: dict[str, dt.datetime] = {}
    for entry in history:
        if entry.status and entry.status not in reached:
            reached[entry.status] = entry.at
    steps = []
    for status in TIMELINE:
        steps.append(TimelineStep(status=status, label=str(PledgeStatus(status).label), at=reached.get(status),
                                  done=status in reached, current=pledge.status == status))
    return steps


def pledge_next_step(*, pledge: Pledge) -> str:
    """What the donor does next, in one or two sentences: by route (family VA or the campaign's
    collecting account) and, while pledged, what is still owed and by when."""
    from core.formatting import format_datetime, format_rupiah

    collected = pledge.campaign.is_collected
    status = pledge.status
    if status == PledgeStatus.RESERVED:
        if collected:
            return str(_("Konfirmasi janji Anda sebelum batas pemesanan, lalu transfer ke rekening penampung "
                         "kampanye dengan kode pembayaran Anda."))
        return str(_("Konfirmasi janji Anda sebelum batas pemesanan. Nomor VA keluarga untuk membayar "
                     "ditampilkan setelah Anda mengonfirmasi."))
    if status == PledgeStatus.PLEDGED:
        due = format_datetime(pledge.due_at, pledge.campaign.regency.tzinfo)
        values = {"paid": format_rupiah(pledge.paid_amount), "amount": format_rupiah(pledge.amount),
                  "outstanding": format_rupiah(pledge.outstanding), "due": due, "code": pledge.payment_code}
        if pledge.paid_amount:
            owed = _("Sudah dibayar %(paid)s dari %(amount)s; sisa %(outstanding)s harus dibayar sebelum %(due)s.")
        else:
            owed = _("Bayar %(outstanding)s sebelum %(due)s; bila belum ada pembayaran sampai saat itu, janji "
                     "gugur dan peserta kembali ke daftar.")
        if collected:
            how = _("Transfer ke rekening penampung kampanye di bawah dan tulis kode pembayaran %(code)s di "
                    "berita transfer; pembayaran tercatat setelah bendahara Pemda mencocokkan mutasi rekening.")
        else:
            how = _("Bayar ke nomor VA keluarga di bawah, lalu catat pembayarannya di sini.")
        return f"{owed % values} {how % values}"
    if status == PledgeStatus.PAID:
        if collected:
            return str(_("Lunas dibayar, menunggu verifikasi BPJS: Pemda menyerahkan dana ke BPJS, lalu data "
                         "BPJS berikutnya memastikan tunggakan peserta lunas."))
        return str(_("Lunas dibayar, menunggu verifikasi BPJS: data BPJS berikutnya memastikan tunggakan "
                     "peserta lunas."))
    if status == PledgeStatus.EXPIRED and pledge.release_reason == "lapsed_unpaid":
        return str(_("Janji gugur karena belum dibayar sampai batas pembayaran; peserta kembali ke daftar. "
                     "Anda dapat memilih lagi."))
    return str({
        PledgeStatus.VERIFIED: _("Lunas dan terverifikasi: kepesertaan aktif kembali. Unduh sertifikat terima kasih Anda."),
        PledgeStatus.EXPIRED: _("Pemesanan berakhir sebelum dikonfirmasi; peserta kembali ke daftar. Anda dapat memilih lagi."),
        PledgeStatus.CANCELLED: _("Janji ini dibatalkan."),
        PledgeStatus.RELEASED: _("Janji dilepas: tunggakan peserta dihapus negara (pemutihan) sebelum dibayar; tidak "
                                 "ada uang yang perlu Anda bayarkan.") if pledge.release_reason == "written_off" else
        _("Janji dilepas: tunggakan peserta sudah diselesaikan pihak lain atau peserta keluar dari daftar."),
        PledgeStatus.DISPUTED: _("Data BPJS masih menunjukkan tunggakan setelah pembayaran; Pemda sedang memeriksanya."),
    }[PledgeStatus(status)])


@dataclass(frozen=True)
class PaymentInfo:
    """How the donor pays. Direct route: the family VA, which carries 11 digits of a card number, so
    it is shown only from `pledged` on (never in a list, never before the donor confirmed).
    Collected route: the campaign's collecting account and the pledge's payment code; no VA."""

    virtual_accounts: dict[str, str]
    amount: int
    paid: int
    due_at: dt.datetime | None
    family_number_hint: str
    route: str = "direct"
    payment_code: str = ""
    bank_name: str = ""
    account_number: str = ""
    account_holder: str = ""

    @property
    def remaining(self) -> int:
        return max(self.amount - self.paid, 0)

    @property
    def va_number(self) -> str | None:
        return next(iter(self.virtual_accounts.values()), None)


def pledge_paid_before_write_off(*, pledge: Pledge) -> bool:
    """Paid (in full) and the newest list says the participant's arrears were written off: the
    pledge is kept (the money was credited to the family before the write-off)."""
    return (pledge.status in (PledgeStatus.PAID, PledgeStatus.VERIFIED, PledgeStatus.DISPUTED)
            and bool(pledge.participant.written_off))


VA_VISIBLE_STATUSES = (PledgeStatus.PLEDGED, PledgeStatus.PAID, PledgeStatus.VERIFIED, PledgeStatus.DISPUTED)


def pledge_payment_info(*, pledge: Pledge) -> PaymentInfo:
    """Where to pay (see PaymentInfo), the amount, what was paid so far, and the due date."""
    campaign = pledge.campaign
    vas: dict[str, str] = {}
    if not campaign.is_collected and pledge.status in VA_VISIBLE_STATUSES:
        participant = pledge.participant
        card = participant.card_number
        if participant.family_id:
            head = (
                Participant.objects.for_regency(pledge.regency_id)
                .filter(family_id=participant.family_id, relationship=Relationship.HEAD)
                .order_by("card_number").values_list("card_number", flat=True).first()
            )
            card = head or card
        vas = virtual_account_numbers(card)
    due = pledge.expires_at if pledge.status == PledgeStatus.RESERVED else pledge.due_at
    return PaymentInfo(virtual_accounts=vas, amount=pledge.amount, paid=int(pledge.paid_amount), due_at=due,
                       family_number_hint="", route=campaign.payment_route, payment_code=pledge.payment_code,
                       bank_name=campaign.bank_name, account_number=campaign.account_number,
                       account_holder=campaign.account_holder)


# Newest first, for keyset pages of a campaign's or a donor's pledges: the indexes
# pledge_campaign_created (regency, campaign, created_at, id) and pledge_donor_created (donor,
# created_at, id) hold this order.
PLEDGE_ORDER = KeysetOrder("pledges", ("created_at", "id"), descending=True)
PLEDGES_PER_PAGE = 25


def donor_pledges_page(*, user: User | AnonymousUser, cursor: str | None = None,
                       size: int = PLEDGES_PER_PAGE) -> KeysetPage[Pledge]:
    """One page of the donor's own pledges, newest first: one query, a walk of pledge_donor_created
    from the cursor, however many pledges the donor has made."""
    if not user.is_authenticated:
        return KeysetPage(object_list=[], next_cursor=None, previous_cursor=None, is_first=True, count=0)
    # A plain index walk: far below the cost at which JIT or parallel workers start, so no
    # page_reads() (its savepoint and SET LOCAL would be three more statements).
    return keyset_page(_pledges().filter(donor=user), order=PLEDGE_ORDER, cursor=cursor, size=size)


def gifts_of_donor(*, user: User | AnonymousUser) -> list[Gift]:
    if not user.is_authenticated:
        return []
    return list(Gift.all_regencies.filter(donor=user).select_related("campaign").order_by("-created_at"))


@dataclass
class CampaignBoard:
    counts: dict[str, int] = field(default_factory=dict)
    payments: list[Payment] = field(default_factory=list)
    gifts: list[Gift] = field(default_factory=list)


def campaign_board(*, campaign: Campaign, limit: int = 200) -> CampaignBoard:
    """The admin page: pledges counted by status, payments to check, gifts (these two capped).
    The pledges themselves are read a page at a time (campaign_pledges_page)."""
    regency = campaign.regency_id
    board = CampaignBoard()
    counts = dict(Pledge.objects.for_regency(regency).filter(campaign=campaign).values("status")
                  .annotate(n=Count("id")).order_by().values_list("status", "n"))
    board.counts = {s: counts.get(s, 0) for s in PledgeStatus.values}
    board.payments = list(
        Payment.objects.for_regency(regency).filter(pledge__campaign=campaign)
        .select_related("pledge", "pledge__participant", "recorded_by").order_by("-created_at", "-id")[:limit]
    )
    board.gifts = list(Gift.objects.for_regency(regency).filter(campaign=campaign).select_related("donor")
                       .order_by("received", "-created_at", "-id")[:limit])
    return board


def campaign_pledges_page(*, campaign: Campaign, status: str = "", cursor: str | None = None,
                          size: int = PLEDGES_PER_PAGE) -> KeysetPage[Pledge]:
    """One page of the campaign's pledges (of one status, or all), newest first: one query, a walk
    of pledge_campaign_created from the cursor. A status is filtered on the walk (no pledge index
    names it, so that a change of status stays a HOT update). An unknown status reads all."""
    qs = (Pledge.objects.for_regency(campaign.regency_id).filter(campaign=campaign)
          .select_related("participant", "participant__district", "donor"))
    if status in PledgeStatus.values:
        qs = qs.filter(status=status)
    return keyset_page(qs, order=PLEDGE_ORDER, cursor=cursor, size=size)  # an index walk: no page_reads()


def campaign_pledges_for_export(*, campaign: Campaign) -> QuerySet[Pledge]:
    return (
        Pledge.objects.for_regency(campaign.regency_id).filter(campaign=campaign)
        .select_related("participant", "participant__district", "participant__village", "participant__family",
                        "donor", "donor__donor_profile")
        .annotate(paid_total=Sum("payments__amount"))
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class PoolBalance:
    received: int
    allocated: int

    @property
    def available(self) -> int:
        return self.received - self.allocated


def pool_balance(*, campaign: Campaign) -> PoolBalance:
    from donations.models import Allocation

    regency = campaign.regency_id
    received = Gift.objects.for_regency(regency).filter(campaign=campaign, received=True).aggregate(
        s=Sum("amount"))["s"] or 0
    allocated = Allocation.objects.for_regency(regency).filter(gift__campaign=campaign).exclude(
        pledge__status__in=[PledgeStatus.EXPIRED, PledgeStatus.CANCELLED, PledgeStatus.RELEASED]
    ).aggregate(s=Sum("amount"))["s"] or 0
    return PoolBalance(received=int(received), allocated=int(allocated))


def pledge_tally(*, regency: Regency | int) -> dict[str, tuple[int, int]]:
    """Pledges of `regency` now in each status and their rupiah, `(pledges, rupiah)` (every
    status present, (0, 0) when none): one read of the few rows the database keeps per campaign
    and status (`PledgeTally`), whatever the number of pledges."""
    rows = (PledgeTally.objects.for_regency(regency).values("status")
            .annotate(n=Sum("pledges"), rupiah=Sum("rupiah")).order_by())
    tally = dict.fromkeys(PledgeStatus.values, (0, 0))
    for row in rows:
        tally[row["status"]] = (row["n"], row["rupiah"])
    return tally


def pledge_counts(*, regency: Regency | int) -> dict[str, int]:
    """Pledges of `regency` now in each status (every status present, 0 when none): one query.
    The pages that show how many pledges are verified or disputed read this."""
    return {status: n for status, (n, _rupiah) in pledge_tally(regency=regency).items()}


def covered_participants(*, regency: Regency | int) -> dict[str, dict[int | None, int]]:
    """Participants a covering pledge covers, each once: `{"regency": {None: n}, "campaign":
    {campaign_id: n}, "district": {district_id: n}}` (the pledge's district; None: unknown). One
    read of the rows the database keeps (`CoverTally`)."""
    names: dict[str, str] = {CoverScope.REGENCY: "regency", CoverScope.CAMPAIGN: "campaign",
                             CoverScope.DISTRICT: "district"}
    covered: dict[str, dict[int | None, int]] = {name: {} for name in names.values()}
    rows = CoverTally.objects.for_regency(regency).values_list("scope", "campaign_id", "district_id", "participants")
    for scope, campaign_id, district_id, n in rows:
        if n:
            covered[names[scope]][campaign_id if scope == CoverScope.CAMPAIGN else district_id] = n
    return covered
