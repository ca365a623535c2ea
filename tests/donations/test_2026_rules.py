"""The rules of 2026, the pledge side, with the dates pinned (time_machine).

- the month moves on: a pledge confirmed or paid in a later month than it was quoted in is
  re-quoted with the contributions now due, at the tariff in force in each month; the donor sees
  the new amount and why before paying (page, API), and the re-quote is audited;
- the 10th: a month's contribution is due by its 10th; paid after it, it costs the same;
- the 24-month bill: a donor is never asked for more than 24 months of arrears;
- the write-off: a pledge on a participant the newest list marks written off is released
  (`written_off`) before payment, and kept (verified, "dibayar sebelum pemutihan") after;
- REHAB: a participant already in REHAB is pledged for the remaining instalments, and the pledge
  is verified when a list after the payment shows no instalment left;
- the service penalty in numbers, at its caps, on the participant and pledge pages."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.errors import Conflict
from core.models import AuditEvent
from core.service_penalty import penalty_example, service_penalty
from donations import selectors, services
from donations.models import (
    Outcome,
    Pledge,
    PledgeStatus,
    ReconciliationOutcome,
    ReconciliationRun,
    ReleaseReason,
    Tariff,
)
from donations.reconciliation.services import reconcile_regency
from participants.models import ArrearsRecord, Participant
from tests.donations.reconciliation_world import imp, person, pledge, rec

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """`hour` o'clock WITA (Luwu Utara, UTC+8) on `day`."""
    return dt.datetime(day.year, day.month, day.day, hour - 8, 0, tzinfo=dt.UTC)


NOV_28 = dt.date(2026, 11, 28)
DEC_2 = dt.date(2026, 12, 2)


def _fresh(p: Pledge) -> Pledge:
    return Pledge.objects.for_regency(p.regency_id).select_related("campaign", "participant").get(pk=p.pk)


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)  # how a client authenticates is tested in tests/accounts
    return client


def _page(user, p: Pledge) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("pledge_detail", kwargs={"pledge_id": p.public_id}))
    assert response.status_code == 200
    return response.content.decode()


def _requotes(p: Pledge):
    return AuditEvent.objects.filter(object_type="donations.pledge", object_id=str(p.pk),
                                     verb="pledge.requoted").order_by("id")


@pytest.fixture
def campaign(make_campaign):
    # A hold long enough to reserve on 28 November and confirm on 2 December.
    return make_campaign(slug="lutra-2026", hold_hours=120)


# --- the month moves on ---------------------------------------------------------------------------


def test_reserved_in_november_confirmed_in_december_then_paid_in_january_at_each_months_tariff(
        campaign, make_participant, donor):
    with time_machine.travel(at(NOV_28), tick=False):
        participant = make_participant(months=6, amount=210_000)
        reserved = services.pledge_reserve(campaign=campaign, participant=participant, donor=donor)
    # Quoted in November: the arrears as listed + November's contribution.
    assert (reserved.amount, reserved.quoted_on, reserved.covers_until) == (245_000, NOV_28, dt.date(2026, 11, 1))

    with time_machine.travel(at(DEC_2), tick=False):
        confirmed = services.pledge_confirm(pledge=reserved, actor=donor)
    confirmed = _fresh(confirmed)
    # Confirmed in December: December's contribution is added (the family is active only with it).
    assert (confirmed.status, confirmed.amount, confirmed.outstanding) == (PledgeStatus.PLEDGED, 280_000, 280_000)
    assert (confirmed.quoted_on, confirmed.covers_until) == (DEC_2, dt.date(2026, 12, 1))
    event = _requotes(confirmed).get()
    assert event.actor == donor
    assert (event.before["amount"], event.after["amount"], event.after["added"]) == (245_000, 280_000, 35_000)
    assert event.after["months"] == [{"month": "2026-12", "tariff": 35_000, "due_on": "2026-12-10"}]

    # A new class III tariff from January applies to January's month only.
    Tariff.objects.create(care_class=3, amount=42_000, effective_from=dt.date(2027, 1, 1), note="test")
    with time_machine.travel(at(dt.date(2027, 1, 5)), tick=False):
        # The donor reports the amount they were told in December: January is now due as well.
        services.payment_record(pledge=confirmed, actor=donor, amount=280_000, reference="BRI-DES",
                                paid_on=dt.date(2027, 1, 5))
        part = _fresh(confirmed)
        assert (part.status, part.amount, part.paid_amount, part.outstanding) == (
            PledgeStatus.PLEDGED, 322_000, 280_000, 42_000)
        assert _requotes(part).count() == 2
        assert _requotes(part).last().after["months"] == [
            {"month": "2027-01", "tariff": 42_000, "due_on": "2027-01-10"}]
        services.payment_record(pledge=part, actor=donor, amount=42_000, reference="BRI-JAN",
                                paid_on=dt.date(2027, 1, 5))
    paid = _fresh(part)
    assert (paid.status, paid.paid_amount, paid.outstanding) == (PledgeStatus.PAID, 322_000, 0)

    # Paid in full: never re-quoted again, whatever the month.
    with time_machine.travel(at(dt.date(2027, 3, 2)), tick=False):
        assert selectors.pledge_requote(pledge=paid, today=dt.date(2027, 3, 2)) is None
        with pytest.raises(Conflict) as caught:
            services.payment_record(pledge=paid, actor=donor, amount=42_000, reference="BRI-MAR",
                                    paid_on=dt.date(2027, 3, 2))
        assert caught.value.code == "already_paid"
        body = _api(donor).get(f"/api/v1/pledges/{paid.public_id}/").json()
    assert (body["amount"], body["outstanding"]) == (322_000, 0)
    assert _fresh(paid).amount == 322_000 and _requotes(paid).count() == 2


def test_within_the_quote_month_nothing_changes(campaign, make_participant, donor):
    with time_machine.travel(at(DEC_2), tick=False):
        participant = make_participant(months=6, amount=210_000)
        reserved = services.pledge_reserve(campaign=campaign, participant=participant, donor=donor)
    with time_machine.travel(at(dt.date(2026, 12, 6)), tick=False):
        confirmed = services.pledge_confirm(pledge=reserved, actor=donor)
    with time_machine.travel(at(dt.date(2026, 12, 31), hour=23), tick=False):
        services.payment_record(pledge=confirmed, actor=donor, amount=245_000, reference="BRI-1",
                                paid_on=dt.date(2026, 12, 31))
    assert (_fresh(confirmed).status, _fresh(confirmed).amount) == (PledgeStatus.PAID, 245_000)
    assert not _requotes(confirmed).exists()


def test_months_paid_ahead_are_not_charged_twice(make_campaign, make_participant, donor):
    ahead = make_campaign(slug="lutra-di-muka", hold_hours=120, months_ahead=2)
    with time_machine.travel(at(NOV_28), tick=False):
        reserved = services.pledge_reserve(campaign=ahead, participant=make_participant(), donor=donor)
    assert (reserved.amount, reserved.covers_until) == (210_000 + 3 * 35_000, dt.date(2027, 1, 1))
    with time_machine.travel(at(DEC_2), tick=False):
        confirmed = services.pledge_confirm(pledge=reserved, actor=donor)
    assert _fresh(confirmed).amount == 315_000 and not _requotes(confirmed).exists()
    with time_machine.travel(at(dt.date(2027, 2, 3)), tick=False):
        requote = selectors.pledge_requote(pledge=_fresh(confirmed), today=dt.date(2027, 2, 3))
    assert [m.month for m in requote.months] == [dt.date(2027, 2, 1)] and requote.after == 350_000


@pytest.mark.parametrize(("day", "late"), [(9, False), (11, True)])
def test_a_month_is_due_on_the_10th_and_costs_the_same_after_it(campaign, make_participant, donor, day, late):
    """Paid on 9 or 11 December, a pledge quoted in November includes December's contribution
    (reactivation = arrears + the month of payment); after the 10th the month was due already,
    which the donor is told, and there is no late fee."""
    with time_machine.travel(at(dt.date(2026, 11, 20)), tick=False):
        reserved = services.pledge_reserve(campaign=campaign, participant=make_participant(), donor=donor)
        confirmed = services.pledge_confirm(pledge=reserved, actor=donor)
    paid_on = dt.date(2026, 12, day)
    with time_machine.travel(at(paid_on), tick=False):
        services.payment_record(pledge=confirmed, actor=donor, amount=245_000, reference="BRI-1", paid_on=paid_on)
    p = _fresh(confirmed)
    assert (p.amount, p.paid_amount, p.outstanding, p.status) == (280_000, 245_000, 35_000, PledgeStatus.PLEDGED)
    note = _requotes(p).get().after["note"]
    assert note.startswith("Jumlah diperbarui: +Rp35.000 iuran Desember 2026 (jatuh tempo 10 Desember)")
    assert ("jatuh tempo sudah lewat, tanpa denda" in note) is late


def test_the_donor_sees_the_new_amount_and_why_before_paying(campaign, make_participant, donor):
    with time_machine.travel(at(NOV_28), tick=False):
        reserved = services.pledge_reserve(campaign=campaign, participant=make_participant(), donor=donor)
        before = _api(donor).get(f"/api/v1/pledges/{reserved.public_id}/").json()
    assert (before["amount"], before["requoted"]) == (245_000, None)

    note = "Jumlah diperbarui: +Rp35.000 iuran Desember 2026 (jatuh tempo 10 Desember)"
    with time_machine.travel(at(DEC_2), tick=False):
        # Opened in December, before confirming: the new amount and the reason, nothing stored yet.
        body = _api(donor).get(f"/api/v1/pledges/{reserved.public_id}/").json()
        page = _page(donor, reserved)
    assert (body["amount"], body["outstanding"]) == (280_000, 280_000)
    assert body["requoted"]["pending"] is True and body["requoted"]["note"].startswith(note)
    assert body["requoted"]["months"] == [{"month": "2026-12", "tariff": 35_000, "due_on": "2026-12-10"}]
    assert (body["requoted"]["from_amount"], body["requoted"]["added"]) == (245_000, 35_000)
    assert note in page and "Rp280.000" in page
    assert _fresh(reserved).amount == 245_000 and not _requotes(reserved).exists()

    with time_machine.travel(at(DEC_2, hour=11), tick=False):
        response = _api(donor).post(f"/api/v1/pledges/{reserved.public_id}/confirm/")
        assert response.status_code == 200, response.content
        body = _api(donor).get(f"/api/v1/pledges/{reserved.public_id}/").json()
        page = _page(donor, reserved)
    assert (body["status"], body["amount"], body["outstanding"]) == ("pledged", 280_000, 280_000)
    assert body["requoted"]["pending"] is False and body["requoted"]["note"].startswith(note)
    assert note in page and "Iuran bulan berikutnya yang kini jatuh tempo" in page
    assert [h["verb"] for h in body["history"]][-2:] == ["pledge.requoted", "pledge.pledged"]

    # A report of the old amount leaves December open, as the page says.
    with time_machine.travel(at(DEC_2, hour=12), tick=False):
        response = _api(donor).post(f"/api/v1/pledges/{reserved.public_id}/payments/",
                                    {"amount": 245_000, "reference": "BRI-1", "paid_at": "2026-12-02"},
                                    format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["outstanding"]) == ("pledged", 35_000)


def test_money_a_provider_reports_in_a_later_month_follows_the_new_amount(campaign, make_participant, donor,
                                                                            settings):
    """The donor paid, through Midtrans, the amount the page showed in December: no overpayment."""
    from tests.donations.test_provider_midtrans import KEY, notification, post

    settings.MIDTRANS_SERVER_KEY = KEY
    with time_machine.travel(at(NOV_28), tick=False):
        reserved = services.pledge_reserve(campaign=campaign, participant=make_participant(), donor=donor)
        confirmed = services.pledge_confirm(pledge=reserved, actor=donor)
    with time_machine.travel(at(DEC_2), tick=False):
        response = post(notification(confirmed.payment_code, amount="280000.00", tx="tx-des"))
    assert response.status_code == 200, response.content
    p = _fresh(confirmed)
    assert (p.status, p.amount, p.paid_amount, p.outstanding) == (PledgeStatus.PAID, 280_000, 280_000, 0)
    assert not p.anomalies.exists()
    assert _requotes(p).get().actor is None


def test_money_a_bank_statement_in_a_later_month_follows_the_new_amount(make_campaign, make_participant, donor,
                                                                          tmp_path):
    """Lines of a collecting account's statement read in December pay the December amount."""
    from donations.models import PaymentRoute
    from tests.donations.test_statements import _csv, _lines, _run

    collected = make_campaign(slug="lutra-rekening", hold_hours=120, payment_route=PaymentRoute.COLLECTED,
                              bank_name="Bank Sulselbar", account_number="1234567890", account_holder="Pemkab Lutra")
    with time_machine.travel(at(NOV_28), tick=False):
        new_amount, old_amount = (
            services.pledge_confirm(pledge=services.pledge_reserve(campaign=collected, participant=make_participant(),
                                                                   donor=donor), actor=donor)
            for _ in range(2))
    with time_machine.travel(at(DEC_2), tick=False):
        statement = _run(collected, _csv(tmp_path, _lines(
            ("02-12-2026", f"TRF {new_amount.payment_code}", "280.000", "FT-1"),
            ("02-12-2026", f"TRF {old_amount.payment_code}", "245.000", "FT-2"),
        )))
    assert (statement.status, statement.matched) == ("done", 2)
    paid, part = _fresh(new_amount), _fresh(old_amount)
    assert (paid.status, paid.amount, paid.paid_amount, paid.covers_until) == (
        PledgeStatus.PAID, 280_000, 280_000, dt.date(2026, 12, 1))
    assert not paid.anomalies.exists()
    assert (part.status, part.amount, part.outstanding) == (PledgeStatus.PLEDGED, 280_000, 35_000)
    event = _requotes(paid).get()
    assert (event.before["amount"], event.after["amount"], event.after["months"]) == (
        245_000, 280_000, [{"month": "2026-12", "tariff": 35_000, "due_on": "2026-12-10"}])
    with time_machine.travel(at(DEC_2, hour=12), tick=False):
        shown = selectors.pledge_requote_shown(pledge=_fresh(part))
    assert shown.pending is False and shown.note.startswith("Jumlah diperbarui: +Rp35.000 iuran Desember 2026")


# --- the 24-month bill ---------------------------------------------------------------------------


def test_a_donor_is_asked_for_at_most_24_months(campaign, make_participant, donor):
    with time_machine.travel(at(DEC_2), tick=False):
        participant = make_participant(months=30, amount=30 * 35_000)
        quote = selectors.pledge_quote(participant=participant, campaign=campaign, today=DEC_2)
        reserved = services.pledge_reserve(campaign=campaign, participant=participant, donor=donor)
        page = _page(donor, reserved)
    assert (quote.imported_arrears, quote.arrears_amount, quote.capped) == (1_050_000, 840_000, True)
    assert (reserved.arrears_amount, reserved.amount) == (840_000, 875_000)  # 24 months + December
    assert 'id="capped"' in page and "paling banyak 24 bulan" in page and "Rp875.000" in page


# --- the write-off -------------------------------------------------------------------------------


def _written_off(p: Participant, arrears_import, amount: int) -> None:
    rec(p, arrears_import, amount)
    ArrearsRecord.all_regencies.filter(participant=p, arrears_import=arrears_import).update(written_off=True)
    Participant.all_regencies.filter(pk=p.pk).update(written_off=True)


def test_a_written_off_participant_releases_an_unpaid_pledge_and_keeps_a_paid_one(
        regency_a, branch_a, make_campaign, donor):
    first = imp(branch_a, dt.date(2026, 9, 1))
    campaign = make_campaign()
    reserved = pledge(person(regency_a, first), campaign, donor, "reserved", made_from=first)
    pledged = pledge(person(regency_a, first), campaign, donor, "pledged", made_from=first)
    paid = pledge(person(regency_a, first), campaign, donor, "paid", made_from=first, paid_on=dt.date(2026, 9, 5))
    control = pledge(person(regency_a, first), campaign, donor, "pledged", made_from=first)
    later = imp(branch_a, dt.date(2026, 9, 20))
    # The list marks three written off, their arrears still shown (the state pays them); the
    # fourth is simply still in arrears.
    for p in (reserved, pledged, paid):
        _written_off(p.participant, later, 210_000)
    rec(control.participant, later, 210_000)

    result = reconcile_regency(regency=regency_a, now=at(dt.date(2026, 9, 21)))
    assert result["released_written_off"] == 2 and result["verified"] == 1
    for p in (reserved, pledged):
        p = _fresh(p)
        assert (p.status, p.release_reason) == (PledgeStatus.RELEASED, ReleaseReason.WRITTEN_OFF)
        outcome = ReconciliationOutcome.objects.for_regency(regency_a).get(pledge=p)
        assert (outcome.outcome, outcome.reason, outcome.arrears_import_id) == (
            Outcome.RELEASED_WRITTEN_OFF, "written_off", later.pk)
        assert "pemutihan" in selectors.pledge_next_step(pledge=p)
    assert ReconciliationRun.objects.for_regency(regency_a).get(pk=result["run"]).released_written_off == 2
    # Paid before the write-off: kept, the money was credited.
    kept = _fresh(paid)
    assert kept.status == PledgeStatus.VERIFIED
    assert selectors.pledge_paid_before_write_off(pledge=kept) is True
    assert "Dibayar sebelum pemutihan" in _page(donor, kept)
    assert _fresh(control).status == PledgeStatus.PLEDGED
    # Idempotent: a second run changes nothing.
    assert reconcile_regency(regency=regency_a, now=at(dt.date(2026, 9, 22)))["run"] is None


def test_an_older_write_off_flag_than_the_pledge_does_not_release_it(regency_a, branch_a, make_campaign, donor):
    old = imp(branch_a, dt.date(2026, 8, 1))
    p = person(regency_a, old)
    ArrearsRecord.all_regencies.filter(participant=p).update(written_off=True)
    newer = imp(branch_a, dt.date(2026, 9, 1))
    made = pledge(p, make_campaign(), donor, "pledged", made_from=newer)
    Pledge.all_regencies.filter(pk=made.pk).update(as_of=dt.date(2026, 10, 1))
    reconcile_regency(regency=regency_a, now=at(dt.date(2026, 10, 2)))
    assert _fresh(made).status == PledgeStatus.PLEDGED


def _routed_to_write_off(p: Participant) -> None:
    """Screening routed the household to the write-off (assessments.routes.route_for)."""
    from assessments.models import Assessment

    Assessment.all_regencies.filter(participant=p).update(route="writeoff")


def test_an_assessment_routed_to_the_write_off_releases_unpaid_pledges(regency_a, branch_a, make_campaign, donor,
                                                                       admin_a):
    from tests.donations.conftest import approve

    first = imp(branch_a, dt.date(2026, 9, 1))
    campaign = make_campaign()
    routed = pledge(person(regency_a, first), campaign, donor, "pledged", made_from=first)
    approve(routed.participant, by=admin_a, today=dt.date(2026, 9, 10))
    _routed_to_write_off(routed.participant)
    expired = pledge(person(regency_a, first), campaign, donor, "pledged", made_from=first)
    approve(expired.participant, by=admin_a, today=dt.date(2026, 9, 10), valid_days=5)  # until 15 Sep
    _routed_to_write_off(expired.participant)
    result = reconcile_regency(regency=regency_a, now=at(dt.date(2026, 9, 21)))
    assert result["released_written_off"] == 1
    assert (_fresh(routed).status, _fresh(routed).release_reason) == (PledgeStatus.RELEASED, "written_off")
    assert _fresh(expired).status == PledgeStatus.PLEDGED  # its assessment is no longer valid


def test_confirming_or_paying_for_a_written_off_participant_releases_the_pledge(campaign, make_participant, donor):
    with time_machine.travel(at(DEC_2), tick=False):
        by_assessment = make_participant()
        by_list = make_participant()
        reserved = services.pledge_reserve(campaign=campaign, participant=by_assessment, donor=donor)
        pledged = services.pledge_confirm(
            pledge=services.pledge_reserve(campaign=campaign, participant=by_list, donor=donor), actor=donor)
        _routed_to_write_off(by_assessment)
        Participant.all_regencies.filter(pk=by_list.pk).update(written_off=True)
        with pytest.raises(Conflict) as confirming:
            services.pledge_confirm(pledge=reserved, actor=donor)
        response = _api(donor).post(f"/api/v1/pledges/{pledged.public_id}/payments/",
                                    {"amount": 245_000, "reference": "BRI-1", "paid_at": "2026-12-02"},
                                    format="json")
    assert confirming.value.code == "written_off" and confirming.value.status_code == 409
    assert (response.status_code, response.json()["code"]) == (409, "written_off")
    for p in (reserved, pledged):
        p = _fresh(p)
        assert (p.status, p.release_reason, p.paid_amount) == (PledgeStatus.RELEASED, "written_off", 0)
    assert not _fresh(pledged).payments.exists()


# --- REHAB ---------------------------------------------------------------------------------------


def test_a_rehab_participant_is_pledged_for_the_remaining_instalments(campaign, make_participant, donor):
    with time_machine.travel(at(DEC_2), tick=False):
        participant = make_participant(months=12, amount=420_000, in_rehab=True, rehab_instalments_left=4)
        quote = selectors.pledge_quote(participant=participant, campaign=campaign, today=DEC_2)
        reserved = services.pledge_reserve(campaign=campaign, participant=participant, donor=donor)
        page = _page(donor, reserved)
        body = _api(donor).get(f"/api/v1/pledges/{reserved.public_id}/").json()
    assert (quote.rehab_instalments, quote.rehab_instalment, quote.arrears_amount) == (4, 105_000, 420_000)
    assert (reserved.rehab_instalments, reserved.arrears_amount, reserved.amount) == (4, 420_000, 455_000)
    assert "sisa 4 cicilan REHAB" in page
    assert (body["rehab_instalments"], body["amount"]) == (4, 455_000)


def test_a_rehab_pledge_is_verified_when_the_list_shows_no_instalment_left(regency_a, branch_a, make_campaign,
                                                                           donor):
    first = imp(branch_a, dt.date(2026, 9, 1))
    campaign = make_campaign()
    rehab = pledge(person(regency_a, first, amount=420_000), campaign, donor, "paid", made_from=first,
                   amount=455_000, paid_on=dt.date(2026, 9, 5))
    Pledge.all_regencies.filter(pk=rehab.pk).update(rehab_instalments=4)
    ordinary = pledge(person(regency_a, first, amount=420_000), campaign, donor, "paid", made_from=first,
                      amount=455_000, paid_on=dt.date(2026, 9, 5))
    later = imp(branch_a, dt.date(2026, 9, 20))
    # Both still listed with one month in arrears (less than the pledge's fall): only the REHAB
    # pledge has its own proof, no instalment left.
    for p in (rehab, ordinary):
        rec(p.participant, later, 35_000)
        ArrearsRecord.all_regencies.filter(participant=p.participant, arrears_import=later).update(
            in_rehab=True, rehab_instalments_left=0 if p is rehab else 2)
    reconcile_regency(regency=regency_a, now=at(dt.date(2026, 9, 21)))
    assert _fresh(rehab).status == PledgeStatus.VERIFIED
    assert _fresh(ordinary).status == PledgeStatus.PAID


def test_a_rehab_pledge_is_not_verified_by_a_list_before_its_payment(regency_a, branch_a, make_campaign, donor):
    first = imp(branch_a, dt.date(2026, 9, 1))
    rehab = pledge(person(regency_a, first, amount=420_000), make_campaign(), donor, "paid", made_from=first,
                   amount=455_000, paid_on=dt.date(2026, 9, 25))
    Pledge.all_regencies.filter(pk=rehab.pk).update(rehab_instalments=4)
    later = imp(branch_a, dt.date(2026, 9, 20))  # before the payment
    rec(rehab.participant, later, 35_000)
    ArrearsRecord.all_regencies.filter(participant=rehab.participant, arrears_import=later).update(
        in_rehab=True, rehab_instalments_left=0)
    reconcile_regency(regency=regency_a, now=at(dt.date(2026, 9, 26)))
    assert _fresh(rehab).status == PledgeStatus.PAID


# --- the service penalty -------------------------------------------------------------------------


@pytest.mark.parametrize(("months", "tariff", "expected"), [
    (0, 5_000_000, 0),
    (3, 5_000_000, 750_000),             # 5 % x 5 juta x 3
    (12, 5_000_000, 3_000_000),
    (13, 5_000_000, 3_000_000),          # at most 12 months counted
    (30, 5_000_000, 3_000_000),
    (12, 50_000_000, 30_000_000),        # exactly the cap
    (12, 60_000_000, 30_000_000),        # 36 juta -> Rp30 juta
    (6, 200_000_000, 30_000_000),
])
def test_service_penalty_at_its_caps(months, tariff, expected):
    assert service_penalty(months, tariff) == expected


def test_the_example_tariff_is_a_setting(settings):
    settings.SERVICE_PENALTY_EXAMPLE_TARIFF = 70_000_000
    example = penalty_example(24)
    assert (example.months_counted, example.amount, example.capped) == (12, 30_000_000, True)
    assert penalty_example(2, example_tariff=5_000_000).capped is False


def test_the_pledge_and_participant_pages_show_the_penalty_in_numbers(campaign, make_participant, donor, admin_a):
    with time_machine.travel(at(DEC_2), tick=False):
        participant = make_participant(months=15, amount=15 * 35_000)
        reserved = services.pledge_reserve(campaign=campaign, participant=participant, donor=donor)
        donor_page = _page(donor, reserved)
        client = Client()
        client.force_login(admin_a)
        staff_page = client.get(reverse("participant_detail", kwargs={
            "regency_slug": participant.regency.slug, "public_id": participant.public_id})).content.decode()
    for page in (donor_page, staff_page):
        assert 'id="service-penalty"' in page
        # 5 % x Rp5.000.000 (the example) x 12 of the 15 months = Rp3.000.000
        assert "Rp3.000.000" in page and "Rp5.000.000" in page and "45 hari" in page
        assert "Rp30.000.000" in page
