"""The routes of 2026: where a household in arrears should be sent before donors are asked.

- the state's write-off (`WriteOffProgramme`, data the national operator edits): a household
  in a covered DTSEN decile, class and segment is referred to PBI and its arrears are written
  off by the programme; donors are never asked to pay what the state erases;
- a household that may apply to the write-off is flagged so the assessor helps it apply;
- REHAB 2.0 (BPJS instalments for 4-24 months of arrears, up to 12 instalments or half the
  months owed): a household that can carry an instalment is routed there, not to donors;
- a participant already in REHAB (the list says so) may be pledged for what is left.

Pure reads: services store the route on the assessment, donations filter the pool on it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from assessments.models import Assessment, Route, Status, WriteOffProgramme

# REHAB 2.0 (since 3 Feb 2025): PBPU/BP with 4-24 months of arrears; up to 12 instalments
# or half the months owed (whichever is fewer).
REHAB_MIN_MONTHS = 4
REHAB_MAX_MONTHS = 24
REHAB_MAX_INSTALMENTS = 12
REHAB_SEGMENTS = ("PBPU", "BP")

# Routes of an approved assessment that keep a participant out of the donors' pool.
NOT_FOR_DONORS = (Route.WRITEOFF, Route.REHAB)

COVERED = "covered"
MAY_APPLY = "may_apply"


def programme_in_force(on: dt.date) -> list[WriteOffProgramme]:
    """Write-off programmes in force on `on` (started, not yet ended), oldest first."""
    return list(
        WriteOffProgramme.objects.filter(starts_on__lte=on)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        .order_by("starts_on", "pk")
    )


def _written_off_before(participant) -> bool:
    """An earlier list marked this participant written off although the newest does not:
    the write-off was used (programmes that count once per person do not cover again)."""
    from participants.models import ArrearsRecord

    if participant.written_off:
        return False
    return ArrearsRecord.objects.for_regency(participant.regency_id).filter(
        participant_id=participant.pk, written_off=True
    ).exists()


def writeoff_match(*, participant, decile: int | None, on: dt.date) -> tuple[str | None, WriteOffProgramme | None]:
    """(`covered` | `may_apply` | None, the programme that says so)."""
    programmes = programme_in_force(on)
    if participant.written_off is True:
        # The newest list says BPJS wrote it off: covered, by the programme in force if any.
        return COVERED, (programmes[0] if programmes else None)
    used = None
    may_apply = None
    for programme in programmes:
        if not programme.covers_participant(participant):
            continue
        if decile is not None and decile in (programme.deciles_automatic or []):
            if programme.once_per_person:
                if used is None:
                    used = _written_off_before(participant)
                if used:
                    continue
            return COVERED, programme
        if may_apply is None and decile is not None and decile in (programme.deciles_may_apply or []):
            may_apply = programme
    if may_apply is not None:
        return MAY_APPLY, may_apply
    return None, None


def writeoff_route_for(*, participant, decile: int | None, on: dt.date) -> str | None:
    """`covered` (a decile the programme writes off automatically, the participant's class and
    segment covered; or the newest list marks the participant written off), `may_apply` (a
    decile that may apply) or None."""
    return writeoff_match(participant=participant, decile=decile, on=on)[0]


# --- REHAB ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RehabPlan:
    instalments: int
    instalment: int  # rupiah a month (the last one may be a little less)
    total: int

    @property
    def label(self) -> str:
        from core.formatting import format_rupiah

        return _("cicilan %(amount)s × %(n)s") % {"amount": format_rupiah(self.instalment), "n": self.instalments}


def rehab_plan(*, months: int, amount: int, segment: str = "PBPU") -> RehabPlan | None:
    """The REHAB instalments for `months` of arrears totalling `amount`, or None when REHAB
    does not apply (fewer than 4 or more than 24 months, or not PBPU/BP).

    Instalments: up to 12, and at most half the months owed (24 months -> 12, 10 -> 5,
    5 -> 2); each is the arrears divided by their number, rounded up to the rupiah."""
    if segment not in REHAB_SEGMENTS or not REHAB_MIN_MONTHS <= (months or 0) <= REHAB_MAX_MONTHS:
        return None
    if amount <= 0:
        return None
    n = min(REHAB_MAX_INSTALMENTS, months // 2)
    return RehabPlan(instalments=n, instalment=math.ceil(amount / n), total=amount)


def rehab_plan_for(participant) -> RehabPlan | None:
    return rehab_plan(months=participant.months_in_arrears, amount=participant.arrears_amount,
                      segment=participant.segment)


def rehab_instalment(participant) -> int | None:
    """For a participant already in REHAB (the newest list says `rehab` = Y): one monthly
    instalment in rupiah, or None (not in REHAB, or nothing left to pay).

    The list's arrears amount is what is still owed; it is spread over the list's
    `sisa_cicilan` (`rehab_instalments_left`) or, when the list does not say, over the
    instalments REHAB would give for the months owed (up to 12, at most half the months).
    The whole remainder is `rehab_remaining(participant)`."""
    if participant.in_rehab is not True:
        return None
    remaining = participant.arrears_amount or 0
    left = participant.rehab_instalments_left
    if remaining <= 0 or left == 0:
        return None
    if not left:
        left = max(1, min(REHAB_MAX_INSTALMENTS, (participant.months_in_arrears or 0) // 2))
    return math.ceil(remaining / left)


def rehab_remaining(participant) -> int | None:
    """What is left of a REHAB participant's instalments (the list's arrears), or None."""
    if rehab_instalment(participant) is None:
        return None
    return participant.arrears_amount


def can_pay_instalment(answers: dict | None) -> bool:
    return (answers or {}).get("can_pay_instalment") == "yes"


# --- the route of an assessment ----------------------------------------------------------


@dataclass(frozen=True)
class RouteDecision:
    route: str
    programme: WriteOffProgramme | None = None
    writeoff: str | None = None  # covered / may_apply / None
    rehab: RehabPlan | None = None


def route_for(*, participant, answers: dict | None, on: dt.date) -> RouteDecision:
    """The route the answers and the newest list point to, in this order: the write-off
    (covered), already in REHAB, REHAB (the household can pay an instalment and REHAB
    applies), may apply to the write-off, donors. No answer yet and nothing on the list:
    an empty route (undecided)."""
    answers = answers or {}
    decile = answers.get("dtsen_decile")
    decile = decile if isinstance(decile, int) else None
    writeoff, programme = writeoff_match(participant=participant, decile=decile, on=on)
    plan = rehab_plan_for(participant)
    if writeoff == COVERED:
        return RouteDecision(Route.WRITEOFF, programme, writeoff, plan)
    if participant.in_rehab is True:
        return RouteDecision(Route.IN_REHAB, programme, writeoff, plan)
    if plan is not None and can_pay_instalment(answers):
        return RouteDecision(Route.REHAB, programme, writeoff, plan)
    if writeoff == MAY_APPLY:
        return RouteDecision(Route.WRITEOFF_MAY_APPLY, programme, writeoff, plan)
    if not answers:
        return RouteDecision(Route.UNDECIDED, None, None, plan)
    return RouteDecision(Route.DONOR, None, None, plan)


def route_text(*, route: str, programme: WriteOffProgramme | None, plan: RehabPlan | None) -> str:
    """The recommendation as the assessor and supervisor read it."""
    from core.formatting import format_rupiah

    if route == Route.WRITEOFF:
        name = programme.name if programme else _("pemutihan tunggakan")
        return _("Rujuk ke PBI; tunggakan dihapus oleh program %(name)s. Jangan ditawarkan ke donatur.") % {
            "name": name}
    if route == Route.WRITEOFF_MAY_APPLY:
        name = programme.name if programme else _("pemutihan tunggakan")
        return _("Bantu ajukan pemutihan: rumah tangga ini dapat mengajukan ke program %(name)s.") % {"name": name}
    if route == Route.REHAB:
        if plan is None:
            return _("Rujuk ke program REHAB BPJS Kesehatan (cicilan tunggakan).")
        return _(
            "Rujuk ke program REHAB BPJS Kesehatan: %(plan)s (total %(total)s); "
            "tidak ditawarkan ke donatur."
        ) % {"plan": plan.label, "total": format_rupiah(plan.total)}
    if route == Route.IN_REHAB:
        return _("Sudah ikut REHAB: donatur dapat membantu sisa cicilan.")
    if route == Route.DONOR:
        return _("Dapat ditawarkan ke donatur bila disetujui.")
    return ""


# --- the donors' pool ----------------------------------------------------------------


def not_for_donors(*, regency, today: dt.date) -> Q:
    """Participants the donors' pool must leave out, as a filter on Participant rows of
    `regency`: the newest list marks them written off, or their approved (still valid)
    assessment routes them to the write-off or to REHAB. Use: `qs.exclude(not_for_donors(...))`."""
    routed: QuerySet[Assessment] = Assessment.objects.for_regency(regency).filter(
        participant_id=OuterRef("pk"), status=Status.APPROVED, valid_until__gte=today, route__in=NOT_FOR_DONORS,
    )
    return Q(written_off=True) | Q(Exists(routed))
