"""The pooled fund: received gifts are allocated to eligible, unpledged participants.

Priority (a partial payment reactivates nobody: the family is the unit that becomes active):
1. families already partly covered (a member has a pledge, or is not in arrears) come first,
   so that they become whole;
2. then families by the longest arrears of a member, then by family size (larger first).
A family's eligible, unpledged members are allocated together, only when the money left
covers all of them; otherwise the family is skipped for a smaller one (money is never spent
on a family that would stay inactive).

Each allocation is a `Pledge` of the campaign itself (`donor=None`, `is_pooled=True`,
status `pledged`) with `Allocation` rows taking the money from the oldest received gifts
first. Under the regency lock the sum of allocations never exceeds the sum of gifts; a run
with nothing new to allocate changes nothing (idempotent).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.audit import audit_record
from core.time import regency_today
from donations import selectors
from donations.models import COVERING_STATUSES, Allocation, Campaign, Gift, Pledge, PledgeStatus
from donations.services import _create, _lock_participants, _lock_regency
from participants.models import Participant, ParticipantStatus

RETURNED = (PledgeStatus.EXPIRED, PledgeStatus.CANCELLED, PledgeStatus.RELEASED)


@dataclass(frozen=True)
class AllocationResult:
    pledges: int
    families: int
    amount: int
    available_before: int
    available_after: int


def _gift_balances(campaign: Campaign) -> list[list[int]]:
    """[gift id, money left] of the campaign's received gifts, oldest first."""
    regency = campaign.regency_id
    used = (Allocation.objects.for_regency(regency).filter(gift_id=OuterRef("pk"))
            .exclude(pledge__status__in=RETURNED).order_by().values("gift_id")
            .annotate(s=Sum("amount")).values("s"))
    rows = (Gift.objects.for_regency(regency).filter(campaign=campaign, received=True)
            .annotate(used=Coalesce(Subquery(used), Value(0)))
            .order_by("received_at", "id").values_list("pk", "amount", "used"))
    return [[pk, amount - used] for pk, amount, used in rows if amount - used > 0]


def allocation_plan(*, campaign: Campaign, today: dt.date) -> list[list[Participant]]:
    """Families (lists of members to allocate together) in priority order."""
    regency = campaign.regency
    pool = list(selectors.available_participants(regency=regency, today=today).order_by("id"))
    by_family: dict[object, list[Participant]] = defaultdict(list)
    for p in pool:
        by_family[p.family_id or f"p{p.pk}"].append(p)
    family_ids = [f for f in by_family if not isinstance(f, str)]
    covering = Pledge.objects.for_regency(regency).filter(participant_id=OuterRef("pk"),
                                                          status__in=COVERING_STATUSES)
    covered = set(
        Participant.objects.for_regency(regency).filter(family_id__in=family_ids)
        .filter(Q(Exists(covering)) | Q(months_in_arrears=0, arrears_amount=0)
                | Q(status=ParticipantStatus.CLEARED))
        .values_list("family_id", flat=True).distinct()
    )
    groups = []
    for key, members in by_family.items():
        members.sort(key=lambda m: (-m.months_in_arrears, m.pk))
        partly = key in covered
        size = max(int(getattr(members[0], "family_size", 1) or 1), len(members))
        groups.append(((0 if partly else 1, -members[0].months_in_arrears, -size, members[0].pk), members))
    groups.sort(key=lambda item: item[0])
    return [members for _key, members in groups]


def pool_allocate(*, campaign: Campaign, actor=None, now: dt.datetime | None = None) -> AllocationResult:
    """Allocate what the pool holds. Safe to run twice and concurrently (regency lock)."""
    moment = now or timezone.now()
    with transaction.atomic():
        regency = _lock_regency(campaign.regency_id)
        campaign = Campaign.objects.for_regency(regency).select_related("regency").get(pk=campaign.pk)
        balances = _gift_balances(campaign)
        available = sum(b[1] for b in balances)
        if not campaign.allows_pooled or available <= 0:
            return AllocationResult(0, 0, 0, available, available)
        today = regency_today(regency, moment)
        left = available
        pledges = families = spent = 0
        for members in allocation_plan(campaign=campaign, today=today):
            locked = _lock_participants(regency, [m.pk for m in members])
            quotes = [selectors.pledge_quote(participant=m, campaign=campaign, today=today) for m in locked]
            cost = sum(q.total for q in quotes)
            if cost > left:
                continue
            for participant in locked:
                pledge = _create(campaign=campaign, participant=participant, donor=None,
                                 status=PledgeStatus.PLEDGED, now=moment, today=today, is_pooled=True)
                need = pledge.amount
                for balance in balances:
                    if need == 0:
                        break
                    take = min(balance[1], need)
                    if take <= 0:
                        continue
                    Allocation.objects.create(regency=regency, gift_id=balance[0], pledge=pledge, amount=take)
                    balance[1] -= take
                    need -= take
                if need:  # cannot happen: cost <= left; refuse rather than over-allocate
                    raise RuntimeError("pooled allocation would exceed the gifts")
                left -= pledge.amount
                spent += pledge.amount
                pledges += 1
            families += 1
            if left <= 0:
                break
        if pledges:
            audit_record(actor=actor, verb="pool.allocated", obj=campaign, regency=regency,
                         after={"pledges": pledges, "families": families, "amount": spent,
                                "available_before": available, "available_after": left})
    return AllocationResult(pledges, families, spent, available, left)


def pool_allocate_all(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The nightly run: every active campaign with a pooled fund (each in its own transaction)."""
    from donations.models import CampaignStatus, Kind

    done: dict[str, int] = {}
    for campaign in Campaign.all_regencies.filter(status=CampaignStatus.ACTIVE,
                                                  kind__in=[Kind.POOLED, Kind.BOTH]).order_by("pk"):
        done[campaign.slug] = pool_allocate(campaign=campaign, now=now).pledges
    return done
