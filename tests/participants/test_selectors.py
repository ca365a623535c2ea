"""Reads of participants and imports."""

import datetime as dt
import uuid

import pytest
from django.core.files.base import ContentFile
from django.http import Http404

from participants import selectors
from participants.models import (
    ArrearsRecord,
    ImportRowError,
    ImportStatus,
    ParticipantStatus,
    Relationship,
)
from tests.factories import (
    ArrearsImportFactory,
    FamilyFactory,
    ParticipantFactory,
    UserFactory,
)


def test_participant_get_is_scoped_to_the_regency(regency_a, regency_b):
    mine = ParticipantFactory(regency=regency_a)
    theirs = ParticipantFactory(regency=regency_b)
    found = selectors.participant_get(regency=regency_a, public_id=str(mine.public_id))
    assert found == mine and found.eligibility == "unassessed"
    with pytest.raises(Http404):
        selectors.participant_get(regency=regency_a, public_id=theirs.public_id)
    with pytest.raises(Http404):
        selectors.participant_get(regency=regency_a, public_id="123-not-a-uuid")
    with pytest.raises(Http404):
        selectors.participant_get(regency=regency_a, public_id=uuid.uuid4())


def test_eligibility_choices_and_annotation(regency_a):
    assert [value for value, _label in selectors.ELIGIBILITY_CHOICES] == [
        "unassessed", "pending", "eligible", "ineligible", "expired",
    ]
    ParticipantFactory(regency=regency_a)
    qs = selectors.participant_annotate_eligibility(
        selectors.Participant.objects.for_regency(regency_a), regency=regency_a
    )
    assert list(qs.values_list("eligibility", flat=True)) == ["unassessed"]
    assert qs.filter(eligibility="eligible").count() == 0


def test_search_spaces_and_dots_in_numbers(regency_a):
    ParticipantFactory(regency=regency_a, name="X", nik="7322011203850001", card_number="0001234567890")
    assert selectors.participant_list(regency=regency_a, q="7322 0112 0385 0001").count() == 1
    assert selectors.participant_list(regency=regency_a, q="000.123.456.7890").count() == 1
    assert selectors.participant_list(regency=regency_a, q="   ").count() == 1  # empty search: all


def test_family_without_kk_is_the_participant_alone(regency_a):
    p = ParticipantFactory(regency=regency_a, family=None, card_number="0009876543210")
    family = selectors.participant_family(participant=p)
    assert family.members == [p] and family.size == 1 and family.in_arrears == 1
    assert family.virtual_accounts["Mandiri"] == "8988809876543210"


def test_family_counts_members_in_arrears_and_uses_the_head_for_va(regency_a):
    family = FamilyFactory(regency=regency_a)
    child = ParticipantFactory(regency=regency_a, family=family, relationship=Relationship.CHILD,
                               card_number="0000000000002")
    ParticipantFactory(regency=regency_a, family=family, relationship=Relationship.HEAD,
                       card_number="0000000000001")
    ParticipantFactory(regency=regency_a, family=family, relationship=Relationship.WIFE,
                       status=ParticipantStatus.CLEARED)
    summary = selectors.participant_family(participant=child)
    assert summary.size == 3 and summary.in_arrears == 2
    assert summary.virtual_accounts["BRI/BNI/BTN/BCA"] == "8888800000000001"


def test_history_and_chart(regency_a, branch_a):
    p = ParticipantFactory(regency=regency_a)
    dates = [dt.date(2026, 3, 31), dt.date(2026, 1, 31), dt.date(2026, 2, 28)]
    for as_of, months in zip(dates, (12, 0, 6), strict=True):
        imp = ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLIED, as_of=as_of)
        ArrearsRecord.objects.create(
            regency=regency_a, arrears_import=imp, participant=p, as_of=as_of, row_number=2,
            months_in_arrears=months, arrears_amount=months * 35_000, bpjs_status="inactive",
            care_class=3, segment="PBPU",
        )
    history = selectors.participant_history(participant=p)
    assert [r.as_of for r in history] == sorted(dates)
    chart = selectors.history_chart(history, width=320, height=120)
    assert chart.max_months == 12
    first, _middle, last = chart.points
    assert first.x == 12 and last.x == 308  # from the left padding to the right padding
    assert first.y == chart.baseline_y  # 0 months sits on the baseline
    assert last.y == 12  # the maximum touches the top padding
    assert chart.polyline.count(",") == 3
    assert selectors.history_chart([]) is None


def test_regency_counts_have_names(regency_a, regency_a2, branch_a):
    imp = ArrearsImportFactory(branch=branch_a, regency_counts={"73.17": 5, "73.22": 9, "99.99": 1})
    counts = selectors.import_regency_counts(arrears_import=imp)
    assert [(c.name, c.count) for c in counts] == [("Luwu Utara", 9), ("Luwu", 5), ("99.99", 1)]


def test_imports_for_user(bpjs_a, bpjs_b, branch_a, branch_b):
    a = ArrearsImportFactory(branch=branch_a)
    b = ArrearsImportFactory(branch=branch_b)
    assert list(selectors.import_list_for_user(user=bpjs_a)) == [a]
    operator = UserFactory(is_staff=True, is_superuser=True)
    assert set(selectors.import_list_for_user(user=operator)) == {a, b}
    with pytest.raises(Http404):
        selectors.import_get_for_user(user=bpjs_b, import_id=a.pk)
    with pytest.raises(Http404):
        selectors.import_get_for_user(user=bpjs_a, import_id="abc")


def test_error_rows_from_table_then_report_file_then_summary(branch_a):
    imp = ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLIED)
    ImportRowError.objects.create(arrears_import=imp, row=4, column="nik", message="m", value="v")
    assert list(selectors.import_errors_rows(arrears_import=imp)) == [(4, "nik", "m", "v")]

    stored = ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLIED)
    stored.error_report.save("r.csv", ContentFile(b"baris,kolom,pesan,nilai\n7,nama,kosong,\n"))
    assert list(selectors.import_errors_rows(arrears_import=stored)) == [(7, "nama", "kosong", "")]

    summary_only = ArrearsImportFactory(
        branch=branch_a, status=ImportStatus.REJECTED,
        errors=[{"row": 0, "column": "", "message": "Kolom wajib tidak ada.", "value": ""}],
    )
    assert list(selectors.import_errors_rows(arrears_import=summary_only)) == [
        (0, "", "Kolom wajib tidak ada.", ""),
    ]
    assert selectors.import_error_total(arrears_import=summary_only) == 1
