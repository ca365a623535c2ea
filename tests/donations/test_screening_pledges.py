"""Screening does not read a clearing paid by our own donor as
"cleared it by themselves" (`assessments.screening._covered_by_pledge_sql`)."""

from __future__ import annotations

import datetime as dt

from assessments.models import Screening
from assessments.screening import screening_run
from donations.models import Payment, Pledge, PledgeStatus
from tests.assessments.conftest import History, d


def _pledge_paid_on(campaign, participant, donor, day: dt.date, status=PledgeStatus.PAID) -> Pledge:
    pledge = Pledge.objects.create(
        regency_id=participant.regency_id, campaign=campaign, participant=participant, donor=donor,
        status=status, amount=245_000, arrears_amount=210_000, months_in_arrears=6, monthly_tariff=35_000,
    )
    Payment.objects.create(regency_id=participant.regency_id, pledge=pledge, amount=245_000,
                           reference=f"R-{participant.pk}", paid_on=day, recorded_by=donor,
                           receipt_number=f"T/{pledge.pk}")
    return pledge


def test_a_clearing_paid_by_a_pledge_is_not_a_self_clearing(branch_a, regency_a, public_campaign, donor):
    history = History(branch_a)
    points = [(d("2026-05-01"), 6), (d("2026-07-01"), 0), (d("2026-09-01"), 3)]
    ours = history.participant(regency_a, points)
    theirs = history.participant(regency_a, points)
    _pledge_paid_on(public_campaign, ours, donor, d("2026-06-10"))
    # A cancelled pledge pays nothing: still their own clearing.
    _pledge_paid_on(public_campaign, theirs, donor, d("2026-06-10"), status=PledgeStatus.CANCELLED)

    screening_run(regency=regency_a)
    flags = {s.participant_id: set(s.flag_codes) for s in Screening.objects.for_regency(regency_a)}
    assert "self_cleared_before" in flags[theirs.pk] and "pays_when_sick" in flags[theirs.pk]
    assert not flags[ours.pk] & {"self_cleared_before", "pays_when_sick"}


def test_a_payment_recorded_or_disputed_after_a_screening_is_read_by_the_next(
        branch_a, regency_a, public_campaign, donor):
    """The payments are part of what an entry's result is computed from (`Screening.inputs_hash`):
    a screening that leaves unchanged entries alone still sees a payment recorded since."""
    history = History(branch_a)
    p = history.participant(regency_a, [(d("2026-05-01"), 6), (d("2026-07-01"), 0), (d("2026-09-01"), 3)])

    def codes() -> set[str]:
        screening_run(regency=regency_a)
        return set(Screening.objects.for_regency(regency_a).get(participant=p).flag_codes)

    assert {"self_cleared_before", "pays_when_sick"} <= codes()
    pledge = _pledge_paid_on(public_campaign, p, donor, d("2026-06-10"))
    assert not codes() & {"self_cleared_before", "pays_when_sick"}
    Pledge.objects.for_regency(regency_a).filter(pk=pledge.pk).update(status=PledgeStatus.DISPUTED)
    assert {"self_cleared_before", "pays_when_sick"} <= codes()
