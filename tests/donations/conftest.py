"""Campaigns and eligible participants of regency A (Luwu Utara) for the donation tests."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from assessments.models import Assessment
from donations.models import (
    Audience,
    Campaign,
    CampaignStatus,
    Kind,
    PaymentRoute,
    Pledge,
    PledgeStatus,
)
from donations.services import donor_profile_ensure
from participants.models import Family, Relationship
from tests.factories import ArrearsImportFactory, ParticipantFactory, UserFactory

_seq = itertools.count(1)


def approve(participant, *, by, valid_days: int = 365, today: dt.date | None = None) -> Assessment:
    """An approved assessment valid for `valid_days` after `today` (the regency's date by the
    real clock unless a test that runs on a fixed clock says which day it is); made directly:
    the workflow is tested elsewhere."""
    day = today or timezone.localdate(timezone=participant.regency.tzinfo)
    return Assessment.objects.create(
        regency_id=participant.regency_id, participant=participant, status="approved", outcome="eligible",
        valid_until=day + dt.timedelta(days=valid_days), questionnaire_version=1,
        created_by=by,
    )


@pytest.fixture(autouse=True)
def _tariffs(request):
    """The Perpres 64/2020 rows the migration seeds. A transactional test (the concurrency
    tests) flushes every table afterwards, data migrations included: seed them again."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in request.fixturenames:
        request.getfixturevalue("db")
    else:
        return
    from importlib import import_module

    from donations.models import Tariff

    seed = import_module("donations.migrations.0003_seed_tariffs")
    for care_class, amount, effective_from, note in seed.TARIFFS:
        Tariff.objects.get_or_create(care_class=care_class, effective_from=effective_from,
                                     defaults={"amount": amount, "note": note})


@pytest.fixture
def import_a(branch_a):
    return ArrearsImportFactory(branch=branch_a, status="applied", as_of=dt.date(2026, 11, 1))


@pytest.fixture
def make_participant(regency_a, district_a, village_a, admin_a, import_a):
    def make(*, eligible: bool = True, family=None, months: int = 6, amount: int = 210_000, care_class: int = 3,
             relationship=Relationship.HEAD, **kwargs):
        p = ParticipantFactory(
            regency=regency_a, district=district_a, village=village_a, family=family, months_in_arrears=months,
            arrears_amount=amount, care_class=care_class, relationship=relationship, last_import=import_a,
            as_of=import_a.as_of, **kwargs,
        )
        if eligible:
            approve(p, by=admin_a)
        return p

    return make


@pytest.fixture
def make_family(regency_a, village_a):
    def make() -> Family:
        return Family.objects.create(regency=regency_a, village=village_a, number=f"7322{next(_seq):012d}")

    return make


def _campaign(regency, **kwargs) -> Campaign:
    n = next(_seq)
    values = {"slug": f"kampanye-{n}", "title": f"Kampanye {n}", "audience": Audience.PUBLIC,
              "kind": Kind.BOTH, "status": CampaignStatus.ACTIVE} | kwargs
    return Campaign.objects.create(regency=regency, **values)


@pytest.fixture
def public_campaign(regency_a):
    return _campaign(regency_a, slug="lutra-peduli", title="Luwu Utara Peduli")


@pytest.fixture
def internal_campaign(regency_a):
    return _campaign(regency_a, slug="lutra-asn", title="ASN Peduli", audience=Audience.INTERNAL,
                     kind=Kind.ONE_TO_ONE)


@pytest.fixture
def make_campaign(regency_a):
    def make(**kwargs) -> Campaign:
        return _campaign(kwargs.pop("regency", regency_a), **kwargs)

    return make


@pytest.fixture
def donor(db):
    user = UserFactory(email="donatur.satu@example.test")
    donor_profile_ensure(user=user)
    return user


@pytest.fixture
def donor2(db):
    user = UserFactory(email="donatur.dua@example.test")
    donor_profile_ensure(user=user)
    return user


# --- the money side: a collected-route campaign and pledges made directly (the treasurers: tests/conftest.py)


@pytest.fixture
def collected(make_campaign):
    return make_campaign(slug="lutra-asn", title="ASN Peduli", payment_route=PaymentRoute.COLLECTED,
                         bank_name="Bank Sulselbar", account_number="1234567890", account_holder="Pemkab Lutra")


@pytest.fixture
def make_pledge(make_participant, donor):
    """A pledge written directly (the workflow is tested elsewhere): pledged by default."""
    def make(campaign, *, amount: int = 245_000, status: str = PledgeStatus.PLEDGED, paid: int = 0) -> Pledge:
        participant = make_participant(eligible=False)
        now = timezone.now()
        return Pledge.objects.create(
            regency_id=campaign.regency_id, campaign=campaign, participant=participant, donor=donor, status=status,
            amount=amount, arrears_amount=amount - 35_000, months_in_arrears=6, monthly_tariff=35_000,
            paid_amount=paid, pledged_at=now if status != PledgeStatus.RESERVED else None,
            expires_at=now + dt.timedelta(hours=72), due_at=now + dt.timedelta(days=14),
        )

    return make
