"""Pledge services: every transition and the forbidden ones, frozen amounts, families, limits,
expiry with frozen time, payments and their reference uniqueness."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.models import AuditEvent
from donations import services
from donations.models import TRANSITIONS, Payment, Pledge, PledgeStatus, Tariff
from donations.selectors import available_participants, pledge_history, pledge_quote
from participants.models import Relationship
from tests.factories import UserFactory

NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)  # 10:00 WITA


def reserve(campaign, participant, donor, now=NOW):
    return services.pledge_reserve(campaign=campaign, participant=participant, donor=donor, now=now)


def pay(pledge, donor, reference="BRI-0001", amount=None, **kwargs):
    return services.payment_record(pledge=pledge, actor=donor, amount=amount or pledge.amount,
                                   reference=reference, paid_on=dt.date(2026, 11, 22), now=NOW, **kwargs)


# --- amounts ------------------------------------------------------------------------------------


def test_tariffs_are_seeded_from_perpres_64_2020(db):
    seeded = {t.care_class: t.amount for t in Tariff.objects.all()}
    assert seeded == {1: 150_000, 2: 100_000, 3: 35_000}


def test_reservation_freezes_arrears_from_import_plus_current_month(public_campaign, make_participant, donor):
    p = make_participant(months=6, amount=210_000, care_class=3)
    pledge = reserve(public_campaign, p, donor)
    assert pledge.status == PledgeStatus.RESERVED
    assert (pledge.arrears_amount, pledge.months_in_arrears, pledge.monthly_tariff) == (210_000, 6, 35_000)
    assert pledge.amount == 245_000
    assert pledge.arrears_import_id == p.last_import_id
    assert pledge.segment == p.segment != ""  # kept for reconciliation's left_segment rule
    assert pledge.public_id.version == 7  # time-ordered (core.ids.uuid7)
    assert pledge.expires_at == NOW + dt.timedelta(hours=72)


def test_months_ahead_and_the_tariff_in_force_on_the_day(make_campaign, make_participant, donor):
    campaign = make_campaign(months_ahead=2, hold_hours=24)
    Tariff.objects.create(care_class=1, amount=175_000, effective_from=dt.date(2027, 1, 1))
    p = make_participant(months=3, amount=450_000, care_class=1)
    pledge = reserve(campaign, p, donor)
    assert pledge.monthly_tariff == 150_000  # the 2027 row is not in force yet
    assert pledge.amount == 450_000 + 150_000 * 3
    assert pledge.expires_at == NOW + dt.timedelta(hours=24)
    assert pledge_quote(participant=p, campaign=campaign, today=dt.date(2027, 1, 5)).monthly_tariff == 175_000


def test_a_later_import_does_not_change_a_reserved_amount(public_campaign, make_participant, donor):
    p = make_participant(months=6, amount=210_000)
    pledge = reserve(public_campaign, p, donor)
    # The next import raises the participant's arrears (what import_apply writes).
    type(p).all_regencies.filter(pk=p.pk).update(months_in_arrears=7, arrears_amount=245_000)
    pledge.refresh_from_db()
    assert pledge.amount == 245_000 and pledge.arrears_amount == 210_000
    confirmed = services.pledge_confirm(pledge=pledge, actor=donor, now=NOW)
    assert confirmed.amount == 245_000


# --- transitions ------------------------------------------------------------------------------------


def test_the_happy_path_reserved_pledged_paid_verified(public_campaign, make_participant, donor,
                                                       django_capture_on_commit_callbacks):
    p = make_participant()
    with django_capture_on_commit_callbacks(execute=True):
        pledge = reserve(public_campaign, p, donor)
    assert [m.to for m in mail.outbox] == [[donor.email]]
    # The family VA carries card digits: never before the donor confirmed (not even by e-mail).
    assert "88888" not in mail.outbox[0].body and "89888" not in mail.outbox[0].body
    pledge = services.pledge_confirm(pledge=pledge, actor=donor, now=NOW + dt.timedelta(hours=1))
    # The payment window (the regency's setting, 14 days by default) runs from confirmation.
    assert pledge.status == PledgeStatus.PLEDGED and pledge.due_at == NOW + dt.timedelta(days=14, hours=1)
    payment = pay(pledge, donor)
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.PAID and payment.amount == pledge.amount
    with django_capture_on_commit_callbacks(execute=True):
        services.pledge_verify(pledge=pledge, actor=None)
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.VERIFIED
    assert "lunas" in mail.outbox[-1].subject
    history = pledge_history(pledge=pledge)
    assert [(h.before.get("status"), h.after["status"]) for h in history] == [
        (None, "reserved"), ("reserved", "pledged"), ("pledged", "paid"), ("paid", "verified")]
    events = AuditEvent.objects.filter(object_type="donations.pledge", object_id=str(pledge.pk))
    assert [e.actor_id for e in events.order_by("id")] == [donor.pk, donor.pk, donor.pk, None]


@pytest.mark.parametrize("start", list(PledgeStatus.values))
def test_every_forbidden_transition_is_refused(start, public_campaign, make_participant, donor):
    p = make_participant()
    pledge = Pledge.objects.create(
        regency=p.regency, campaign=public_campaign, participant=p, donor=donor, status=start, amount=1,
        arrears_amount=0, months_in_arrears=0, monthly_tariff=1, expires_at=NOW + dt.timedelta(hours=1),
    )
    attempts = {
        PledgeStatus.PLEDGED: lambda: services.pledge_confirm(pledge=pledge, actor=donor, now=NOW),
        PledgeStatus.CANCELLED: lambda: services.pledge_cancel(pledge=pledge, actor=donor),
        PledgeStatus.RELEASED: lambda: services.pledge_release(pledge=pledge, actor=None, reason="lunas sendiri"),
        PledgeStatus.DISPUTED: lambda: services.pledge_dispute(pledge=pledge, actor=None),
        PledgeStatus.VERIFIED: lambda: services.pledge_verify(pledge=pledge, actor=None),
        PledgeStatus.PAID: lambda: pay(pledge, donor, reference=f"R-{start}"),
    }
    for target, attempt in attempts.items():
        if target in TRANSITIONS[start] or (start, target) == ("paid", "paid"):
            continue  # allowed; (a further transfer on a paid pledge is added: tested below)
        with pytest.raises(Conflict):
            attempt()
        pledge.refresh_from_db()
        assert pledge.status == start, (start, target)


@pytest.mark.parametrize(("start", "action", "end"), [
    ("reserved", "cancel", "cancelled"), ("pledged", "cancel", "cancelled"),
    ("reserved", "release", "released"), ("pledged", "release", "released"),
    ("paid", "dispute", "disputed"), ("disputed", "verify", "verified"),
])
def test_the_allowed_side_transitions(start, action, end, public_campaign, make_participant, donor):
    p = make_participant()
    pledge = Pledge.objects.create(
        regency=p.regency, campaign=public_campaign, participant=p, donor=donor, status=start, amount=1,
        arrears_amount=0, months_in_arrears=0, monthly_tariff=1, expires_at=NOW + dt.timedelta(hours=1),
    )
    call = {
        "cancel": lambda: services.pledge_cancel(pledge=pledge, actor=donor),
        "release": lambda: services.pledge_release(pledge=pledge, actor=None, reason="pindah ke PBI"),
        "dispute": lambda: services.pledge_dispute(pledge=pledge, actor=None, reason="masih menunggak"),
        "verify": lambda: services.pledge_verify(pledge=pledge, actor=None),
    }[action]
    assert call().status == end
    event = AuditEvent.objects.filter(object_type="donations.pledge", object_id=str(pledge.pk)).get()
    assert (event.before, event.after["status"]) == ({"status": start}, end)
    if action == "release":
        pledge.refresh_from_db()
        assert pledge.release_reason == "pindah ke PBI"


def test_confirming_after_the_hold_lapsed_is_refused(public_campaign, make_participant, donor):
    pledge = reserve(public_campaign, make_participant(), donor)
    with pytest.raises(Conflict) as caught:
        services.pledge_confirm(pledge=pledge, actor=donor, now=NOW + dt.timedelta(hours=73))
    assert caught.value.code == "reservation_expired"


def test_another_donor_cannot_act_on_a_pledge(public_campaign, make_participant, donor, donor2):
    pledge = reserve(public_campaign, make_participant(), donor)
    with pytest.raises(NotFound):
        services.pledge_confirm(pledge=pledge, actor=donor2, now=NOW)
    with pytest.raises(NotFound):
        services.pledge_cancel(pledge=pledge, actor=donor2)


# --- one active pledge, eligibility, limits ----------------------------------------------------------


def test_a_participant_already_held_is_a_conflict_with_a_suggestion(public_campaign, make_participant, donor,
                                                                    donor2):
    taken, other = make_participant(months=9), make_participant(months=4)
    reserve(public_campaign, taken, donor)
    with pytest.raises(Conflict) as caught:
        reserve(public_campaign, taken, donor2)
    assert caught.value.code == "already_pledged"
    assert caught.value.extra["suggestion"] == str(other.public_id)


def test_cancelled_and_expired_pledges_return_the_participant_to_the_pool(public_campaign, make_participant,
                                                                          donor, donor2):
    p = make_participant()
    first = reserve(public_campaign, p, donor)
    services.pledge_cancel(pledge=first, actor=donor)
    assert p in available_participants(regency=p.regency)
    again = reserve(public_campaign, p, donor2)
    assert again.status == PledgeStatus.RESERVED


def test_not_eligible_participants_are_refused(public_campaign, make_participant, donor):
    unassessed = make_participant(eligible=False)
    with pytest.raises(DomainError) as caught:
        reserve(public_campaign, unassessed, donor)
    assert caught.value.status_code == 400 and caught.value.code == "not_eligible"
    cleared = make_participant(status="cleared")
    with pytest.raises(DomainError):
        reserve(public_campaign, cleared, donor)


def test_expired_assessment_is_not_eligible(public_campaign, make_participant, donor, admin_a):
    from tests.donations.conftest import approve

    p = make_participant(eligible=False)
    today = timezone.localdate(NOW, timezone=p.regency.tzinfo)  # the test's clock, not the machine's
    approve(p, by=admin_a, valid_days=-1, today=today)
    with pytest.raises(DomainError) as exc:
        reserve(public_campaign, p, donor)
    assert exc.value.code == "not_eligible"
    # Still valid on that day (the last day of validity counts): the same call succeeds.
    q = make_participant(eligible=False)
    approve(q, by=admin_a, valid_days=0, today=today)
    assert reserve(public_campaign, q, donor).participant == q


def test_verified_pledge_keeps_the_participant_out_until_a_newer_import(public_campaign, make_participant,
                                                                         donor, donor2):
    p = make_participant()
    pledge = reserve(public_campaign, p, donor)
    Pledge.all_regencies.filter(pk=pledge.pk).update(status="verified", verified_at=NOW)
    assert p not in available_participants(regency=p.regency)
    # A newer import shows new arrears: the participant may be helped again.
    type(p).all_regencies.filter(pk=p.pk).update(as_of=dt.date(2027, 6, 1))
    assert p in available_participants(regency=p.regency)


def test_per_donor_limit(make_campaign, make_participant, donor):
    campaign = make_campaign(pledge_limit=1)
    reserve(campaign, make_participant(), donor)
    with pytest.raises(Conflict) as caught:
        reserve(campaign, make_participant(), donor)
    assert caught.value.code == "pledge_limit"


def test_internal_campaigns_only_for_members(internal_campaign, make_participant, donor, staff_a, admin_b):
    p = make_participant()
    with pytest.raises(NotFound):
        reserve(internal_campaign, p, donor)
    with pytest.raises(NotFound):
        reserve(internal_campaign, p, admin_b)
    assert reserve(internal_campaign, p, staff_a).donor == staff_a


def test_public_campaigns_need_a_verified_email(public_campaign, make_participant):
    from allauth.account.models import EmailAddress

    user = UserFactory()
    EmailAddress.objects.filter(user=user).update(verified=False)
    with pytest.raises(PermissionDenied) as caught:
        reserve(public_campaign, make_participant(), user)
    assert caught.value.code == "email_unverified"


def test_draft_or_closed_or_pooled_only_campaigns_refuse_pledges(make_campaign, make_participant, donor):
    p = make_participant()
    with pytest.raises(NotFound):
        reserve(make_campaign(status="draft"), p, donor)
    with pytest.raises(DomainError) as caught:
        reserve(make_campaign(status="closed"), p, donor)
    assert caught.value.code == "campaign_not_active"
    with pytest.raises(DomainError) as caught:
        reserve(make_campaign(ends_on=dt.date(2026, 1, 31)), p, donor)
    assert caught.value.code == "campaign_not_active"
    with pytest.raises(DomainError) as caught:
        reserve(make_campaign(kind="pooled"), p, donor)
    assert caught.value.code == "pooled_only"


# --- the whole family ------------------------------------------------------------------------------------


def test_adopt_the_whole_family_reserves_every_eligible_member(public_campaign, make_participant, make_family,
                                                               donor):
    family = make_family()
    head = make_participant(family=family, months=6, amount=210_000)
    wife = make_participant(family=family, months=6, amount=210_000, relationship=Relationship.WIFE)
    child = make_participant(family=family, months=6, amount=210_000, relationship=Relationship.CHILD)
    make_participant(family=family, eligible=False, relationship=Relationship.CHILD)  # not assessed: left out
    pledges = services.pledge_reserve_family(campaign=public_campaign, participant=wife, donor=donor, now=NOW)
    assert {p.participant_id for p in pledges} == {head.pk, wife.pk, child.pk}
    assert len({p.family_adoption for p in pledges}) == 1


def test_adopt_the_whole_family_is_all_or_nothing(public_campaign, make_participant, make_family, donor,
                                                  donor2, make_campaign):
    family = make_family()
    head = make_participant(family=family)
    child = make_participant(family=family, relationship=Relationship.CHILD)
    # Within the limit: one more than the limit allows refuses everything.
    limited = make_campaign(pledge_limit=1)
    with pytest.raises(Conflict):
        services.pledge_reserve_family(campaign=limited, participant=head, donor=donor2, now=NOW)
    assert not Pledge.all_regencies.filter(participant__in=[head, child]).exists()
    # A member taken between the donor's list and the lock refuses the whole family:
    # the same call pledge_reserve_family makes, with the member ids it had listed.
    reserve(public_campaign, child, donor2)
    with pytest.raises(Conflict):
        services._reserve(campaign=public_campaign, participant_ids=[head.pk, child.pk], donor=donor, now=NOW,
                          family=True)
    assert Pledge.all_regencies.filter(participant=head).count() == 0


# --- expiry with frozen time -------------------------------------------------------------------------------


def test_reservations_expire_after_the_hold_and_warn_once_24h_before(public_campaign, make_participant, donor,
                                                                     donor2, django_capture_on_commit_callbacks):
    p = make_participant()
    pledge = reserve(public_campaign, p, donor)
    capture = django_capture_on_commit_callbacks
    with time_machine.travel(NOW + dt.timedelta(hours=47), tick=False), capture(execute=True):
        assert services.pledges_warn_expiring() == 0
        assert services.pledges_expire_lapsed() == 0
    with time_machine.travel(NOW + dt.timedelta(hours=49), tick=False), capture(execute=True):
        assert services.pledges_warn_expiring() == 1
        assert services.pledges_warn_expiring() == 0  # the sent-flag: once only
    assert len(mail.outbox) == 1 and "segera berakhir" in mail.outbox[0].subject
    with time_machine.travel(NOW + dt.timedelta(hours=71, minutes=59), tick=False):
        assert services.pledges_expire_lapsed() == 0
        assert p not in available_participants(regency=p.regency)
    with time_machine.travel(NOW + dt.timedelta(hours=72), tick=False):
        assert services.pledges_expire_lapsed() == 1
        assert services.pledges_expire_lapsed() == 0  # idempotent
        pledge.refresh_from_db()
        assert pledge.status == PledgeStatus.EXPIRED
        assert p in available_participants(regency=p.regency)
        assert reserve(public_campaign, p, donor2, now=timezone.now()).status == PledgeStatus.RESERVED


def test_the_celery_task_runs_both_jobs(public_campaign, make_participant, donor):
    from donations.tasks import pledges_expiry_task

    reserve(public_campaign, make_participant(), donor)
    with time_machine.travel(NOW + dt.timedelta(hours=80), tick=False):
        assert pledges_expiry_task() == {"warned": 0, "expired": 1, "unpaid_notified": 0, "unpaid_lapsed": 0,
                                         "unpaid_partly_paid": 0}


# --- payments ---------------------------------------------------------------------------------------------------


def test_payment_needs_a_confirmed_pledge(public_campaign, make_participant, donor):
    pledge = reserve(public_campaign, make_participant(), donor)
    with pytest.raises(Conflict) as caught:
        pay(pledge, donor)
    assert caught.value.code == "invalid_transition"
    assert not Payment.all_regencies.exists()


def test_the_same_payment_twice_is_refused(public_campaign, make_participant, donor):
    pledge = services.pledge_confirm(pledge=reserve(public_campaign, make_participant(), donor), actor=donor, now=NOW)
    pay(pledge, donor, reference="BRI-77", amount=100_000)
    with pytest.raises(Conflict) as caught:
        pay(pledge, donor, reference="BRI-77", amount=1_000)
    assert caught.value.code == "duplicate_payment"
    second = pay(pledge, donor, reference="BRI-78", amount=pledge.amount - 100_000)  # a second transfer is fine
    assert second.pledge_id == pledge.pk and Payment.all_regencies.filter(pledge=pledge).count() == 2


def test_payment_reference_uniqueness_is_a_database_constraint(public_campaign, make_participant, donor):
    from django.db import IntegrityError, transaction

    pledge = services.pledge_confirm(pledge=reserve(public_campaign, make_participant(), donor), actor=donor, now=NOW)
    payment = pay(pledge, donor, reference="X-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(regency=payment.regency, pledge=pledge, amount=5, reference="X-1",
                               paid_on=payment.paid_on, recorded_by=donor, receipt_number="T/other")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"amount": 0}, "amount"), ({"reference": " "}, "reference"),
])
def test_bad_payment_input_names_the_field(kwargs, field, public_campaign, make_participant, donor):
    pledge = services.pledge_confirm(pledge=reserve(public_campaign, make_participant(), donor), actor=donor, now=NOW)
    values = {"amount": 1000, "reference": "R-1", "paid_on": dt.date(2026, 11, 22)} | kwargs
    with pytest.raises(DomainError) as caught:
        services.payment_record(pledge=pledge, actor=donor, now=NOW, **values)
    assert field in caught.value.extra["errors"]


def test_payment_in_the_future_is_refused(public_campaign, make_participant, donor):
    pledge = services.pledge_confirm(pledge=reserve(public_campaign, make_participant(), donor), actor=donor, now=NOW)
    with pytest.raises(DomainError) as caught:
        services.payment_record(pledge=pledge, actor=donor, amount=1, reference="R", now=NOW,
                                paid_on=dt.date(2026, 11, 23))
    assert "paid_at" in caught.value.extra["errors"]


def test_receipts_are_sniffed_by_their_bytes(public_campaign, make_participant, donor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    pledge = services.pledge_confirm(pledge=reserve(public_campaign, make_participant(), donor), actor=donor, now=NOW)
    fake = SimpleUploadedFile("bukti.pdf", b"MZ\x90\x00not a pdf", content_type="application/pdf")
    with pytest.raises(DomainError) as caught:
        pay(pledge, donor, receipt=fake)
    assert caught.value.code == "receipt_type"
    settings.DONATION_RECEIPT_MAX_BYTES = 10
    big = SimpleUploadedFile("bukti.pdf", b"%PDF-1.4" + bytes(100), content_type="application/pdf")
    with pytest.raises(DomainError) as caught:
        pay(pledge, donor, receipt=big)
    assert caught.value.code == "receipt_too_large"
    settings.DONATION_RECEIPT_MAX_BYTES = 10_000
    pdf = SimpleUploadedFile("../../etc/bukti.pdf", b"%PDF-1.4\n" + bytes(100), content_type="text/plain")
    payment = pay(pledge, donor, receipt=pdf)
    assert payment.receipt_content_type == "application/pdf"
    assert payment.receipt.name.startswith(f"receipts/{pledge.regency_id}/") and ".." not in payment.receipt.name


def test_the_write_path_pool_is_the_browse_pool(public_campaign, make_participant, donor, admin_a):
    """`pool_candidates` (one EXISTS) and `available_participants` (eligibility_expression) agree."""
    from assessments.models import Assessment
    from donations.selectors import pool_candidates, pool_count
    from tests.donations.conftest import approve

    eligible = make_participant()
    make_participant(eligible=False)  # unassessed
    lapsed = make_participant(eligible=False)
    approve(lapsed, by=admin_a, valid_days=-1)
    rejected = make_participant(eligible=False)
    Assessment.objects.create(regency_id=rejected.regency_id, participant=rejected, status="rejected",
                              outcome="ineligible", reason_code="able_to_pay", questionnaire_version=1,
                              created_by=admin_a, valid_until=dt.date(2030, 1, 1))
    make_participant(status="cleared")
    make_participant(months=0, amount=0)
    held = make_participant()
    reserve(public_campaign, held, donor)
    browse = set(available_participants(regency=eligible.regency).values_list("pk", flat=True))
    write = set(pool_candidates(regency=eligible.regency).values_list("pk", flat=True))
    assert browse == write == {eligible.pk}
    assert pool_count(regency=eligible.regency) == 1  # the dashboard's count, from the approvals
