"""Exports: neutralised cells, masking by role, the list filters, and one audit event each."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from assessments.models import Assessment
from core.exports import Column, csv_lines, neutralise, write_xlsx
from core.models import AuditEvent
from participants.models import ParticipantStatus
from tests.factories import FamilyFactory, ParticipantFactory


@pytest.mark.parametrize("text", ["=1+1", "+62", "-5000", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_formula_starts(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize(("value", "expected"), [("Budi", "Budi"), (None, ""), (42, "42"), ("a=b", "a=b")])
def test_neutralise_leaves_plain_values(value, expected):
    assert neutralise(value) == expected


def test_writers_neutralise_and_keep_numbers():
    columns = [Column("nama", lambda r: r[0]), Column("jumlah", lambda r: r[1]), Column("tanggal", lambda r: r[2])]
    rows = [("=HYPERLINK(\"http://x\")", 5000, dt.date(2026, 11, 22)), ("-1", -7, None)]
    handle, count = write_xlsx(rows, columns, sheet="Uji")
    body = handle.read()
    assert count == 2
    assert "<f>" not in zipfile.ZipFile(io.BytesIO(body)).read("xl/worksheets/sheet1.xml").decode()
    data = CalamineWorkbook.from_filelike(io.BytesIO(body)).get_sheet_by_index(0).to_python()
    assert data[1][0] == "'=HYPERLINK(\"http://x\")" and data[1][1] == 5000
    assert data[2][0] == "'-1" and data[2][1] == -7
    lines = list(csv.reader(io.StringIO("".join(csv_lines(rows, columns)).lstrip("\ufeff"))))
    assert lines[1] == ["'=HYPERLINK(\"http://x\")", "5000", "2026-11-22"]
    assert lines[2] == ["'-1", "-7", ""]


def _sheet(response) -> list[list]:
    body = b"".join(response.streaming_content)
    assert "<f>" not in zipfile.ZipFile(io.BytesIO(body)).read("xl/worksheets/sheet1.xml").decode()
    return CalamineWorkbook.from_filelike(io.BytesIO(body)).get_sheet_by_index(0).to_python()


@pytest.fixture
def people(regency_a, regency_b, district_a, village_a):
    family = FamilyFactory(regency=regency_a, village=village_a)
    evil = ParticipantFactory(regency=regency_a, family=family, district=district_a, village=village_a,
                              name="=HYPERLINK(\"http://jahat\")", nik="7322010101800001", arrears_amount=420_000)
    plain = ParticipantFactory(regency=regency_a, family=family, district=district_a, village=village_a,
                               name="Siti Aminah", nik="7322010101800002")
    cleared = ParticipantFactory(regency=regency_a, status=ParticipantStatus.CLEARED, name="Sudah Lunas")
    other = ParticipantFactory(regency=regency_b, name="Warga Lombok")
    return {"evil": evil, "plain": plain, "cleared": cleared, "other": other}


def _export_url(regency, **params):
    from urllib.parse import urlencode

    url = reverse("participant_export", kwargs={"regency_slug": regency.slug})
    return f"{url}?{urlencode(params)}" if params else url


def test_participant_export_masks_nik_neutralises_and_audits(client, people, regency_a, assessor_a):
    client.force_login(assessor_a)
    response = client.get(_export_url(regency_a, status="inactive", sort="name"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _sheet(response)
    header = [str(c) for c in rows[0]]
    assert header[:3] == ["Nomor kartu JKN", "NIK (disamarkan)", "Nama"]
    body = rows[1:]
    assert len(body) == 2  # the filter: only those in arrears, only this regency
    names = [r[2] for r in body]
    assert "'=HYPERLINK(\"http://jahat\")" in names and "Siti Aminah" in names
    niks = {r[1] for r in body}
    assert "7322010101800001" not in niks and all("*" in n for n in niks)
    assert all(r[0].isdigit() and len(r[0]) == 13 for r in body)  # card numbers as text, leading zeros kept
    event = AuditEvent.objects.get(verb="export.participants")
    assert event.actor == assessor_a and event.regency == regency_a
    assert event.after["rows"] == 2
    assert event.after["filters"]["status"] == "inactive"
    assert event.after["nik_revealed"] is False


def test_participant_export_full_nik_only_when_allowed_and_asked(client, people, regency_a, assessor_a, bpjs_a):
    client.force_login(assessor_a)
    rows = _sheet(client.get(_export_url(regency_a, nik="full", status="inactive")))
    assert rows[0][1] == "NIK"
    assert {r[1] for r in rows[1:]} == {"7322010101800001", "7322010101800002"}
    event = AuditEvent.objects.get(verb="export.participants")
    assert event.after["nik_revealed"] is True
    client.force_login(bpjs_a)  # sees participants, may not reveal NIK
    assert client.get(_export_url(regency_a, nik="full")).status_code == 403
    assert AuditEvent.objects.filter(verb="export.participants").count() == 1


def test_participant_export_csv(client, people, regency_a, supervisor_a):
    client.force_login(supervisor_a)
    response = client.get(_export_url(regency_a, format="csv", q="Siti"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    lines = list(csv.reader(io.StringIO(text)))
    assert len(lines) == 2 and lines[1][2] == "Siti Aminah"
    assert AuditEvent.objects.get(verb="export.participants").after == {
        "rows": 1, "format": "csv", "nik_revealed": False,
        "filters": {"q": "Siti", "district_id": None, "village_id": None, "status": "", "eligibility": "",
                    "band": "", "sort": "months"},
    }


def test_participant_export_who_may(client, people, regency_a, staff_a, admin_b):
    client.force_login(staff_a)  # Pemda staff: aggregates only
    assert client.get(_export_url(regency_a)).status_code == 403
    client.force_login(admin_b)
    assert client.get(_export_url(regency_a)).status_code == 404
    assert not AuditEvent.objects.filter(verb="export.participants").exists()


def _assessment(participant, by, **kwargs):
    values = {"status": "submitted", "questionnaire_version": 1,
              "answers": {"recent_hospitalisation": True, "household_size": 4, "notes": "=cmd|' /C calc'!A0"}}
    return Assessment.objects.create(regency_id=participant.regency_id, participant=participant, created_by=by,
                                     **(values | kwargs))


def test_assessment_export_health_answers_only_for_deciders(client, people, regency_a, assessor_a, supervisor_a):
    _assessment(people["plain"], assessor_a)
    url = reverse("assessment_export", kwargs={"regency_slug": regency_a.slug})
    client.force_login(assessor_a)
    rows = _sheet(client.get(url))
    header = [str(c) for c in rows[0]]
    assert "Jumlah anggota rumah tangga" in header
    assert not any("dirawat inap" in h for h in header)
    assert "Catatan keputusan" not in header
    assert rows[1][header.index("Catatan asesor")] == "'=cmd|' /C calc'!A0"
    assert "7322010101800002" not in [str(c) for c in rows[1]]
    first = AuditEvent.objects.get(verb="export.assessments")
    assert first.after["rows"] == 1 and first.after["health_answers"] is False

    client.force_login(supervisor_a)
    rows = _sheet(client.get(f"{url}?status=submitted"))
    header = [str(c) for c in rows[0]]
    column = next(i for i, h in enumerate(header) if "dirawat inap" in h)
    assert rows[1][column] == "Ya"
    latest = AuditEvent.objects.filter(verb="export.assessments").latest("pk")
    assert latest.after["health_answers"] is True and latest.after["filters"] == {"status": "submitted"}


def test_assessment_export_refused_to_staff(client, regency_a, staff_a):
    client.force_login(staff_a)
    assert client.get(reverse("assessment_export", kwargs={"regency_slug": regency_a.slug})).status_code == 403


def test_pledge_pbi_and_error_report_exports_are_audited(client, people, regency_a, admin_a):
    from donations.models import Audience, Campaign, CampaignStatus, Kind

    Campaign.objects.create(regency=regency_a, slug="lutra-peduli", title="Luwu Utara Peduli",
                            audience=Audience.PUBLIC, kind=Kind.ONE_TO_ONE, status=CampaignStatus.ACTIVE)
    client.force_login(admin_a)
    assert client.get("/r/luwu-utara/campaigns/lutra-peduli/export.xlsx").status_code == 200
    pledges = AuditEvent.objects.get(verb="export.pledges")
    assert pledges.after["rows"] == 0 and pledges.after["filters"] == {"campaign": "lutra-peduli"}
    assert client.get(reverse("assessment_pbi_export", kwargs={"regency_slug": regency_a.slug})).status_code == 200
    assert AuditEvent.objects.get(verb="export.pbi_referrals").regency == regency_a


def test_error_report_export_is_audited(client, bpjs_a, branch_a):
    from tests.factories import ArrearsImportFactory

    imp = ArrearsImportFactory(branch=branch_a, status="applied", error_count=0)
    client.force_login(bpjs_a)
    for name, fmt in (("import_errors_csv", "csv"), ("import_errors_xlsx", "xlsx")):
        response = client.get(reverse(name, kwargs={"branch_code": "palopo", "import_id": imp.pk}))
        assert response.status_code == 200
        b"".join(response.streaming_content)
        event = AuditEvent.objects.filter(verb="export.import_errors").latest("pk")
        assert event.actor == bpjs_a and event.after["format"] == fmt
        assert event.after["filters"] == {"branch": "palopo", "import_id": imp.pk}
