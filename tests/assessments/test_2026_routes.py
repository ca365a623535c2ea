"""The routes of 2026: the write-off programme as data, screening and
the assessment's recommendation, the PBI referral list, the donors' pool, REHAB instalments."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from python_calamine import CalamineWorkbook
from rest_framework.test import APIClient

from assessments import questionnaire, routes, services
from assessments.flags import flag_reason
from assessments.models import Assessment, Route, Screening, Status, WriteOffProgramme
from assessments.screening import screening_run
from assessments.selectors import (
    answer_rows,
    assessment_route,
    pbi_referrals,
    programme_in_force,
    rehab_instalment,
    writeoff_route_for,
)
from core.models import AuditEvent
from donations.models import Audience, Campaign, CampaignStatus, Kind
from donations.selectors import available_participants, pool_candidates, pool_count
from donations.services import donor_profile_ensure
from participants.models import ArrearsRecord
from tests.assessments.conftest import VALID_ANSWERS, d
from tests.factories import UserFactory

PROGRAMME_2026 = "Pemutihan tunggakan iuran JKN 2026 (Perpres dalam penyusunan)"
# A day the 2026 programme is in force, noon in Luwu Utara (WITA).
TODAY = dt.datetime(2026, 11, 22, 4, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def programme(db) -> WriteOffProgramme:
    return WriteOffProgramme.objects.get(name=PROGRAMME_2026)


def _participant(history, regency, months: int = 8, **kwargs):
    return history.participant(regency, [(d("2026-10-01"), months)], **kwargs)


def _assess(regency, participant, assessor, supervisor, *, decide: str | None = "approve", **answers):
    a = services.assessment_start(regency=regency, actor=assessor, participant=participant)
    a = services.assessment_save_answers(assessment=a, actor=assessor, answers={**VALID_ANSWERS, **answers})
    if decide is None:
        return a
    a = services.assessment_submit(assessment=a, actor=assessor)
    if decide == "approve":
        return services.assessment_approve(assessment=a, actor=supervisor)
    return services.assessment_reject(assessment=a, actor=supervisor, reason=decide)


# --- the programme as data -------------------------------------------------------------


def test_the_2026_programme_is_seeded_as_reported(programme):
    assert programme.starts_on == dt.date(2026, 1, 1) and programme.ends_on is None
    assert programme.deciles_automatic == [1, 2, 3, 4]
    assert programme.deciles_may_apply == [5, 6, 7, 8, 9, 10]
    assert programme.care_classes == [3] and programme.segments == ["PBPU", "BP"]
    assert programme.months_counted == 24 and programme.once_per_person is True
    assert "draf" in programme.legal_basis.lower()


def test_programme_in_force_follows_its_dates(programme):
    assert programme_in_force(dt.date(2025, 12, 31)) == []
    assert programme_in_force(dt.date(2026, 1, 1)) == [programme]
    ended = WriteOffProgramme.objects.create(
        name="Pemutihan uji", starts_on=dt.date(2027, 1, 1), ends_on=dt.date(2027, 6, 30),
        deciles_automatic=[1], care_classes=[3], segments=["PBPU"],
    )
    assert programme_in_force(dt.date(2026, 12, 31)) == [programme]
    assert programme_in_force(dt.date(2027, 6, 30)) == [programme, ended]
    assert programme_in_force(dt.date(2027, 7, 1)) == [programme]
    programme.ends_on = dt.date(2026, 12, 31)
    programme.save()
    assert programme_in_force(dt.date(2027, 1, 1)) == [ended]
    assert programme_in_force(dt.date(2026, 12, 31)) == [programme]


def test_the_database_refuses_deciles_out_of_range_and_end_before_start(db):
    from django.db import IntegrityError, transaction

    base = {"name": "x", "starts_on": dt.date(2026, 1, 1), "care_classes": [3], "segments": ["PBPU"]}
    for bad in ({"deciles_automatic": [0, 11]}, {"ends_on": dt.date(2025, 12, 31)}, {"segments": ["PBI"]},
                {"care_classes": [4]}):
        with pytest.raises(IntegrityError), transaction.atomic():
            WriteOffProgramme.objects.create(**(base | bad))


@pytest.mark.parametrize(
    ("decile", "care_class", "segment", "on", "expected"),
    [
        (1, 3, "PBPU", dt.date(2026, 11, 22), "covered"),
        (4, 3, "BP", dt.date(2026, 11, 22), "covered"),
        (5, 3, "PBPU", dt.date(2026, 11, 22), "may_apply"),
        (10, 3, "PBPU", dt.date(2026, 11, 22), "may_apply"),
        (None, 3, "PBPU", dt.date(2026, 11, 22), None),
        (2, 2, "PBPU", dt.date(2026, 11, 22), None),  # class II: not covered
        (2, 3, "PBPU", dt.date(2025, 12, 31), None),  # before the programme starts
    ],
)
def test_writeoff_route_by_decile_class_segment_and_date(
    history_a, regency_a, programme, decile, care_class, segment, on, expected
):
    p = _participant(history_a, regency_a, care_class=care_class)
    p.segment = segment
    assert writeoff_route_for(participant=p, decile=decile, on=on) == expected


def test_the_list_saying_written_off_is_covered_and_once_per_person_counts(history_a, regency_a, programme):
    p = _participant(history_a, regency_a)
    p.written_off = True
    assert writeoff_route_for(participant=p, decile=None, on=dt.date(2026, 11, 22)) == "covered"
    # Written off on an earlier list, in arrears again now: the write-off was used.
    p.written_off = None
    ArrearsRecord.objects.for_regency(regency_a).filter(participant=p).update(written_off=True)
    assert writeoff_route_for(participant=p, decile=2, on=dt.date(2026, 11, 22)) is None
    programme.once_per_person = False
    programme.save()
    assert writeoff_route_for(participant=p, decile=2, on=dt.date(2026, 11, 22)) == "covered"


# --- questionnaire ---------------------------------------------------------------------


def test_questionnaire_v2_asks_decile_and_instalment_and_v1_answers_stay_readable(
    regency_a, assessor_a, participant_a
):
    assert questionnaire.QUESTIONNAIRE_VERSION == 2
    v2 = questionnaire.questions_by_key(2)
    assert v2["dtsen_decile"].max_value == 10 and v2["dtsen_decile"].required is False
    assert v2["can_pay_instalment"].choice_values == ["yes", "no"]
    assert v2["instalment_capacity"].type == questionnaire.INTEGER
    with pytest.raises(questionnaire.AnswerError):
        questionnaire.validate_answers({"can_pay_instalment": "mungkin"})
    with pytest.raises(questionnaire.AnswerError):  # not a question of version 1
        questionnaire.validate_answers({"can_pay_instalment": "yes"}, version=1)
    old = Assessment.objects.create(
        regency=regency_a, participant=participant_a, questionnaire_version=1, created_by=assessor_a,
        answers={**VALID_ANSWERS, "dtsen_decile": 3},
    )
    rows = {r["question"].key: r["display"] for r in answer_rows(assessment=old)}
    assert rows["dtsen_decile"] == "3" and "can_pay_instalment" not in rows


# --- the recommendation --------------------------------------------------------------------


def test_a_covered_decile_is_referred_to_pbi_with_the_programme_named(
    client, history_a, regency_a, assessor_a, supervisor_a, programme
):
    p = _participant(history_a, regency_a)
    a = _assess(regency_a, p, assessor_a, supervisor_a, decide=None, dtsen_decile=2)
    assert a.route == Route.WRITEOFF and a.writeoff_programme_id == programme.pk
    text = assessment_route(assessment=a)["text"]
    assert text.startswith(f"Rujuk ke PBI; tunggakan dihapus oleh program {PROGRAMME_2026}.")
    client.force_login(assessor_a)
    page = client.get(f"/r/luwu-utara/assessments/{a.pk}/").content.decode()
    assert 'data-route="writeoff"' in page and PROGRAMME_2026 in page
    api = APIClient()
    api.force_authenticate(assessor_a)
    body = api.get(f"/api/v1/assessments/{a.pk}/").json()
    assert body["route"] == "writeoff" and body["writeoff_programme"] == PROGRAMME_2026
    assert body["route_text"] == text


def test_a_decile_that_may_apply_is_flagged_for_help(client, history_a, regency_a, assessor_a, supervisor_a):
    p = _participant(history_a, regency_a)
    a = _assess(regency_a, p, assessor_a, supervisor_a, decide=None, dtsen_decile=6)
    assert a.route == Route.WRITEOFF_MAY_APPLY
    assert assessment_route(assessment=a)["text"].startswith("Bantu ajukan pemutihan")
    client.force_login(assessor_a)
    assert "Bantu ajukan pemutihan" in client.get(f"/r/luwu-utara/assessments/{a.pk}/").content.decode()


def test_no_decile_and_no_instalment_goes_to_donors(history_a, regency_a, assessor_a, supervisor_a):
    a = _assess(regency_a, _participant(history_a, regency_a), assessor_a, supervisor_a, decide=None)
    assert a.route == Route.DONOR


def test_the_route_follows_the_programme_in_force_when_decided(
    history_a, regency_a, assessor_a, supervisor_a, programme
):
    """Answers saved while the programme was in force; it ended before the decision: donors."""
    a = _assess(regency_a, _participant(history_a, regency_a), assessor_a, supervisor_a, decide=None,
                dtsen_decile=3)
    assert a.route == Route.WRITEOFF
    programme.ends_on = dt.date(2026, 11, 1)
    programme.save()
    a = services.assessment_submit(assessment=a, actor=assessor_a)
    a = services.assessment_approve(assessment=a, actor=supervisor_a)
    assert a.route == Route.DONOR and a.writeoff_programme_id is None


# --- REHAB ------------------------------------------------------------------------------


def test_rehab_instalment_figures():
    plan = routes.rehab_plan(months=24, amount=840_000)
    assert (plan.instalments, plan.instalment) == (12, 70_000)
    assert plan.label == "cicilan Rp70.000 × 12"
    assert routes.rehab_plan(months=10, amount=350_000).instalments == 5  # half the months owed
    four = routes.rehab_plan(months=4, amount=140_000)
    assert (four.instalments, four.instalment) == (2, 70_000)  # the 4-month minimum
    assert routes.rehab_plan(months=3, amount=105_000) is None
    assert routes.rehab_plan(months=25, amount=875_000) is None  # more than 24 months: not REHAB
    assert routes.rehab_plan(months=7, amount=245_000).instalment == 81_667  # rounded up


def test_a_household_that_can_pay_an_instalment_is_routed_to_rehab(
    client, history_a, regency_a, assessor_a, supervisor_a
):
    p = _participant(history_a, regency_a, months=24)
    a = _assess(regency_a, p, assessor_a, supervisor_a, decide=None, can_pay_instalment="yes",
                instalment_capacity=75_000)
    assert a.route == Route.REHAB
    assert "cicilan Rp70.000 × 12" in assessment_route(assessment=a)["text"]
    client.force_login(assessor_a)
    page = client.get(f"/r/luwu-utara/assessments/{a.pk}/").content.decode()
    assert 'data-route="rehab"' in page and "Rp70.000 × 12" in page
    # 25 months: REHAB does not apply, the household goes to donors.
    long = _participant(history_a, regency_a, months=25)
    b = _assess(regency_a, long, assessor_a, supervisor_a, decide=None, can_pay_instalment="yes")
    assert b.route == Route.DONOR
    # 3 months: below REHAB's minimum.
    short = _participant(history_a, regency_a, months=3)
    c = _assess(regency_a, short, assessor_a, supervisor_a, decide=None, can_pay_instalment="yes")
    assert c.route == Route.DONOR


def test_a_participant_already_in_rehab_is_shown_and_may_be_pledged(
    client, history_a, regency_a, assessor_a, supervisor_a
):
    p = _participant(history_a, regency_a, months=8)
    p.in_rehab, p.rehab_instalments_left = True, 4
    p.save(update_fields=["in_rehab", "rehab_instalments_left"])
    assert rehab_instalment(p) == 70_000  # Rp280.000 left over 4 instalments
    a = _assess(regency_a, p, assessor_a, supervisor_a)
    assert a.route == Route.IN_REHAB
    client.force_login(assessor_a)
    page = client.get(f"/r/luwu-utara/assessments/{a.pk}/").content.decode()
    assert "data-in-rehab" in page and "Sisa 4 cicilan" in page
    assert p in pool_candidates(regency=regency_a)  # donors may pay the remaining instalments
    p.rehab_instalments_left = 0
    assert rehab_instalment(p) is None
    p.in_rehab = False
    assert rehab_instalment(p) is None


# --- screening ---------------------------------------------------------------------------


def test_screening_reads_the_list_columns(history_a, regency_a):
    off = _participant(history_a, regency_a)
    rehab = _participant(history_a, regency_a)
    plain = _participant(history_a, regency_a)
    type(off).all_regencies.filter(pk=off.pk).update(written_off=True)
    type(off).all_regencies.filter(pk=rehab.pk).update(in_rehab=True, rehab_instalments_left=3)
    screening_run(regency=regency_a)
    entries = {s.participant_id: s for s in Screening.objects.for_regency(regency_a)}
    assert entries[off.pk].recommendation == "written_off"
    assert entries[off.pk].flag_codes == ["written_off"]
    assert entries[off.pk].priority < entries[plain.pk].priority
    assert entries[rehab.pk].flag_codes == ["in_rehab"]
    assert flag_reason(entries[rehab.pk].flags[0]) == "Daftar BPJS: sudah ikut REHAB, sisa 3 cicilan"
    assert entries[plain.pk].recommendation == "assess" and entries[plain.pk].flag_codes == []


# --- the donors' pool ------------------------------------------------------------------


def test_covered_and_rehab_households_are_not_offered_to_donors(
    history_a, regency_a, assessor_a, supervisor_a
):
    covered = _participant(history_a, regency_a)
    rehab = _participant(history_a, regency_a, months=12)
    may_apply = _participant(history_a, regency_a)
    donor_route = _participant(history_a, regency_a)
    listed_off = _participant(history_a, regency_a)
    _assess(regency_a, covered, assessor_a, supervisor_a, dtsen_decile=2)
    _assess(regency_a, rehab, assessor_a, supervisor_a, can_pay_instalment="yes")
    _assess(regency_a, may_apply, assessor_a, supervisor_a, dtsen_decile=7)
    _assess(regency_a, donor_route, assessor_a, supervisor_a)
    _assess(regency_a, listed_off, assessor_a, supervisor_a)
    # A newer list marks this one written off after its approval.
    type(listed_off).all_regencies.filter(pk=listed_off.pk).update(written_off=True)

    Campaign.objects.create(regency=regency_a, slug="lutra-peduli", title="Luwu Utara Peduli",
                            audience=Audience.PUBLIC, kind=Kind.BOTH, status=CampaignStatus.ACTIVE)
    donor = UserFactory(email="donatur.rute@example.test")
    donor_profile_ensure(user=donor)
    api = APIClient()
    api.force_authenticate(donor)
    response = api.get("/api/v1/campaigns/lutra-peduli/participants/")
    assert response.status_code == 200
    shown = {row["public_id"] for row in response.json()["results"]}
    assert shown == {str(may_apply.public_id), str(donor_route.public_id)}
    expected = {may_apply.pk, donor_route.pk}
    assert set(available_participants(regency=regency_a).values_list("pk", flat=True)) == expected
    assert set(pool_candidates(regency=regency_a).values_list("pk", flat=True)) == expected
    assert pool_count(regency=regency_a) == len(expected)  # counted from the approvals' end


# --- the PBI referral list ----------------------------------------------------------------


def test_the_referral_list_names_the_programme(client, history_a, regency_a, assessor_a, supervisor_a):
    covered = _participant(history_a, regency_a)
    _assess(regency_a, covered, assessor_a, supervisor_a, decide="refer_pbi", dtsen_decile=2)
    listed = _participant(history_a, regency_a)
    type(listed).all_regencies.filter(pk=listed.pk).update(written_off=True)
    listed.refresh_from_db()
    _assess(regency_a, listed, assessor_a, supervisor_a, decide="refer_pbi")  # no decile: the list says so
    elsewhere = _participant(history_a, regency_a)
    _assess(regency_a, elsewhere, assessor_a, supervisor_a, dtsen_decile=8)

    rows = list(pbi_referrals(regency=regency_a))
    assert {a.participant_id for a in rows} == {covered.pk, listed.pk}
    assert all(a.route == Route.WRITEOFF and a.writeoff_programme.name == PROGRAMME_2026 for a in rows)

    client.force_login(supervisor_a)
    page = client.get("/r/luwu-utara/assessments/pbi/").content.decode()
    assert page.count(f"Tunggakan dihapus program {PROGRAMME_2026}") == 2
    response = client.get("/r/luwu-utara/assessments/pbi/export/")
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    header = sheet[0]
    col = header.index("Program pemutihan")
    assert [r[col] for r in sheet[1:]] == [PROGRAMME_2026, PROGRAMME_2026]
    assert {r[header.index("Dasar usulan")] for r in sheet[1:]} == {"Tunggakan dihapus program pemutihan"}


# --- the operator edits the programme ------------------------------------------------------


def test_the_national_operator_edits_the_programme_in_the_admin(client, programme, admin_a):
    operator = UserFactory(email="operator.rute@example.test", is_staff=True, is_superuser=True)
    url = f"/admin/assessments/writeoffprogramme/{programme.pk}/change/"
    form = {
        "name": "Pemutihan tunggakan iuran JKN 2026 (Perpres 2026)", "legal_basis": "Perpres (nomor uji)",
        "starts_on": "2026-01-01", "ends_on": "2026-12-31", "deciles_automatic": "1,2,3",
        "deciles_may_apply": "4,5,6,7,8,9,10", "care_classes": "3", "segments": "PBPU,BP",
        "months_counted": "24", "once_per_person": "on", "note": "",
    }
    client.force_login(operator)
    assert client.get(url).status_code == 200
    bad = client.post(url, {**form, "deciles_may_apply": "3,4"})  # 3 is already automatic
    assert bad.status_code == 200 and "tidak boleh sekaligus" in bad.content.decode()
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    programme.refresh_from_db()
    assert programme.deciles_automatic == [1, 2, 3] and programme.ends_on == dt.date(2026, 12, 31)
    event = AuditEvent.objects.get(verb="writeoff_programme.changed")
    assert event.actor == operator and event.before["deciles_automatic"] == [1, 2, 3, 4]
    assert programme_in_force(dt.date(2027, 1, 1)) == []
    # A regency admin is no operator.
    client.force_login(admin_a)
    assert client.get(url).status_code in (302, 403)


# --- the demo -------------------------------------------------------------------------------


def test_the_demo_has_a_written_off_and_a_rehab_household(history_a, regency_a, assessor_a, supervisor_a):
    from assessments.demo import seed_assessments

    for i in range(20):
        history_a.participant(regency_a, [(d("2026-09-01"), 4 + i % 9)])
    seed_assessments(regency=regency_a, fraction=0.5, seed=1)
    qs = Assessment.objects.for_regency(regency_a)
    writeoff = qs.get(route=Route.WRITEOFF, answers__dtsen_decile=2)
    assert writeoff.status == Status.REJECTED and writeoff.reason_code == "refer_pbi"
    assert writeoff in pbi_referrals(regency=regency_a)
    rehab = qs.get(route=Route.REHAB)
    assert rehab.status == Status.REJECTED and rehab.reason_code == "refer_rehab"
    # Approved households are offered to donors: none of them in a covered decile.
    assert not qs.filter(status=Status.APPROVED, route__in=routes.NOT_FOR_DONORS).exists()
    total = qs.count()
    seed_assessments(regency=regency_a, fraction=0.5, seed=1)
    assert qs.count() == total


def test_approving_a_write_off_route_releases_the_unpaid_pledge_at_once(
    history_a, regency_a, assessor_a, supervisor_a, django_capture_on_commit_callbacks
):
    """The decision itself (not the next list or night) frees the household from donors: the
    donations app reconciles the regency after the approval commits."""
    from core.models import OutboxMessage
    from donations.models import Pledge, PledgeStatus, ReconciliationRun

    p = _participant(history_a, regency_a)
    campaign = Campaign.objects.create(regency=regency_a, slug="lutra-peduli", title="Peduli",
                                       audience=Audience.PUBLIC, kind=Kind.ONE_TO_ONE, status=CampaignStatus.ACTIVE)
    donor = UserFactory(email="donatur.pemutihan@example.test")
    pledged = Pledge.objects.create(
        regency=regency_a, campaign=campaign, participant=p, donor=donor, status=PledgeStatus.PLEDGED,
        amount=315_000, arrears_amount=280_000, months_in_arrears=8, monthly_tariff=35_000,
        pledged_at=TODAY, due_at=TODAY + dt.timedelta(days=14), as_of=d("2026-10-01"))
    with django_capture_on_commit_callbacks(execute=True):
        a = _assess(regency_a, p, assessor_a, supervisor_a, dtsen_decile=2)
    assert a.route == Route.WRITEOFF
    pledged.refresh_from_db()
    assert (pledged.status, pledged.release_reason) == (PledgeStatus.RELEASED, "written_off")
    run = ReconciliationRun.objects.for_regency(regency_a).get()
    assert (run.trigger, run.released_written_off) == ("assessment", 1)
    assert OutboxMessage.objects.filter(task="donations.tasks.reconcile_regency_task").count() == 1


def test_approving_a_donor_route_reconciles_nothing(
    history_a, regency_a, assessor_a, supervisor_a, django_capture_on_commit_callbacks
):
    from core.models import OutboxMessage

    with django_capture_on_commit_callbacks(execute=True):
        a = _assess(regency_a, _participant(history_a, regency_a), assessor_a, supervisor_a)
    assert a.route == Route.DONOR
    assert not OutboxMessage.objects.filter(task="donations.tasks.reconcile_regency_task").exists()
