"""Integration points: eligibility for participant lists, the import signal, demo seeding."""

from __future__ import annotations

import importlib

from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments import services
from assessments.demo import seed_assessments
from assessments.models import Assessment, Screening, Status
from assessments.selectors import eligibility_expression
from core.models import AuditEvent
from core.time import regency_today
from participants.models import Participant
from tests.assessments.conftest import VALID_ANSWERS, d


def test_eligibility_expression_is_one_query_for_every_state(
    regency_a, history_a, assessor_a, supervisor_a
):
    ps = [history_a.participant(regency_a, [(d("2026-09-01"), 6)]) for _ in range(4)]
    pending = services.assessment_start(regency=regency_a, actor=assessor_a, participant=ps[0])
    for p, decide in ((ps[1], "approve"), (ps[2], "reject")):
        a = services.assessment_start(regency=regency_a, actor=assessor_a, participant=p)
        services.assessment_save_answers(assessment=a, actor=assessor_a, answers=VALID_ANSWERS)
        services.assessment_submit(assessment=a, actor=assessor_a)
        if decide == "approve":
            services.assessment_approve(assessment=a, actor=supervisor_a)
        else:
            services.assessment_reject(assessment=a, actor=supervisor_a, reason="able_to_pay")
    assert pending.status == Status.DRAFT
    today = regency_today(regency_a)
    with CaptureQueriesContext(connection) as ctx:
        got = dict(
            Participant.objects.for_regency(regency_a)
            .annotate(e=eligibility_expression(today, regency=regency_a))
            .values_list("pk", "e")
        )
    assert len(ctx) == 1
    assert [got[p.pk] for p in ps] == ["pending", "eligible", "ineligible", "unassessed"]
    later = services.add_months(today, 24)  # (29 February has no twin two years on)
    got = dict(
        Participant.objects.for_regency(regency_a).annotate(e=eligibility_expression(later))
        .values_list("pk", "e")
    )
    assert [got[p.pk] for p in ps] == ["pending", "expired", "expired", "unassessed"]
    assert Participant.objects.for_regency(regency_a).annotate(
        e=eligibility_expression(today, regency=regency_a)
    ).filter(e="eligible").get() == ps[1]


def test_applied_import_signal_runs_screening(
    regency_a, history_a, django_capture_on_commit_callbacks
):
    p = history_a.participant(regency_a, [(d("2026-09-01"), 6)])
    imp = history_a.import_on(d("2026-09-01"))
    signal = None
    for name in ("participants.signals", "participants.services"):
        try:
            signal = getattr(importlib.import_module(name), "arrears_import_applied", None)
        except ImportError:
            continue
        if signal is not None:
            break
    assert signal is not None, "participants defines arrears_import_applied"
    with django_capture_on_commit_callbacks(execute=True):
        signal.send(sender=type(imp), import_id=imp.pk)
    entry = Screening.objects.for_regency(regency_a).get(participant=p)
    assert entry.arrears_import_id == imp.pk
    assert AuditEvent.objects.filter(verb="screening.run", regency=regency_a).exists()


def test_seed_assessments_through_the_workflow_is_idempotent(
    regency_a, history_a, assessor_a, supervisor_a
):
    for i in range(20):
        history_a.participant(regency_a, [(d("2026-09-01"), 3 + i % 9)])
    first = seed_assessments(regency=regency_a, fraction=0.5, seed=1)
    assert first["approved"] == 10
    qs = Assessment.objects.for_regency(regency_a)
    approved = qs.filter(status=Status.APPROVED)
    assert approved.count() == 10
    assert all(a.decided_by_id != a.submitted_by_id for a in approved)
    assert qs.filter(status=Status.REJECTED).exclude(reason_code="").count() >= 1
    assert qs.filter(status=Status.DRAFT).count() >= 1
    total = qs.count()
    second = seed_assessments(regency=regency_a, fraction=0.5, seed=1)
    assert second["approved"] == 10 and qs.count() == total


def test_seed_assessments_skips_without_a_second_person(regency_b, history_b, assessor_b):
    history_b.participant(regency_b, [(d("2026-09-01"), 5)])
    assert "skipped" in seed_assessments(regency=regency_b)
