"""Demo data through the real workflow: assessors fill and submit, a different user decides."""

from __future__ import annotations

import datetime as dt
import random

from assessments import services
from assessments.models import OPEN_STATUSES, Assessment, ReasonCode, Route, Screening, Status
from assessments.screening import screening_run
from core.time import regency_today
from participants.models import Participant, ParticipantStatus
from regencies.models import Membership, Regency
from regencies.roles import Role

_OCCUPATIONS = ["farmer", "fisher", "labourer", "trader", "driver", "housewife"]


def _answers(rng: random.Random, today: dt.date, *, action: str = "approve", reason: str = "") -> dict:
    size = rng.randint(1, 7)
    answers = {
        "visit_date": (today - dt.timedelta(days=rng.randint(0, 30))).isoformat(),
        "household_size": size,
        "dependants": rng.randint(0, max(size - 1, 0)),
        "main_occupation": rng.choice(_OCCUPATIONS),
        "income_band": rng.choice(["below_half", "half_to_umk", "half_to_umk", "umk_to_double"]),
        "assets": rng.sample(["motorbike", "land", "livestock"], rng.randint(0, 2)) or ["none"],
        "housing": rng.choice(["own_simple", "own_simple", "own_permanent", "rented", "staying"]),
        "arrears_reason": rng.choice(["cannot_afford", "irregular_income", "unaware"]),
        "recent_hospitalisation": rng.random() < 0.15,
        "under_treatment": rng.random() < 0.1,
        "keep_paying": rng.choice(["willing_able", "willing_able", "willing_unable"]),
        "can_pay_instalment": "no",
        "consent": True,
    }
    if reason == ReasonCode.REFER_PBI:
        # Deciles the 2026 write-off covers: referred to PBI, arrears written off.
        answers["dtsen_decile"] = rng.randint(1, 4)
    elif rng.random() < 0.4:
        # Approved households go to donors: not a decile the write-off covers.
        answers["dtsen_decile"] = rng.randint(5, 10)
    return answers


def _seed_routes(*, regency: Regency, assessor, decider, candidates: list, today: dt.date) -> dict:
    """The two households of the 2026 rules, once per regency: a decile-2 household referred to
    PBI whose arrears the write-off programme erases, and a household that can carry a REHAB
    instalment. Both decided by a second person, neither offered to donors."""
    from assessments import routes

    done = Assessment.objects.for_regency(regency)
    created = {"writeoff": 0, "rehab": 0}
    base = {
        "visit_date": today.isoformat(), "household_size": 4, "dependants": 2, "main_occupation": "farmer",
        "assets": ["none"], "housing": "own_simple", "recent_hospitalisation": False,
        "under_treatment": False, "consent": True,
    }
    wanted = []
    if not done.filter(route=Route.WRITEOFF, answers__dtsen_decile=2).exists() and routes.programme_in_force(today):
        writeoff = next((e for e in candidates if e.participant.care_class == 3), None)
        if writeoff is not None:
            wanted.append(("writeoff", writeoff, {
                **base, "income_band": "below_half", "arrears_reason": "cannot_afford",
                "keep_paying": "willing_unable", "dtsen_decile": 2, "can_pay_instalment": "no",
                "notes": "Data demo: desil 2, tunggakan dihapus program pemutihan; usulkan PBI.",
            }, ReasonCode.REFER_PBI))
    if not done.filter(route=Route.REHAB).exists():
        taken = {w[1].participant_id for w in wanted}
        rehab = next((e for e in candidates if e.participant_id not in taken
                      and routes.rehab_plan_for(e.participant) is not None), None)
        plan = routes.rehab_plan_for(rehab.participant) if rehab is not None else None
        if rehab is not None and plan is not None:
            wanted.append(("rehab", rehab, {
                **base, "income_band": "half_to_umk", "arrears_reason": "irregular_income",
                "keep_paying": "willing_able", "dtsen_decile": 7, "can_pay_instalment": "yes",
                "instalment_capacity": plan.instalment,
                "notes": "Data demo: sanggup mencicil; rujuk ke REHAB BPJS.",
            }, ReasonCode.REFER_REHAB))
    for kind, entry, answers, reason in wanted:
        a = services.assessment_start(regency=regency, actor=assessor, participant=entry.participant)
        services.assessment_save_answers(assessment=a, actor=assessor, answers=answers)
        services.assessment_submit(assessment=a, actor=assessor)
        services.assessment_reject(assessment=a, actor=decider, reason=reason)
        created[kind] += 1
    return created


def _members(regency: Regency, *roles: str) -> list:
    return [
        m.user for m in Membership.objects.for_regency(regency)
        .filter(role__in=roles, is_active=True).select_related("user").order_by("user__email")
    ]


def seed_assessments(*, regency: Regency, fraction: float = 0.5, seed: int = 1) -> dict:
    """Approve about `fraction` of the participants of `regency` (idempotent:
    counts what is already approved), reject a few with reason codes, leave a few drafts."""
    assessors = _members(regency, Role.ASSESSOR)
    deciders = _members(regency, Role.SUPERVISOR, Role.REGENCY_ADMIN)
    if not assessors or not any(d.pk != assessors[0].pk for d in deciders):
        return {"regency": regency.code, "skipped": "no assessor and different supervisor/admin"}
    screening_run(regency=regency)
    rng = random.Random(f"{seed}-{regency.code}")
    today = regency_today(regency)
    screened = Screening.objects.for_regency(regency).count()
    done = Assessment.objects.for_regency(regency)
    approved = done.filter(status=Status.APPROVED).count()
    # About `fraction` of the regency's participants on the list (those not in arrears
    # are not in the queue, so the target is capped by who can be assessed).
    on_list = Participant.objects.for_regency(regency).exclude(status=ParticipantStatus.CLEARED).count()
    target = round(on_list * fraction)
    rejected = done.filter(status=Status.REJECTED).count()
    drafts = done.filter(status__in=OPEN_STATUSES).count()
    want_rejected = max(round(screened * 0.06), 1 if screened else 0)
    want_drafts = max(round(screened * 0.04), 1 if screened else 0)
    candidates = list(
        Screening.objects.for_regency(regency)
        .exclude(participant__in=Assessment.objects.for_regency(regency).values("participant"))
        .exclude(recommendation="likely_ineligible")
        .select_related("participant").order_by("-queue_rank", "participant_id")
    )
    risky = list(
        Screening.objects.for_regency(regency).filter(recommendation="likely_ineligible")
        .exclude(participant__in=Assessment.objects.for_regency(regency).values("participant"))
        .select_related("participant").order_by("participant_id")
    )
    reasons = [ReasonCode.ABLE_TO_PAY, ReasonCode.REFER_PBI, ReasonCode.MOVED, ReasonCode.DUPLICATE]
    created = {"approved": 0, "rejected": 0, "draft": 0, "writeoff": 0, "rehab": 0}
    queue = [("reject", e) for e in risky[: max(want_rejected - rejected, 0)]]
    plan: list[tuple[str, Screening]] = []
    for entry in candidates:
        if approved + created["approved"] + sum(1 for a, _ in plan if a == "approve") < target:
            plan.append(("approve", entry))
        elif rejected + len(queue) + sum(1 for a, _ in plan if a == "reject") < want_rejected:
            plan.append(("reject", entry))
        elif drafts + sum(1 for a, _ in plan if a == "draft") < want_drafts:
            plan.append(("draft", entry))
        else:
            break
    for action, entry in queue + plan:
        assessor = assessors[entry.participant_id % len(assessors)]
        decider = next(d for d in deciders if d.pk != assessor.pk)
        reason = ""
        if action == "reject":
            reason = ReasonCode.PAYS_WHEN_SICK if entry.recommendation == "likely_ineligible" else rng.choice(reasons)
        a = services.assessment_start(regency=regency, actor=assessor, participant=entry.participant)
        services.assessment_save_answers(assessment=a, actor=assessor,
                                         answers=_answers(rng, today, action=action, reason=reason))
        if action == "draft":
            created["draft"] += 1
            continue
        services.assessment_submit(assessment=a, actor=assessor)
        if action == "approve":
            services.assessment_approve(assessment=a, actor=decider)
            created["approved"] += 1
        else:
            services.assessment_reject(assessment=a, actor=decider, reason=reason,
                                       note="Data demo" if reason == ReasonCode.OTHER else "")
            created["rejected"] += 1
    planned = {e.participant_id for _a, e in queue + plan}
    rest = [e for e in candidates if e.participant_id not in planned
            and e.participant.written_off is not True and e.participant.in_rehab is not True]
    if rest:
        assessor = assessors[0]
        decider = next(d for d in deciders if d.pk != assessor.pk)
        created.update(_seed_routes(regency=regency, assessor=assessor, decider=decider, candidates=rest,
                                    today=today))
    return {
        "regency": regency.code,
        "participants": on_list,
        "screened": screened,
        "approved": approved + created["approved"],
        "created": created,
    }
