"""One ledger: for every campaign, received = handed over + waiting + refunded, whatever happens.

A property test: Hypothesis generates sequences of donor payments (partial or full), statement
and provider credits through `payment_apply` (overpayments included, and credits for closed
pledges or no pledge at all), hand-over batches and their transfer, lapses, cancellations and
refunds, on a collected and a direct campaign. The test keeps its own model of the money (what
each pledge received, handed over and refunded) and checks, after every step, the ledger against
it and against the payments; which families a batch takes and for how much are checked against
the model's own answer."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from donations import services
from donations.models import (
    Handover,
    HandoverLine,
    HandoverStatus,
    LedgerEntry,
    LedgerKind,
    Payment,
    PaymentRoute,
    PaymentSource,
    Pledge,
    PledgeStatus,
)
from donations.money.handovers import (
    LIVE_STATUSES,
    PAID_STATUSES,
    handover_create,
    handover_mark_transferred,
    ledger_refund,
    ledger_refundable,
)
from donations.money.ledger import ledger_balance
from donations.money.payments import OPEN_FOR_MONEY
from participants.models import Participant, Relationship, virtual_account_numbers
from regencies.roles import Role
from tests.donations.handover_helpers import (
    bank_pays,
    confirmed,
    donor_pays,
    fresh,
    today_of,
    unmatched_credit,
)
from tests.factories import UserFactory, member

_refs = itertools.count(1)
COLLECTED, DIRECT = 0, 1
# The pledges of one example: (campaign, family slot or None, relationship, confirmed?)
LAYOUT = (
    (COLLECTED, "f1", Relationship.HEAD, True),
    (COLLECTED, "f1", Relationship.WIFE, True),
    (COLLECTED, "f2", Relationship.HEAD, True),
    (COLLECTED, "f2", Relationship.CHILD, True),
    (COLLECTED, None, "", True),
    (COLLECTED, None, "", False),  # reserved: a bank credit confirms it
    (DIRECT, "f3", Relationship.HEAD, True),
    (DIRECT, "f3", Relationship.WIFE, True),
)
N = len(LAYOUT)


@dataclass
class Model:
    """The money as the test expects it, kept independently of the code under test."""

    received: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # per pledge id
    handed: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    refunded: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    unassigned: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # per campaign id
    unassigned_refunded: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    batch_of: dict[int, int] = field(default_factory=dict)  # pledge id -> handover id
    shares: dict[int, dict[int, int]] = field(default_factory=dict)  # handover id -> {pledge: amount}
    transferred: set[int] = field(default_factory=set)

    def waiting(self, pk: int) -> int:
        return self.received[pk] - self.handed[pk] - self.refunded[pk]

    def share(self, pledge: Pledge) -> int:
        if pledge.status not in LIVE_STATUSES:
            return 0
        return max(min(self.waiting(pledge.pk), pledge.amount - self.handed[pledge.pk]), 0)


pledge_index = st.integers(0, N - 1)
# Credits: short of what is owed, exactly it, or above it (an overpayment), and now and then any.
credit = st.one_of(st.sampled_from([-100_000, -1, 0, 0, 1, 25_000]), st.integers(-300_000, 60_000))
step = st.one_of(
    st.tuples(st.just("donor_pay"), pledge_index, st.sampled_from([0.25, 0.5, 1.0, 1.0])),
    st.tuples(st.just("bank_pay"), pledge_index, credit),
    st.tuples(st.just("provider_pay"), pledge_index, credit),
    st.tuples(st.just("unmatched"), st.integers(0, 1), st.integers(1, 100_000)),
    st.tuples(st.just("handover"), st.integers(0, 1)),
    st.tuples(st.just("transfer"), st.integers(0, 3)),
    st.tuples(st.just("lapse")),
    st.tuples(st.just("cancel"), pledge_index),
    st.tuples(st.just("refund"), st.integers(-2, N - 1),
              st.one_of(st.sampled_from([1, 25_000]), st.integers(1, 120_000))),
)


@pytest.fixture
def money_world(regency_a, make_campaign, make_participant, make_family):
    treasurer = member(regency_a, Role.TREASURER, email="bendahara.lutra@example.test")

    def build():
        """A collected and a direct campaign, families and pledges (made fresh for each example)."""
        n = next(_refs)
        campaigns = (
            make_campaign(slug=f"asn-{n}", payment_route=PaymentRoute.COLLECTED, bank_name="Bank Sulselbar",
                          account_number="1234567890", account_holder="Pemkab"),
            make_campaign(slug=f"peduli-{n}"),
        )
        donor = UserFactory(email=f"donatur.{n}@example.test")
        families = {slot: make_family() for slot in ("f1", "f2", "f3")}
        pledges = []
        for i, (which, slot, relationship, confirm) in enumerate(LAYOUT):
            participant = make_participant(family=families.get(slot), relationship=relationship,
                                           card_number=f"{n % 1000:03d}{i:010d}", months=3 + i,
                                           amount=(3 + i) * 35_000)
            if confirm:
                pledges.append(confirmed(campaigns[which], participant, donor))
            else:
                pledges.append(services.pledge_reserve(campaign=campaigns[which], participant=participant,
                                                       donor=donor))
        return campaigns, donor, pledges

    return treasurer, build


def _ok(call) -> tuple[bool, DomainError | None]:
    try:
        call()
    except DomainError as exc:
        return False, exc
    return True, None


def _expected_lines(model: Model, campaign, pledges: list[Pledge]) -> dict[str, int]:
    """The model's answer: VA -> amount for the families ready now."""
    groups = defaultdict(list)
    for p in pledges:
        if p.campaign_id == campaign.pk and p.pk not in model.batch_of and p.status in LIVE_STATUSES:
            groups[p.participant.family_id or -p.participant_id].append(p)
    lines = {}
    for members in groups.values():
        if not all(p.status in PAID_STATUSES and model.received[p.pk] >= p.amount for p in members):
            continue
        total = sum(model.share(p) for p in members)
        if total:
            family_id = members[0].participant.family_id
            # The family's VA is its head's card, whether or not the head's pledge is in the batch.
            heads = sorted(Participant.objects.for_regency(campaign.regency_id)
                           .filter(family_id=family_id, relationship=Relationship.HEAD)
                           .values_list("card_number", flat=True)) if family_id else []
            card = heads[0] if heads else min(p.participant.card_number for p in members)
            lines[virtual_account_numbers(card)["BRI/BNI/BTN/BCA"]] = total
    return lines


def _check(model: Model, campaigns, pledges: list[Pledge]) -> None:
    for campaign in campaigns:
        ids = [p.pk for p in pledges if p.campaign_id == campaign.pk]
        balance = ledger_balance(campaign=campaign)
        assert balance.received == balance.handed_over + balance.waiting + balance.refunded
        assert balance.waiting >= 0
        assert balance.received == sum(model.received[i] for i in ids) + model.unassigned[campaign.pk]
        assert balance.handed_over == sum(model.handed[i] for i in ids)
        assert balance.refunded == sum(model.refunded[i] for i in ids) + model.unassigned_refunded[campaign.pk]
        entries = LedgerEntry.objects.for_regency(campaign.regency_id).filter(campaign=campaign)
        payments = (Payment.objects.for_regency(campaign.regency_id).filter(pledge__campaign=campaign)
                    .aggregate(s=Sum("amount"))["s"] or 0)
        received_rows = entries.filter(kind=LedgerKind.RECEIVED).aggregate(s=Sum("amount"))["s"] or 0
        assert received_rows == payments + model.unassigned[campaign.pk]
        for handover in Handover.objects.for_regency(campaign.regency_id).filter(campaign=campaign):
            lines = HandoverLine.objects.for_regency(campaign.regency_id).filter(handover=handover)
            assert handover.total == sum(line.amount for line in lines) > 0
            handed = entries.filter(handover=handover).aggregate(s=Sum("amount"))["s"] or 0
            assert handed == (handover.total if handover.status == HandoverStatus.TRANSFERRED else 0)
    for p in pledges:
        row = fresh(p)
        paid = Payment.objects.for_regency(p.regency_id).filter(pledge=p).aggregate(s=Sum("amount"))["s"] or 0
        assert row.paid_amount == paid == model.received[p.pk]
        assert 0 <= model.handed[p.pk] <= row.amount
        assert model.waiting(p.pk) >= 0
        assert row.handover_id == model.batch_of.get(p.pk)


def _run(steps, model: Model, campaigns, donor, pledges: list[Pledge], treasurer) -> None:
    regency = campaigns[0].regency
    for op, *args in steps:
        pledges = [fresh(p) for p in pledges]
        if op == "donor_pay":
            p = pledges[args[0]]
            amount = max(1, int(p.outstanding * args[1]))
            may = p.status == PledgeStatus.PLEDGED and p.outstanding > 0
            done, _error = _ok(lambda p=p, amount=amount: donor_pays(p, donor, amount, f"TRF-{next(_refs)}"))
            assert done == may, (op, p.status, p.outstanding)
            if done:
                model.received[p.pk] += amount
                if p.campaign_id == campaigns[DIRECT].pk:
                    model.handed[p.pk] += amount  # straight into the family VA
        elif op in ("bank_pay", "provider_pay"):
            p = pledges[args[0]]
            amount = max(1, p.outstanding + args[1]) if p.outstanding else max(1, args[1])
            source = PaymentSource.BANK_STATEMENT if op == "bank_pay" else PaymentSource.PROVIDER
            if p.status in OPEN_FOR_MONEY:
                applied = bank_pays(p, amount, f"BANK-{next(_refs)}", source=source)
                assert applied.overpaid == max(p.paid_amount + amount - p.amount, 0) - max(p.paid_amount - p.amount, 0)
                model.received[p.pk] += amount
            else:  # a credit for a closed pledge is money of no pledge until a person decides
                unmatched_credit(p.campaign, amount)
                model.unassigned[p.campaign_id] += amount
        elif op == "unmatched":
            campaign = campaigns[args[0]]
            unmatched_credit(campaign, args[1])
            model.unassigned[campaign.pk] += args[1]
        elif op == "handover":
            campaign = campaigns[args[0]]
            expected = _expected_lines(model, campaign, pledges)
            made = []
            done, error = _ok(lambda c=campaign, m=made: m.append(handover_create(regency=regency, campaign=c,
                                                                                 actor=treasurer)))
            assert done == bool(expected), (expected, error)
            if not done:
                assert error.code == ("nothing_to_hand_over" if campaign.is_collected else "direct_route")
                continue
            handover = made[0]
            lines = HandoverLine.objects.for_regency(regency).filter(handover=handover)
            assert {line.va_number: line.amount for line in lines} == expected
            shares = {}
            for p in pledges:
                if fresh(p).handover_id == handover.pk:
                    shares[p.pk] = model.share(p)
                    model.batch_of[p.pk] = handover.pk
            assert sum(shares.values()) == handover.total
            model.shares[handover.pk] = shares
        elif op == "transfer":
            if not model.shares:
                continue
            pk = sorted(model.shares)[args[0] % len(model.shares)]
            handover = Handover.objects.for_regency(regency).get(pk=pk)
            done, error = _ok(lambda h=handover, r=f"BPJS-{pk}": handover_mark_transferred(
                handover=h, actor=treasurer, reference=r, transferred_at=today_of(regency)))
            assert done == (pk not in model.transferred), error
            if done:
                model.transferred.add(pk)
                for pledge_id, amount in model.shares[pk].items():
                    model.handed[pledge_id] += amount
            else:
                assert error.code == "already_transferred"
        elif op == "lapse":
            services.pledges_lapse_unpaid(now=timezone.now() + dt.timedelta(days=60))
        elif op == "cancel":
            p = pledges[args[0]]
            _ok(lambda p=p: services.pledge_cancel(pledge=p, actor=donor))
        elif op == "refund":
            index, amount = args
            if index < 0:
                campaign, p = campaigns[index + 2], None
                refundable = model.unassigned[campaign.pk] - model.unassigned_refunded[campaign.pk]
            else:
                p = pledges[index]
                campaign = campaigns[COLLECTED] if p.campaign_id == campaigns[COLLECTED].pk else campaigns[DIRECT]
                refundable = model.waiting(p.pk) - model.share(p)
            assert ledger_refundable(campaign=campaign, pledge=p) == refundable
            done, error = _ok(lambda c=campaign, p=p, a=amount: ledger_refund(
                regency=regency, campaign=c, actor=treasurer, amount=a, note="kembali ke donatur", pledge=p))
            assert done == (amount <= refundable), (refundable, error)
            if done and p is None:
                model.unassigned_refunded[campaign.pk] += amount
            elif done:
                model.refunded[p.pk] += amount
            else:
                assert error.code == "refund_exceeds_waiting"
        _check(model, campaigns, pledges)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=4, max_size=24))
def test_received_is_always_handed_over_plus_waiting_plus_refunded(money_world, steps):
    treasurer, build = money_world
    with transaction.atomic():  # each example starts from the same regency, and leaves nothing
        campaigns, donor, pledges = build()
        _run(steps, Model(), campaigns, donor, pledges, treasurer)
        transaction.set_rollback(True)


def test_a_whole_story_pays_hands_over_and_refunds_to_zero(money_world):
    """A fixed sequence through every kind of step (the property test's examples are random)."""
    treasurer, build = money_world
    campaigns, donor, pledges = build()
    model = Model()
    _run([("donor_pay", 0, 0.5), ("donor_pay", 0, 1.0), ("bank_pay", 1, 25_000), ("bank_pay", 4, 0),
          ("provider_pay", 5, -1), ("provider_pay", 6, 0), ("donor_pay", 7, 1.0), ("handover", 0),
          ("transfer", 0), ("transfer", 0), ("donor_pay", 2, 1.0), ("bank_pay", 3, -10_000), ("lapse",),
          ("bank_pay", 3, 0), ("handover", 0), ("refund", 1, 25_000), ("unmatched", 0, 70_000),
          ("refund", -2, 70_000), ("transfer", 1), ("handover", 1), ("handover", 1), ("transfer", 2),
          ("lapse",), ("bank_pay", 5, 9_000), ("refund", 5, 9_000)],
         model, campaigns, donor, pledges, treasurer)
    collected, direct = (ledger_balance(campaign=c) for c in campaigns)
    pledges = [fresh(p) for p in pledges]
    # Collected: the first five were paid and handed over in two batches; the sixth (reserved,
    # confirmed by a credit one rupiah short) was paid last, overpaid, refunded the excess, and
    # waits for the next batch. The overpayment, the stray credit and the excess went back.
    assert collected.refunded == 25_000 + 70_000 + 9_000
    assert collected.handed_over == sum(p.amount for p in pledges[:5])
    assert collected.waiting == pledges[5].amount
    assert [p.status for p in pledges[:6]] == [PledgeStatus.PAID] * 6
    # Direct: the provider's money went over in a batch, the donor's straight into the VA.
    assert (direct.received, direct.handed_over, direct.waiting) == (
        pledges[6].amount + pledges[7].amount, pledges[6].amount + pledges[7].amount, 0)
