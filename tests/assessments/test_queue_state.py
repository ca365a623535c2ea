"""The queue page's per-row state (`selectors.queue_state`: one read of the page's assessments) and
its cards (`assessment_tags.queue_cards`): the same state as `eligibility_expression`, the same
markup as the template wrote card by card, and no per-row subqueries in the page's statement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments import selectors, services
from assessments.models import Assessment, Screening
from assessments.screening import screening_run
from tests.assessments.conftest import VALID_ANSWERS, d


def _decided(regency, participant, assessor, supervisor, *, approve: bool) -> Assessment:
    a = services.assessment_start(regency=regency, actor=assessor, participant=participant)
    services.assessment_save_answers(assessment=a, actor=assessor, answers=VALID_ANSWERS)
    services.assessment_submit(assessment=a, actor=assessor)
    if approve:
        return services.assessment_approve(assessment=a, actor=supervisor)
    return services.assessment_reject(assessment=a, actor=supervisor, reason="able_to_pay")


def _world(history, regency, district, assessor, supervisor) -> dict[str, object]:
    """One participant in each state the queue tells apart."""
    names = ["unassessed", "draft", "submitted", "eligible", "ineligible", "expired_approval",
             "expired_rejection", "rejection_without_validity", "expired_then_draft"]
    people = {name: history.participant(regency, [(d("2026-09-01"), 3 + i)], district=district)
              for i, name in enumerate(names)}
    screening_run(regency=regency)
    services.assessment_start(regency=regency, actor=assessor, participant=people["draft"])
    submitted = services.assessment_start(regency=regency, actor=assessor, participant=people["submitted"])
    services.assessment_save_answers(assessment=submitted, actor=assessor, answers=VALID_ANSWERS)
    services.assessment_submit(assessment=submitted, actor=assessor)
    _decided(regency, people["eligible"], assessor, supervisor, approve=True)
    _decided(regency, people["ineligible"], assessor, supervisor, approve=False)
    old = [_decided(regency, people["expired_approval"], assessor, supervisor, approve=True),
           _decided(regency, people["expired_rejection"], assessor, supervisor, approve=False),
           _decided(regency, people["expired_then_draft"], assessor, supervisor, approve=True)]
    Assessment.all_regencies.filter(pk__in=[a.pk for a in old]).update(valid_until=dt.date(2025, 1, 1))
    none = _decided(regency, people["rejection_without_validity"], assessor, supervisor, approve=False)
    Assessment.all_regencies.filter(pk=none.pk).update(valid_until=None)
    services.assessment_start(regency=regency, actor=supervisor, participant=people["expired_then_draft"])
    return people


def test_queue_state_is_the_eligibility_rule_and_the_newest_open_assessment(
    history_a, regency_a, district_a, assessor_a, supervisor_a
):
    people = _world(history_a, regency_a, district_a, assessor_a, supervisor_a)
    page = selectors.queue_page(regency=regency_a, user=assessor_a,
                                filters=selectors.QueueFilters(status="all"))
    assert len(page.object_list) == len(people)
    by_participant = {e.participant_id: e for e in page.object_list}
    expected_eligibility = {
        "unassessed": "unassessed", "draft": "pending", "submitted": "pending", "eligible": "eligible",
        "ineligible": "ineligible", "expired_approval": "expired", "expired_rejection": "expired",
        "rejection_without_validity": "expired", "expired_then_draft": "pending",
    }
    for name, participant in people.items():
        entry = by_participant[participant.pk]
        assessments = Assessment.objects.for_regency(regency_a).filter(participant=participant)
        newest_open = assessments.filter(status__in=["draft", "submitted"]).first()
        validities = [a.valid_until for a in assessments if a.status in {"approved", "rejected"} and a.valid_until]
        assert entry.eligibility == expected_eligibility[name], name
        assert entry.eligibility == selectors.participant_eligibility(participant=participant), name
        assert entry.open_id == (newest_open.pk if newest_open else None), name
        assert entry.open_status == (newest_open.status if newest_open else None), name
        assert entry.open_assigned_to == (newest_open.assigned_to_id if newest_open else None), name
        assert entry.last_valid_until == max(validities, default=None), name


def test_the_page_statement_reads_no_assessment_per_row(history_a, regency_a, district_a, assessor_a):
    for months in (3, 4, 5):
        history_a.participant(regency_a, [(d("2026-09-01"), months)], district=district_a)
    screening_run(regency=regency_a)
    with CaptureQueriesContext(connection) as queries:
        page = selectors.queue_page(regency=regency_a, user=assessor_a)
    assert len(page.object_list) == 3
    (rows,) = [q["sql"] for q in queries.captured_queries
               if q["sql"].startswith('SELECT "assessments_screening"."id"')]
    # The `todo` filter's NOT EXISTS (in the statement and in its keys subquery) and nothing else:
    # the state comes from one read of the page's assessments, not from subqueries a row.
    assert rows.count('"assessments_assessment"') == 2, rows
    assert '"participants_family"' not in rows


def test_queue_cards_are_the_template_cards(client, history_a, regency_a, district_a, village_a,
                                            assessor_a, supervisor_a):
    for user, name in ((assessor_a, "Asesor <A> & 'b'"), (supervisor_a, "Sup Ervisor")):
        user.full_name = name
        user.save()
    sick = history_a.participant(regency_a, [(d("2026-03-01"), 8), (d("2026-06-01"), 0), (d("2026-09-01"), 3)],
                                 district=district_a)
    sick.name, sick.village, sick.arrears_amount = "O'Neil & <Sons>", village_a, 1234567
    sick.save()
    draft = history_a.participant(regency_a, [(d("2026-09-01"), 5)])
    screening_run(regency=regency_a)
    services.queue_assign(regency=regency_a, actor=supervisor_a, participant_ids=[sick.pk], assignee=assessor_a)
    Screening.objects.for_regency(regency_a).filter(participant=sick).update(queued_on=dt.date(2022, 1, 1))
    opened = services.assessment_start(regency=regency_a, actor=assessor_a, participant=draft)
    days = (selectors._today(regency_a) - dt.date(2022, 1, 1)).days
    client.force_login(supervisor_a)
    html = client.get("/r/luwu-utara/assessments/", {"status": "all"}).content.decode()
    assert (
        f'\n      <li class="card queue-card" data-participant="{sick.public_id}">'
        f'\n        <div class="queue-card-head"><input type="checkbox" name="participants" value="{sick.pk}"'
        ' aria-label="Pilih O&#x27;Neil &amp; &lt;Sons&gt;"><strong class="queue-name">O&#x27;Neil &amp; &lt;Sons&gt;'
        '</strong>\n          <button class="btn btn-primary btn-small queue-action" type="submit" form="queue-start"'
        f' formaction="/r/luwu-utara/assessments/start/{sick.public_id}/">Mulai asesmen</button></div>'
        '\n        <p class="queue-meta"><span class="badge badge-bad">Kemungkinan tidak layak</span>'
        f'\n          <span>NIK {sick.nik_masked}</span> · Masamba · Baloli · 3 bulan · '
        '<span class="amount">Rp1.234.567</span> · keluarga 1 orang · '
        f'menunggu {days} hari · ditugaskan: Asesor &lt;A&gt; &amp; &#x27;b&#x27;</p>'
        '\n        <p class="queue-flags"><span class="badge badge-bad" data-flag="pays_when_sick">Bayar saat sakit'
        '</span> Tunggakan 8 bulan lunas sendiri antara 1 Maret 2026 dan 1 Juni 2026, lalu menunggak lagi'
        ' 3 bulan kemudian<br><span class="badge badge-warn" data-flag="self_cleared_before">Pernah melunasi'
        ' sendiri</span> Tunggakan 8 bulan lunas sendiri antara 1 Maret 2026 dan 1 Juni 2026</p>'
        '\n      </li>\n    '
    ) in html
    assert (
        f'\n      <li class="card queue-card" data-participant="{draft.public_id}">'
        f'\n        <div class="queue-card-head"><input type="checkbox" name="participants" value="{draft.pk}"'
        f' aria-label="Pilih {draft.name}"><strong class="queue-name">{draft.name}</strong>'
        f'\n          <a class="btn btn-primary btn-small queue-action" href="/r/luwu-utara/assessments/{opened.pk}/">'
        'Lanjutkan</a></div>'
        '\n        <p class="queue-meta"><span class="badge badge-ok">Perlu dinilai</span>'
        ' <span class="badge badge-warn">Draf</span>'
        f'\n          <span>NIK {draft.nik_masked}</span> · – · – · 5 bulan · <span class="amount">Rp175.000</span>'
        ' · keluarga 1 orang · menunggu 0 hari</p>'
        '\n        \n      </li>\n    '
    ) in html
    client.cookies["django_language"] = "en"
    html = client.get("/r/luwu-utara/assessments/", {"status": "all"}).content.decode()
    assert f"waiting {days} days · assigned: Asesor &lt;A&gt; &amp; &#x27;b&#x27;</p>" in html
    assert f'aria-label="Select {draft.name}"' in html and ">Continue</a>" in html


@pytest.mark.django_db(transaction=True)
def test_kept_queue_cards_follow_who_decides_and_an_assignment(client, history_a, regency_a, district_a,
                                                               assessor_a, supervisor_a):
    """The cards are kept per version of the regency's data (`regencies.versions.kept`): a
    supervisor's have checkboxes, an assessor's at the same address do not, and an assignment
    shows on the next read once it commits."""
    waiting = history_a.participant(regency_a, [(d("2026-09-01"), 5)], district=district_a)
    screening_run(regency=regency_a)
    url, query = "/r/luwu-utara/assessments/", {"status": "all"}
    checkbox = f'name="participants" value="{waiting.pk}"'
    client.force_login(supervisor_a)
    assert checkbox in client.get(url, query).content.decode()
    client.force_login(assessor_a)
    html = client.get(url, query).content.decode()
    assert str(waiting.public_id) in html and checkbox not in html and "ditugaskan" not in html
    services.queue_assign(regency=regency_a, actor=supervisor_a, participant_ids=[waiting.pk], assignee=assessor_a)
    assert "ditugaskan" in client.get(url, query).content.decode()
