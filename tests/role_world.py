"""Each role's work in one regency, made directly in the database: the world that the home page's
tests (tests/reporting/test_home_pages.py) count and the browser's walks (tests/e2e) click through."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from assessments.models import Assessment, Screening
from donations.models import (
    Anomaly,
    Audience,
    BankStatement,
    Campaign,
    CampaignStatus,
    Handover,
    Kind,
    PaymentRoute,
    Pledge,
    PledgeStatus,
)
from participants.models import ImportStatus
from tests.factories import ArrearsImportFactory, ParticipantFactory, UserFactory

_seq = itertools.count(1)


def screen(regency, *, assigned_to=None, **fields):
    """A participant in arrears (`fields` for the factory) whom screening put in the assessment queue."""
    participant = ParticipantFactory(regency=regency, **fields)
    Screening.objects.create(regency=regency, participant=participant, recommendation="assess",
                             computed_at=timezone.now(), queued_on=timezone.localdate(),
                             assigned_to=assigned_to)
    return participant


def assessment(regency, status, *, by, submitted_by=None):
    participant = screen(regency)
    return Assessment.objects.create(
        regency=regency, participant=participant, status=status, questionnaire_version=1,
        created_by=by, assigned_to=by, submitted_by=submitted_by,
        submitted_at=timezone.now() if submitted_by else None,
    )


def campaign(regency, **kwargs) -> Campaign:
    n = next(_seq)
    values = {"slug": f"rumah-{n}", "title": f"Kampanye {n}", "audience": Audience.PUBLIC,
              "kind": Kind.BOTH, "status": CampaignStatus.ACTIVE} | kwargs
    return Campaign.objects.create(regency=regency, **values)


def pledge(campaign, donor, status=PledgeStatus.PLEDGED) -> Pledge:
    participant = ParticipantFactory(regency=campaign.regency)
    now = timezone.now()
    paid = status in (PledgeStatus.PAID, PledgeStatus.VERIFIED)
    return Pledge.objects.create(
        regency_id=campaign.regency_id, campaign=campaign, participant=participant, donor=donor, status=status,
        amount=245_000, arrears_amount=210_000, months_in_arrears=6, monthly_tariff=35_000,
        paid_amount=245_000 if paid else 0, pledged_at=None if status == PledgeStatus.RESERVED else now,
        expires_at=now + dt.timedelta(hours=72), due_at=now + dt.timedelta(days=14),
        verified_at=now if status == PledgeStatus.VERIFIED else None,
    )


def statement(campaign, status):
    return BankStatement.objects.create(regency=campaign.regency, campaign=campaign, file="mutasi.csv",
                                        sha256=f"{next(_seq):064d}", status=status)


class World:
    """Each role's work in one regency, `k` times over: todo, drafts, submissions, pledges,
    statements, hand-overs, anomalies and imports."""

    def __init__(self, regency, branch, *, assessor, supervisor, staff, treasurer, admin):
        self.regency, self.branch = regency, branch
        self.assessor, self.supervisor, self.staff = assessor, supervisor, staff
        self.treasurer, self.admin = treasurer, admin
        self.internal = campaign(regency, audience=Audience.INTERNAL, kind=Kind.ONE_TO_ONE,
                                 title=f"ASN {regency.name}")
        self.collected = campaign(regency, payment_route=PaymentRoute.COLLECTED, title=f"Rekening {regency.name}")

    def add(self, k: int) -> None:
        r = self.regency
        for _ in range(k):
            screen(r)
            screen(r)
            screen(r, assigned_to=self.assessor)  # todo, 3 per k; 1 assigned to the assessor
            assessment(r, "draft", by=self.assessor)
            assessment(r, "submitted", by=self.assessor, submitted_by=self.assessor)
            assessment(r, "submitted", by=self.assessor, submitted_by=self.assessor)
            pledge(self.internal, self.staff)
            pledge(self.collected, UserFactory(), PledgeStatus.PAID)
            statement(self.collected, "done")
            Anomaly.objects.create(regency=r, kind="disputed_payment",
                                   pledge=pledge(self.collected, UserFactory(), PledgeStatus.VERIFIED))
            ArrearsImportFactory(branch=self.branch, status=ImportStatus.APPLIED,
                                 as_of=dt.date(2026, 1, 1) + dt.timedelta(days=next(_seq)))

    def add_once(self) -> None:
        r = self.regency
        assessment(r, "submitted", by=self.supervisor, submitted_by=self.supervisor)  # the supervisor's own
        pledge(self.internal, self.staff, PledgeStatus.RESERVED)
        statement(self.collected, "queued")
        Handover.objects.create(regency=r, campaign=self.collected, number=f"H-{next(_seq)}",
                                created_by=self.treasurer)
        ArrearsImportFactory(branch=self.branch, status=ImportStatus.AWAITING_CONFIRMATION,
                             as_of=dt.date(2026, 11, 22), rows=40,
                             preview={"would_clear": 12, "would_clear_by_regency": {r.code: 12},
                                      "pledges_released": 1, "participants": 52, "threshold_percent": 10})
        ArrearsImportFactory(branch=self.branch, status=ImportStatus.QUEUED, as_of=dt.date(2026, 11, 23))


def world_with_work(regency, branch, *, k: int = 2, **users) -> World:
    """A World of `regency` with its work added `k` times over, and the once-only items."""
    world = World(regency, branch, **users)
    world.add(k)
    world.add_once()
    return world
