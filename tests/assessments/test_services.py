"""The assessment state machine, four eyes, consent, expiry and evidence."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from assessments import questionnaire, services
from assessments.models import Assessment, Evidence, ScreeningSettings, Status
from assessments.selectors import participant_eligibility
from core.audit import audit_history
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.time import regency_today
from regencies.roles import Role
from tests.assessments.conftest import VALID_ANSWERS
from tests.factories import member

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64


def _verbs(a):
    return [e.verb for e in audit_history(object_type="assessments.assessment", object_id=a.pk)]


def test_full_happy_path_with_history_and_eligibility(
    draft_a, assessor_a, supervisor_a, participant_a
):
    assert participant_eligibility(participant=participant_a) == "pending"
    services.assessment_save_answers(assessment=draft_a, actor=assessor_a, answers=VALID_ANSWERS)
    submitted = services.assessment_submit(assessment=draft_a, actor=assessor_a)
    assert submitted.status == Status.SUBMITTED and submitted.submitted_by == assessor_a
    approved = services.assessment_approve(assessment=submitted, actor=supervisor_a)
    assert approved.status == Status.APPROVED
    assert approved.outcome == "eligible"
    assert approved.valid_until == services.add_months(regency_today(approved.regency), 12)
    assert participant_eligibility(participant=participant_a) == "eligible"
    assert _verbs(approved) == [
        "assessment.created", "assessment.answers_saved", "assessment.submitted", "assessment.approved",
    ]


def test_consent_is_recorded_with_who_and_when(draft_a, assessor_a):
    a = services.assessment_save_answers(assessment=draft_a, actor=assessor_a, answers={"consent": True})
    assert a.consent_recorded_by == assessor_a and a.consent_recorded_at is not None
    a = services.assessment_save_answers(assessment=a, actor=assessor_a, answers={"consent": False})
    assert a.consent_recorded_by is None


def test_submit_lists_what_is_missing_and_needs_consent(draft_a, assessor_a):
    answers = {k: v for k, v in VALID_ANSWERS.items() if k not in {"household_size", "consent"}}
    services.assessment_save_answers(assessment=draft_a, actor=assessor_a, answers=answers)
    with pytest.raises(DomainError) as exc:
        services.assessment_submit(assessment=draft_a, actor=assessor_a)
    assert exc.value.code == "incomplete"
    assert exc.value.extra["missing"] == ["consent", "household_size"]
    assert Assessment.objects.for_regency(draft_a.regency).get(pk=draft_a.pk).status == Status.DRAFT


@pytest.mark.parametrize(
    ("answers", "bad_key"),
    [
        ({"colour": "red"}, "colour"),
        ({"household_size": "four"}, "household_size"),
        ({"household_size": 0}, "household_size"),
        ({"consent": "maybe"}, "consent"),
        ({"income_band": "rich"}, "income_band"),
        ({"assets": ["yacht"]}, "assets"),
        ({"visit_date": "20-11-2026"}, "visit_date"),
    ],
)
def test_answers_are_validated_against_the_questionnaire(draft_a, assessor_a, answers, bad_key):
    with pytest.raises(DomainError) as exc:
        services.assessment_save_answers(assessment=draft_a, actor=assessor_a, answers=answers)
    assert exc.value.code == "invalid_answers"
    assert bad_key in exc.value.extra["errors"]


def test_questionnaire_is_versioned_and_kept_on_the_assessment(draft_a):
    assert draft_a.questionnaire_version == questionnaire.QUESTIONNAIRE_VERSION
    keys = [q.key for q in questionnaire.questions(draft_a.questionnaire_version)]
    assert {"household_size", "dependants", "main_occupation", "income_band", "assets", "housing",
            "dtsen_decile", "arrears_reason", "recent_hospitalisation", "under_treatment",
            "keep_paying", "consent", "visit_date"} <= set(keys)


def test_four_eyes_submitter_cannot_decide(regency_a, participant_a, supervisor_a, assessor_a):
    a = services.assessment_start(regency=regency_a, actor=supervisor_a, participant=participant_a)
    services.assessment_save_answers(assessment=a, actor=supervisor_a, answers=VALID_ANSWERS)
    services.assessment_submit(assessment=a, actor=supervisor_a)
    with pytest.raises(PermissionDenied) as exc:
        services.assessment_approve(assessment=a, actor=supervisor_a)
    assert exc.value.code == "four_eyes"
    with pytest.raises(PermissionDenied) as exc:
        services.assessment_reject(assessment=a, actor=supervisor_a, reason="able_to_pay")
    assert exc.value.code == "four_eyes"
    admin = member(regency_a, Role.REGENCY_ADMIN)
    assert services.assessment_approve(assessment=a, actor=admin).status == Status.APPROVED


def test_assessor_cannot_decide(submitted_a, assessor_a, regency_a):
    other = member(regency_a, Role.ASSESSOR)
    with pytest.raises(PermissionDenied):
        services.assessment_approve(assessment=submitted_a, actor=other)


def test_reject_needs_a_reason_code_and_other_needs_a_note(submitted_a, supervisor_a):
    with pytest.raises(DomainError) as exc:
        services.assessment_reject(assessment=submitted_a, actor=supervisor_a, reason="")
    assert exc.value.code == "reason_required"
    with pytest.raises(DomainError) as exc:
        services.assessment_reject(assessment=submitted_a, actor=supervisor_a, reason="other")
    assert exc.value.code == "note_required"
    done = services.assessment_reject(assessment=submitted_a, actor=supervisor_a, reason="pays_when_sick")
    assert (done.status, done.outcome, done.reason_code) == ("rejected", "ineligible", "pays_when_sick")
    assert participant_eligibility(participant=done.participant) == "ineligible"


def test_return_goes_back_to_draft_with_a_note(submitted_a, supervisor_a, assessor_a):
    with pytest.raises(DomainError):
        services.assessment_return(assessment=submitted_a, actor=supervisor_a, note=" ")
    back = services.assessment_return(assessment=submitted_a, actor=supervisor_a, note="Foto rumah kurang")
    assert back.status == Status.DRAFT and back.return_note == "Foto rumah kurang"
    again = services.assessment_submit(assessment=back, actor=assessor_a)
    assert again.status == Status.SUBMITTED
    assert "assessment.returned" in _verbs(again)


def test_forbidden_transitions(draft_a, assessor_a, supervisor_a):
    with pytest.raises(Conflict):  # draft -> approved
        services.assessment_approve(assessment=draft_a, actor=supervisor_a)
    with pytest.raises(Conflict):  # draft -> rejected
        services.assessment_reject(assessment=draft_a, actor=supervisor_a, reason="moved")
    with pytest.raises(Conflict):  # draft -> draft (return)
        services.assessment_return(assessment=draft_a, actor=supervisor_a, note="x")
    services.assessment_save_answers(assessment=draft_a, actor=assessor_a, answers=VALID_ANSWERS)
    services.assessment_submit(assessment=draft_a, actor=assessor_a)
    with pytest.raises(Conflict):  # submitted -> submitted
        services.assessment_submit(assessment=draft_a, actor=assessor_a)
    with pytest.raises(Conflict):  # answers of a submission are frozen
        services.assessment_save_answers(assessment=draft_a, actor=assessor_a, answers={"dependants": 1})
    services.assessment_approve(assessment=draft_a, actor=supervisor_a)
    for act in (
        lambda: services.assessment_approve(assessment=draft_a, actor=supervisor_a),
        lambda: services.assessment_reject(assessment=draft_a, actor=supervisor_a, reason="moved"),
        lambda: services.assessment_return(assessment=draft_a, actor=supervisor_a, note="x"),
        lambda: services.assessment_submit(assessment=draft_a, actor=assessor_a),
    ):
        with pytest.raises(Conflict) as exc:
            act()
        assert exc.value.code == "invalid_transition"


def test_one_open_assessment_per_participant(draft_a, regency_a, assessor_a, participant_a):
    with pytest.raises(Conflict) as exc:
        services.assessment_start(regency=regency_a, actor=assessor_a, participant=participant_a)
    assert exc.value.code == "assessment_open"
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.create(
            regency=regency_a, participant=participant_a, status="submitted",
            questionnaire_version=1, created_by=assessor_a,
        )


def test_no_new_assessment_while_eligible_and_staff_cannot_start(
    submitted_a, supervisor_a, regency_a, assessor_a, staff_a, participant_a
):
    services.assessment_approve(assessment=submitted_a, actor=supervisor_a)
    with pytest.raises(Conflict) as exc:
        services.assessment_start(regency=regency_a, actor=assessor_a, participant=participant_a)
    assert exc.value.code == "already_eligible"
    with pytest.raises(PermissionDenied):
        services.assessment_start(regency=regency_a, actor=staff_a, participant=participant_a)


def test_other_regency_participant_or_actor_is_not_found(regency_a, assessor_b, participant_a, draft_a):
    with pytest.raises(NotFound):
        services.assessment_start(regency=regency_a, actor=assessor_b, participant=participant_a)
    with pytest.raises(NotFound):
        services.assessment_save_answers(assessment=draft_a, actor=assessor_b, answers={})


def test_eligibility_expires_after_the_regency_validity_period(
    regency_a, submitted_a, supervisor_a, participant_a, assessor_a
):
    ScreeningSettings.objects.create(regency=regency_a, validity_months=6)
    with time_machine.travel(dt.datetime(2026, 11, 22, 3, tzinfo=dt.UTC), tick=False):
        approved = services.assessment_approve(assessment=submitted_a, actor=supervisor_a)
    assert approved.valid_until == dt.date(2027, 5, 22)
    assert participant_eligibility(participant=participant_a, today=dt.date(2027, 5, 22)) == "eligible"
    with time_machine.travel(dt.datetime(2027, 5, 23, 3, tzinfo=dt.UTC), tick=False):
        assert participant_eligibility(participant=participant_a) == "expired"
        again = services.assessment_start(regency=regency_a, actor=assessor_a, participant=participant_a)
        assert again.status == Status.DRAFT


def test_add_months_clamps_to_month_end():
    assert services.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert services.add_months(dt.date(2026, 11, 30), 12) == dt.date(2027, 11, 30)


@pytest.mark.parametrize(("content", "ctype"), [
    (PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp"), (PDF, "application/pdf"),
])
def test_evidence_type_is_sniffed_and_stored_under_a_random_name(draft_a, assessor_a, content, ctype):
    upload = SimpleUploadedFile("rumah.exe", content, content_type="application/octet-stream")
    ev = services.evidence_add(assessment=draft_a, actor=assessor_a, upload=upload)
    assert ev.content_type == ctype
    assert "rumah" not in ev.file.name and ev.file.name.startswith(f"evidence/{draft_a.regency_id}/")
    assert ev.file.read() == content


def test_evidence_rejects_wrong_type_even_with_an_image_name(draft_a, assessor_a):
    upload = SimpleUploadedFile("foto.jpg", b"<html><script>alert(1)</script>", content_type="image/jpeg")
    with pytest.raises(DomainError) as exc:
        services.evidence_add(assessment=draft_a, actor=assessor_a, upload=upload)
    assert exc.value.code == "evidence_type"
    assert not Evidence.objects.for_regency(draft_a.regency).exists()


def test_evidence_rejects_large_files(draft_a, assessor_a, settings):
    settings.ASSESSMENT_EVIDENCE_MAX_BYTES = 1000
    upload = SimpleUploadedFile("foto.png", PNG + b"\x00" * 2000, content_type="image/png")
    with pytest.raises(DomainError) as exc:
        services.evidence_add(assessment=draft_a, actor=assessor_a, upload=upload)
    assert exc.value.code == "evidence_too_large"
